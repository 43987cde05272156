/**
 * `bftp put`: uploads a file, stdin, or (with `-r`) a folder tree. The
 * server stores each file atomically once its SHA-256 checks out.
 *
 * @module
 */

import { basename } from "node:path";
import { uploadFile, uploadTree } from "../client/local.ts";
import { LocalIoError, UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession, progressFor } from "./session.ts";

const HELP = `Usage: bftp put SRC URL [options]

Uploads the local file SRC to URL; "-" reads stdin. A URL ending in "/" puts
into that folder under SRC's name. The server writes a temporary file and
renames it over the target only after the SHA-256 checks out.

Options:
  -r, --recursive   upload a whole folder tree
  --resume          make the upload resumable: if it is cut, the server keeps what
                    arrived (hidden, for 24 hours), and the same command continues from
                    there; SRC is hashed first, and a changed SRC starts over
  -q, --quiet       no progress line

${CONNECTION_HELP}

Examples:
  bftp put report.pdf bftp://127.0.0.1:2121/docs/
  tar c photos | bftp put - bftp://127.0.0.1:2121/photos.tar
  bftp put -r ./photos bftp://127.0.0.1:2121/photos`;

/** The `put` subcommand. */
export const putCommand: Command = {
  name: "put",
  summary: "upload a file, stdin (-) or folder (-r)",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...CONNECTION_FLAGS,
      recursive: { type: "boolean", short: "r" },
      resume: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
    });
    const [src, urlText, extra] = positionals;
    const resume = values.resume === true;
    if (resume && src === "-") throw new UsageError("Cannot resume an upload from stdin");
    if (src === undefined || urlText === undefined) throw new UsageError("Missing SRC or URL");
    if (extra !== undefined) throw new UsageError(`Too many arguments: "${extra}"`);
    let srcIsDir = false;
    if (src !== "-") {
      try {
        srcIsDir = (await Deno.stat(src)).isDirectory;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new LocalIoError(`Cannot read "${src}": not found`);
        }
        throw e;
      }
      if (srcIsDir && values.recursive !== true) {
        throw new UsageError(`"${src}" is a folder: use -r`);
      }
    }
    const session = await openSession(urlText, io, values);
    try {
      const { client, url } = session;
      const progress = progressFor(io, values.quiet === true);
      if (src === "-") {
        if (url.path.endsWith("/")) {
          throw new UsageError("Uploading stdin needs a file name in the URL");
        }
        const transfer = progress?.("stdin", null) ?? {};
        await client.put(url.path, io.stdin, { size: null, ...transfer });
        return 0;
      }
      const name = basename(src.replace(/[\/\\]+$/, "")) || "root";
      const target = url.path.endsWith("/") ? url.path + name : url.path;
      if (srcIsDir) {
        await uploadTree(client, src, target, { progress, resume });
      } else {
        await uploadFile(client, src, target, { progress, resume });
      }
      return 0;
    } finally {
      await session.close();
    }
  },
};
