/**
 * `bftp mv`: renames or moves a remote file or folder.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { parseBftpUrl } from "../client/url.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession } from "./session.ts";

/** The `mv` subcommand. */
export const mvCommand: Command = {
  name: "mv",
  summary: "rename or move a remote file or folder",
  help: `Usage: bftp mv URL NEWPATH

Renames the file or folder at URL. NEWPATH is absolute in the served root
("/archive/a.txt"), relative to URL's folder ("b.txt"), or a bftp:// URL on
the same server. An existing file at NEWPATH is replaced, as mv does.

${CONNECTION_HELP}

Example:
  bftp mv bftp://127.0.0.1:2121/draft.txt final.txt`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, { ...CONNECTION_FLAGS });
    if (positionals.length !== 2) throw new UsageError("Expected URL and NEWPATH");
    const session = await openSession(positionals[0]!, io, values);
    try {
      const from = session.url.path;
      let to = positionals[1]!;
      if (/^bftps?:\/\//.test(to)) {
        const target = parseBftpUrl(to);
        if (
          target.hostname !== session.url.hostname || target.port !== session.url.port ||
          target.secure !== session.url.secure
        ) {
          throw new UsageError("Cannot move between servers: NEWPATH must be on the same server");
        }
        to = target.path;
      } else if (!to.startsWith("/")) {
        to = from.slice(0, from.replace(/\/+$/, "").lastIndexOf("/") + 1) + to;
      }
      await session.client.rename(from, to);
      return 0;
    } finally {
      await session.close();
    }
  },
};
