/**
 * `bftp put`: uploads a file, stdin, or (with `-r`) a folder tree. The
 * server stores each file atomically once its SHA-256 checks out.
 *
 * @module
 */

import { basename } from "../local_path.ts";
import { DEFAULT_WINDOW } from "../client/window.ts";
import type { BftpUrl } from "../client/url.ts";
import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import { QUIET_FLAG, RETRY_FLAG, RETRY_HELP, retryFlag } from "./common_flags.ts";
import type { Command } from "./command.ts";
import { type CliIo, endUnlessInterrupted } from "./io.ts";
import { putFromLocal, type PutRules, putSourceKind } from "./put_rules.ts";
import {
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  failureNotice,
  progressFor,
  skipNotice,
} from "./session.ts";
import { claimTarget, eachSource, SessionPool } from "./sources.ts";
import { treeProgressFor } from "./tree_progress.ts";

const HELP = `Usage: bftp put SRC URL [options]
       bftp put SRC... URL [options]

Uploads the local file SRC to URL; "-" reads stdin (which neither --resume
nor --retry can take: what was read cannot be read again). A URL ending in
"/", or naming a folder that exists on the server, puts into that folder
under SRC's name: "put -r site URL/www" makes www/site when www exists (as
cp -r, scp -r and get -r do; a trailing "/" on SRC changes nothing), and www
itself when not.
The server writes a temporary file and renames it over the target only after
the body's checksum (XXH3-128, or SHA-256: --checksum) checks out.

With several SRC (as with cp and scp) the URL must be a folder on the server;
each SRC goes into it under its own name, over one session. A SRC that fails is
reported and the others go on; the exit code is then that of the last failure.
So does a file of a tree (-r) that fails, as with rsync and scp -r; the tree
then ends with one line that counts the failures.

Options:
  -r, --recursive   upload a whole folder tree: listed first, then on a terminal
                    one progress line for the tree and a summary at the end
  -a, --resume      make the upload resumable: if it is cut, the server keeps
                    what arrived (hidden, for 24 hours), and the same command
                    continues from there; SRC is hashed first, and a changed
                    SRC starts over
  -p, --preserve    ask the server to give each file the local modification time
                    and permission bits, and a tree's folders theirs, as scp -p
                    does
  -q, --quiet       no progress line, no tree summary
${RETRY_HELP}

${CONNECTION_HELP}

Examples:
  bftp put report.pdf bftp://127.0.0.1:2121/docs/
  tar c photos | bftp put - bftp://127.0.0.1:2121/photos.tar
  bftp put -r ./photos bftp://127.0.0.1:2121/photos
  bftp put *.log bftp://127.0.0.1:2121/logs/`;

/** The `put` subcommand. */
export const putCommand: Command = {
  name: "put",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...CONNECTION_FLAGS,
      recursive: { type: "boolean", short: "r" },
      // -a as sftp's (and this shell's) get -a and put -a.
      resume: { type: "boolean", short: "a" },
      preserve: { type: "boolean", short: "p" },
      ...QUIET_FLAG,
      ...RETRY_FLAG,
    });
    if (positionals.length < 2) throw new UsageError("Missing SRC or URL");
    const srcs = positionals.slice(0, -1);
    const urlText = positionals.at(-1)!;
    const rules: PutRules = {
      recursive: values.recursive ?? false,
      resume: values.resume ?? false,
      preserve: values.preserve ?? false,
      progress: progressFor(io, values.quiet ?? false),
      treeProgress: treeProgressFor(io, values.quiet ?? false),
      onSkip: skipNotice(io),
      onFailure: failureNotice(io),
      landings: new Map<string, string>(),
    };
    if (srcs.includes("-")) {
      if (srcs.length > 1) throw new UsageError('Stdin ("-") can only be the one SRC');
      if (rules.resume) throw new UsageError("Cannot resume an upload from stdin");
    }
    const retries = retryFlag(values.retry);
    if (retries > 0 && srcs.includes("-")) {
      throw new UsageError("Cannot retry an upload from stdin: what was read cannot be read again");
    }
    const sessions = new SessionPool(io, values, { retries });
    // The URL is parsed at its first use (after the local checks), and then kept.
    let parsed: BftpUrl | undefined;
    const open = async () => {
      const session = await sessions.open(parsed ?? urlText);
      parsed = session.url;
      return session;
    };
    try {
      // With several SRC the URL must name a folder on the server: known before any upload.
      let sharedFolder: string | null = null;
      if (srcs.length > 1) {
        const { client, url } = await open();
        // A missing folder is NOT_FOUND (exit 10), as for one SRC; a file there, a usage error.
        sharedFolder = url.path === "/" || (await client.stat(url.path)).type === "dir"
          ? url.path.replace(/\/?$/, "/")
          : null;
        if (sharedFolder === null) {
          throw new UsageError(
            `"${url.path}" is not a folder on the server: with several SRC the URL must name one`,
          );
        }
      }
      // Several files at once, pipelined, unless a progress line per file is shown.
      // Two sources of one name go one after the other (the second is refused as cp does).
      const shown = rules.progress !== undefined || rules.treeProgress !== undefined;
      const names = new Set(srcs.map((s) => basename(s)));
      const window = shown || srcs.includes("-") || names.size < srcs.length ? 1 : DEFAULT_WINDOW;
      const written = new Set<string>();
      return await eachSource(srcs, io, async (src) => {
        const kind = src === "-" ? null : await putSourceKind(src, rules);
        // Once per source, not again when a cut upload goes on: the second of one name is refused.
        if (kind === "file" && sharedFolder !== null) {
          claimTarget(written, `${sharedFolder}${basename(src)}`, src);
        }
        // A cut resumable upload of a file continues on the next head, if any.
        return await sessions.run(parsed ?? urlText, async (client, url) => {
          parsed = url;
          if (kind === null) {
            if (url.path.endsWith("/")) {
              throw new UsageError("Uploading stdin needs a file name in the URL");
            }
            const transfer = rules.progress?.("stdin", null) ?? {};
            const stdin = endUnlessInterrupted(io.stdin, io.signal);
            await client.put(url.path, stdin, { size: null, ...transfer });
            // Its line ends with its last figures (a size nothing knew beforehand).
            transfer.onEnd?.();
            return;
          }
          await putFromLocal(client, src, kind, sharedFolder ?? url.path, rules);
        }, rules.resume === true && kind === "file");
      }, { window });
    } finally {
      await sessions.close();
    }
  },
};
