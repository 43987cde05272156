/**
 * `bftp rm`: removes remote files.
 *
 * @module
 */

import { removePath } from "../client/remove_tree.ts";
import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP } from "./session.ts";
import { forEachUrl } from "./sources.ts";

/** The `rm` subcommand. */
export const rmCommand: Command = {
  name: "rm",
  help: `Usage: bftp rm [-r] URL...

Removes each file (not folders: see rmdir, or -r). With several URLs, one that
fails is reported and the others go on; the exit code is then the last
failure's.

Options:
  -r, --recursive   remove folders and everything in them (links are removed,
                    never followed); the served root itself, and a path that
                    ends in "." or "..", are refused

${CONNECTION_HELP}

Examples:
  bftp rm bftp://127.0.0.1:2121/old.log
  bftp rm -r bftp://127.0.0.1:2121/old-builds`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...CONNECTION_FLAGS,
      recursive: { type: "boolean", short: "r" },
    });
    if (positionals.length === 0) throw new UsageError("Missing URL");
    const recursive = values.recursive ?? false;
    return await forEachUrl(positionals, io, values, async (client, url) => {
      await removePath(client, url.path, recursive);
    });
  },
};
