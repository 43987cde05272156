/**
 * `bftp stat`: describes a remote file or folder.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { formatStat, jsonEntry, terminalJson } from "./format.ts";
import { type CliIo, writeLine } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession } from "./session.ts";

/** The `stat` subcommand. */
export const statCommand: Command = {
  name: "stat",
  help: `Usage: bftp stat URL [--json]

Prints the type, size, modification time and mode of the file or folder at
URL. Exits 10 when it does not exist, so scripts can test for a file.

Options:
  --json   one JSON object {name, type, size, mtime, mode, mtimeIso, modeOctal}
           (mtime: milliseconds since the epoch; mtimeIso: ISO-8601 UTC;
           modeOctal: "0644")

${CONNECTION_HELP}

Example:
  bftp stat bftp://127.0.0.1:2121/docs/report.pdf`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      json: { type: "boolean" },
      ...CONNECTION_FLAGS,
    });
    if (positionals.length !== 1) throw new UsageError("Expected exactly one URL");
    const session = await openSession(positionals[0]!, io, values);
    try {
      const entry = await session.client.stat(session.url.path);
      await writeLine(
        io.stdout,
        values.json ? terminalJson(jsonEntry(entry)) : formatStat(session.url.path, entry),
      );
      return 0;
    } finally {
      await session.close();
    }
  },
};
