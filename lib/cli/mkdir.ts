/**
 * `bftp mkdir`: makes a remote folder.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP } from "./session.ts";
import { forEachUrl } from "./sources.ts";

/** The `mkdir` subcommand. */
export const mkdirCommand: Command = {
  name: "mkdir",
  help: `Usage: bftp mkdir URL... [-p]

Makes the folder at each URL, in order. With several URLs, one that fails is
reported and the others go on; the exit code is then the last failure's.

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
    if (positionals.length === 0) throw new UsageError("Missing URL");
    return await forEachUrl(
      positionals,
      io,
      values,
      (client, url) => client.mkdir(url.path, values.parents ?? false),
    );
  },
};
