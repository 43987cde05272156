/**
 * `bftp rmdir`: removes an empty remote folder.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession } from "./session.ts";

/** The `rmdir` subcommand. */
export const rmdirCommand: Command = {
  name: "rmdir",
  summary: "remove an empty remote folder",
  help: `Usage: bftp rmdir URL

Removes the folder at URL; it must be empty (exit 14 otherwise).

${CONNECTION_HELP}

Example:
  bftp rmdir bftp://127.0.0.1:2121/a/b/c`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, { ...CONNECTION_FLAGS });
    if (positionals.length !== 1) throw new UsageError("Expected exactly one URL");
    const session = await openSession(positionals[0]!, io, values);
    try {
      await session.client.rmdir(session.url.path);
      return 0;
    } finally {
      await session.close();
    }
  },
};
