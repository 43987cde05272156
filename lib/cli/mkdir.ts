/**
 * `bftp mkdir`: makes a remote folder.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession } from "./session.ts";

/** The `mkdir` subcommand. */
export const mkdirCommand: Command = {
  name: "mkdir",
  summary: "make a remote folder (-p with parents)",
  help: `Usage: bftp mkdir URL [-p]

Makes the folder at URL.

Options:
  -p, --parents   make missing parents too; no error if it exists

${CONNECTION_HELP}

Example:
  bftp mkdir -p bftp://127.0.0.1:2121/a/b/c`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...CONNECTION_FLAGS,
      parents: { type: "boolean", short: "p" },
    });
    if (positionals.length !== 1) throw new UsageError("Expected exactly one URL");
    const session = await openSession(positionals[0]!, io, values);
    try {
      await session.client.mkdir(session.url.path, values.parents === true);
      return 0;
    } finally {
      await session.close();
    }
  },
};
