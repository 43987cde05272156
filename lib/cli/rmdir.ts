/**
 * `bftp rmdir`: removes an empty remote folder.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP } from "./session.ts";
import { forEachUrl } from "./sources.ts";

/** The `rmdir` subcommand. */
export const rmdirCommand: Command = {
  name: "rmdir",
  help: `Usage: bftp rmdir URL...

Removes the folder at each URL, in order; it must be empty (exit 14
otherwise). With several URLs, one that fails is reported and the others go
on; the exit code is then the last failure's.

${CONNECTION_HELP}

Example:
  bftp rmdir bftp://127.0.0.1:2121/a/b/c`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, { ...CONNECTION_FLAGS });
    if (positionals.length === 0) throw new UsageError("Missing URL");
    return await forEachUrl(positionals, io, values, (client, url) => client.rmdir(url.path));
  },
};
