/**
 * `bftp mv`: renames or moves a remote file or folder.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { isBftpUrl, parseBftpUrl, sameHead } from "../client/url.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession } from "./session.ts";

/** The `mv` subcommand. */
export const mvCommand: Command = {
  name: "mv",
  help: `Usage: bftp mv URL NEWPATH

Renames the file or folder at URL. NEWPATH is absolute in the served root
("/archive/a.txt"), relative to URL's folder ("b.txt"), or a bftp:// URL on
the same server. As with mv, a NEWPATH that ends in "/" or names an existing
folder moves URL into that folder under its own name, and an existing file at
NEWPATH is replaced.

${CONNECTION_HELP}

Examples:
  bftp mv bftp://127.0.0.1:2121/draft.txt final.txt
  bftp mv bftp://127.0.0.1:2121/final.txt /archive/`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, { ...CONNECTION_FLAGS });
    if (positionals.length !== 2) throw new UsageError("Expected URL and NEWPATH");
    if (positionals[1] === "") throw new UsageError("NEWPATH is empty");
    const session = await openSession(positionals[0]!, io, values);
    try {
      const from = session.url.path;
      let to = positionals[1]!;
      if (isBftpUrl(to)) {
        const target = parseBftpUrl(to);
        // A head of the same volume is the same server.
        const onHeads = target.heads.some((t) => session.heads.some((h) => sameHead(h, t)));
        if (!onHeads || target.secure !== session.url.secure) {
          throw new UsageError("Cannot move between servers: NEWPATH must be on the same server");
        }
        to = target.path;
      } else if (!to.startsWith("/")) {
        to = from.slice(0, from.replace(/\/+$/, "").lastIndexOf("/") + 1) + to;
      }
      const name = from.replace(/\/+$/, "").slice(from.replace(/\/+$/, "").lastIndexOf("/") + 1);
      if (to.endsWith("/") || (await session.client.isFolder(to))) {
        to = `${to.replace(/\/+$/, "")}/${name}`;
      }
      await session.client.rename(from, to);
      return 0;
    } finally {
      await session.close();
    }
  },
};
