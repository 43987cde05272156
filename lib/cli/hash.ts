/**
 * `bftp hash`: prints a remote file's SHA-256 as `sha256sum` does.
 *
 * @module
 */

import { basename } from "node:path";
import { UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { type CliIo, writeLine } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession } from "./session.ts";

/** The `hash` subcommand. */
export const hashCommand: Command = {
  name: "hash",
  summary: "print a remote file's SHA-256 (sha256sum format)",
  help: `Usage: bftp hash URL...

Prints "HEX  NAME" for each file, as sha256sum does, so the output can be
checked against local copies with "sha256sum -c". The server computes the hash
(and remembers it while the file is unchanged).

${CONNECTION_HELP}

Example:
  bftp hash bftp://127.0.0.1:2121/backup.tar > backup.sha256
  sha256sum -c backup.sha256`,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, { ...CONNECTION_FLAGS });
    if (positionals.length === 0) throw new UsageError("Missing URL");
    for (const urlText of positionals) {
      const session = await openSession(urlText, io, values);
      try {
        const { sha256 } = await session.client.hash(session.url.path);
        await writeLine(io.stdout, `${sha256}  ${basename(session.url.path)}`);
      } finally {
        await session.close();
      }
    }
    return 0;
  },
};
