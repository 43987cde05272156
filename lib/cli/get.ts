/**
 * `bftp get`: downloads a file (or, with `-r`, a folder tree) to a local
 * path or to stdout, verified by SHA-256 and written atomically.
 *
 * @module
 */

import { DEFAULT_WINDOW } from "../client/window.ts";
import { posix } from "../local_path.ts";
import type { BftpClient, TransferOptions } from "../client/client.ts";
import { expandRemoteGlob } from "../client/glob.ts";
import { type BftpUrl, isBftpUrl } from "../client/url.ts";
import { type BftpError, LocalIoError, localIoError, UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import { QUIET_FLAG, RETRY_FLAG, RETRY_HELP, retryFlag } from "./common_flags.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { checkGetDestination, checkSeveralInto, type GetRules, getToLocal } from "./get_rules.ts";
import {
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  failureNotice,
  progressFor,
  skipNotice,
} from "./session.ts";
import { eachSource, SessionPool } from "./sources.ts";
import { treeProgressFor } from "./tree_progress.ts";

const HELP = `Usage: bftp get URL [DEST | -o DEST] [options]
       bftp get URL... [DIR | -] [options]

Downloads the file at URL. DEST is a file or an existing folder (default: the
remote name in the current folder); "-" writes to stdout. The file arrives in a
temporary file and is renamed to DEST only after its checksum (XXH3-128, or
SHA-256: --checksum) checks out; a failed check or a cut connection leaves no
DEST and exits non-zero.

With several URLs (as with cp and scp) each lands in DIR, an existing folder
(default: the current one), or all go to stdout in turn with "-". A URL whose
last part has wildcards (*, ?, [abc]; quote it from the shell) stands for the
names that match in its folder, as scp host:'logs/*.gz' does. URLs on the
same server share one session. A URL that fails is reported and the others go
on; the exit code is then that of the last failure. So does a file of a tree
(-r) that fails, as with rsync and scp -r; the tree then ends with one line
that counts the failures.

Options:
  -r, --recursive   download a whole folder tree: listed first, then on a
                    terminal one progress line for the tree and a summary at
                    the end
  -a, --resume      continue a cut download: what has arrived is kept in
                    ".DEST.bftp-partial" (and ".DEST.bftp-partial.json") beside
                    DEST, and the next "get --resume" fetches only the rest, of
                    the same version of the file (if it changed meanwhile: exit
                    9, and the next run starts afresh), then checks the whole
                    file's checksum;
                    with -r, a DEST holding such files of the tree is where
                    the cut run landed, and the tree goes on there
  -p, --preserve    give each file the server's modification time and permission
                    bits, and a tree's folders theirs, as scp -p does
  -q, --quiet       no progress line, no tree summary
  -o, --output DEST the same as giving DEST (curl's habit): a file, a
                    folder or "-"
${RETRY_HELP}

${CONNECTION_HELP}

Examples:
  bftp get bftp://127.0.0.1:2121/docs/report.pdf
  bftp get bftp://127.0.0.1:2121/backup.tar - | tar x
  bftp get --resume bftps://files.example.org/big.iso --fingerprint AB:CD:...
  bftp get -r bftp://127.0.0.1:2121/photos ./photos
  bftp get bftp://127.0.0.1:2121/a.txt bftp://127.0.0.1:2121/b.txt ./inbox
  bftp get 'bftp://127.0.0.1:2121/logs/*.gz' ./logs`;

/**
 * Stdout as a download's sink. A failed write (the reader of a pipe went
 * away, as with `| head`) is a local error, and it ends the download at once
 * through `abandon` instead of receiving the rest of the body for nothing.
 */
function stdoutSink(io: CliIo, abandon: () => void) {
  let failure: BftpError | null = null;
  return {
    get failure() {
      return failure;
    },
    write: async (p: Uint8Array): Promise<number> => {
      if (failure) throw failure;
      try {
        return await io.stdout.write(p);
      } catch (e) {
        const broken = e instanceof Deno.errors.BrokenPipe ||
          e instanceof Deno.errors.ConnectionReset;
        // Stdout is the user's: any failure to write there (a full disk, a closed pipe) is local.
        failure = broken
          ? new LocalIoError("Cannot write to the output: broken pipe", { cause: e })
          : localIoError("write to", "stdout", e);
        abandon();
        throw failure;
      }
    },
  };
}

/** Downloads one remote file to stdout, with progress on stderr as curl does. */
async function getToStdout(
  client: BftpClient,
  remote: string,
  io: CliIo,
  progress: GetRules["progress"],
): Promise<void> {
  const sink = stdoutSink(io, () => client.close());
  let transfer: TransferOptions = {};
  try {
    await client.get(remote, sink, {
      onStart: (size) => {
        transfer = progress?.(posix.basename(remote), size) ?? {};
        transfer.onStart?.(size);
      },
      onProgress: (n) => transfer.onProgress?.(n),
    });
  } catch (e) {
    throw sink.failure ?? e;
  }
}

/** The `get` subcommand. */
export const getCommand: Command = {
  name: "get",
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
      output: { type: "string", short: "o" },
    });
    if (positionals.length === 0) throw new UsageError("Missing URL");
    const last = positionals.at(-1)!;
    const [urls, given] = positionals.length > 1 && !isBftpUrl(last)
      ? [positionals.slice(0, -1), last]
      : [positionals, undefined];
    const output = values.output;
    if (output !== undefined && given !== undefined) {
      throw new UsageError(`Give the destination once: -o "${output}" or "${given}"`);
    }
    const destArg = output ?? given;
    const rules: GetRules = {
      recursive: values.recursive ?? false,
      resume: values.resume ?? false,
      resumeHint: true,
      preserve: values.preserve ?? false,
      progress: progressFor(io, values.quiet ?? false),
      treeProgress: treeProgressFor(io, values.quiet ?? false),
      onSkip: skipNotice(io),
      onFailure: failureNotice(io),
      written: new Set<string>(),
      landings: new Map<string, string>(),
    };
    checkGetDestination(destArg, rules);
    const retries = retryFlag(values.retry);
    if (retries > 0 && destArg === "-") {
      throw new UsageError(
        "Cannot retry a download to stdout: what was written cannot be taken back",
      );
    }
    const sessions = new SessionPool(io, values, { retries });
    try {
      // Remote wildcards ('URL/logs/*.gz'), as scp takes them: each URL parsed once.
      const sources: { url: BftpUrl; text: string }[] = [];
      for (const urlText of urls) {
        const { client, url } = await sessions.open(urlText);
        const prefix = urlText.slice(0, urlText.length - url.path.length);
        for (const path of await expandRemoteGlob(client, url.path)) {
          sources.push({
            url: { ...url, path },
            text: path === url.path ? urlText : prefix + path,
          });
        }
      }
      await checkSeveralInto(sources.length, destArg, "with several URLs DEST must be one");
      // Several files at once, pipelined, unless a progress line per file is shown or the
      // bytes go to stdout, one file after another.
      // Two sources of one name go one after the other, so that the first one is kept and the
      // second refused ("just written"), as cp does, whichever answer comes first.
      const shown = rules.progress !== undefined || rules.treeProgress !== undefined;
      const names = new Set(sources.map((s) => posix.basename(s.url.path)));
      const window = destArg === "-" || shown || names.size < sources.length ? 1 : DEFAULT_WINDOW;
      // A cut resumable download of a file continues on the next head, if any.
      const continued = rules.resume && !rules.recursive;
      return await eachSource(
        sources,
        io,
        (source) =>
          sessions.run(source.url, async (client, url, again) => {
            if (destArg === "-") return await getToStdout(client, url.path, io, rules.progress);
            // A continuation is the same download: not a second one into a file just written.
            const checked = again ? { ...rules, written: undefined } : rules;
            await getToLocal(client, url.path, destArg, checked, source.text);
          }, continued),
        { window },
      );
    } finally {
      await sessions.close();
    }
  },
};
