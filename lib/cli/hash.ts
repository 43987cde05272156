/**
 * `bftp hash`: prints a remote file's SHA-256 as `sha256sum` does.
 *
 * @module
 */

import { basename } from "../local_path.ts";
import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { type CliIo, writeLine } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP } from "./session.ts";
import { forEachUrl } from "./sources.ts";
import { DEFAULT_WINDOW } from "../client/window.ts";

/** The `hash` subcommand. */
export const hashCommand: Command = {
  name: "hash",
  help: `Usage: bftp hash URL...

Prints "HEX  NAME" for each file, as sha256sum does, so the output can be
checked against local copies with "sha256sum -c" (NAME is the file's name, as
"bftp get" saves it). The server computes the hash (and remembers it while the
file is unchanged). As with sha256sum, a URL that fails is reported and the
others go on; the exit code is then the last failure's.

${CONNECTION_HELP}

Example (the file fetched, then checked here against the server's hash):
  bftp get bftp://127.0.0.1:2121/backup.tar
  bftp hash bftp://127.0.0.1:2121/backup.tar > backup.sha256
  sha256sum -c backup.sha256`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, { ...CONNECTION_FLAGS });
    if (positionals.length === 0) throw new UsageError("Missing URL");
    // Pipelined: the hashes of many URLs are asked at once, and printed in order.
    return await forEachUrl(positionals, io, values, (client, url) => client.hash(url.path), {
      window: DEFAULT_WINDOW,
      finish: ({ sha256 }, url) => writeLine(io.stdout, `${sha256}  ${basename(url.path)}`),
    });
  },
};
