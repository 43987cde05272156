/**
 * `bftp ls`: lists a remote folder (or describes one file).
 *
 * @module
 */

import { RemoteError, UsageError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { formatListing, jsonEntry, terminalJson } from "./format.ts";
import { type CliIo, writeLine } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession } from "./session.ts";

/** The `ls` subcommand. */
export const lsCommand: Command = {
  name: "ls",
  help: `Usage: bftp ls URL [-l] [-h] [--json]

Lists the folder at URL, one name per line (folders end in "/"). A URL that
names a file lists just that file.

Options:
  -l, --long   mode, size ("-" for a folder), modification time (UTC)
               and name
  -h, --human-readable
               sizes in KiB, MiB, GiB with -l (in a group: "ls -lh";
               "-h" on its own is this help)
  --json       a JSON array of
               {name, type, size, mtime, mode, mtimeIso, modeOctal}:
               mtime in milliseconds since the epoch, mode a number; mtimeIso
               the same time in ISO-8601 UTC, modeOctal the mode as "0644";
               and "link": true for a link the server shows as what it
               points to

${CONNECTION_HELP}

Example:
  bftp ls -l bftp://127.0.0.1:2121/docs`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...CONNECTION_FLAGS,
      long: { type: "boolean", short: "l" },
      "human-readable": { type: "boolean", short: "h" },
      json: { type: "boolean" },
    });
    if (positionals.length !== 1) throw new UsageError("Expected exactly one URL");
    const session = await openSession(positionals[0]!, io, values);
    try {
      let entries: Entry[];
      try {
        entries = await session.client.list(session.url.path);
      } catch (e) {
        if (!(e instanceof RemoteError && e.code === "NOT_DIR")) throw e;
        entries = [await session.client.stat(session.url.path)];
      }
      const text = values.json
        ? terminalJson(entries.map(jsonEntry))
        : formatListing(entries, values.long ?? false, values["human-readable"] ?? false);
      if (text !== "") await writeLine(io.stdout, text);
      return 0;
    } finally {
      await session.close();
    }
  },
};
