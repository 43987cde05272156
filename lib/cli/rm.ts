/**
 * `bftp rm`: removes remote files.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP } from "./session.ts";
import { forEachUrl } from "./sources.ts";

/** The `rm` subcommand. */
export const rmCommand: Command = {
  name: "rm",
  summary: "remove remote files",
  help: `Usage: bftp rm URL...

Removes each file (not folders: see rmdir). With several URLs, one that fails
is reported and the others go on; the exit code is then the last failure's.

${CONNECTION_HELP}

Example:
  bftp rm bftp://127.0.0.1:2121/old.log`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, { ...CONNECTION_FLAGS });
    if (positionals.length === 0) throw new UsageError("Missing URL");
    return await forEachUrl(positionals, io, values, (client, url) => client.delete(url.path));
  },
};
