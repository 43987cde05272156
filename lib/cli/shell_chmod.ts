/**
 * `chmod MODE PATH...` in `bftp shell`, as sftp has it: gives remote files
 * and folders octal permission bits (`644`, `0755`) with SETSTAT, wildcards
 * in each PATH's last part, the requests pipelined.
 *
 * @module
 */

import { ProtocolError, UsageError } from "../errors.ts";
import { parseFlags } from "./args.ts";
import { eachPath, exactly, expandAll, type ShellCommand } from "./shell_command.ts";

/**
 * Reads an octal mode as sftp's `chmod` takes it: up to four octal digits,
 * permission bits only (no set-user-ID, set-group-ID or sticky bit, which
 * SETSTAT does not carry).
 *
 * @param text What was typed, such as `644` or `0755`.
 * @returns The bits.
 * @throws {UsageError} When it is not such a mode.
 *
 * @example
 * ```ts
 * import { parseMode } from "./shell_chmod.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(parseMode("644"), 0o644);
 * equal(parseMode("0755"), 0o755);
 * throws(() => parseMode("u+x"), /octal/);
 * throws(() => parseMode("4755"), /permission bits/);
 * ```
 */
export function parseMode(text: string): number {
  if (!/^[0-7]{1,4}$/.test(text)) {
    throw new UsageError(`Invalid mode "${text}": give octal permission bits, such as 644 or 0755`);
  }
  const mode = parseInt(text, 8);
  if (mode > 0o777) {
    throw new UsageError(
      `Invalid mode "${text}": only the permission bits (at most 777), not set-ID or sticky bits`,
    );
  }
  return mode;
}

/** `chmod MODE PATH...`: gives remote files and folders permission bits. */
export const chmod: ShellCommand = {
  name: "chmod",
  aliases: [],
  usage: "chmod MODE PATH...",
  summary: "give remote files or folders octal permission bits (644, 0755), as sftp's chmod",
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 2, Infinity, "MODE or PATH");
    const [modeText, ...patterns] = positionals as [string, ...string[]];
    const mode = parseMode(modeText);
    if (!ctx.client.supports("setstat")) {
      throw new ProtocolError(
        "The server cannot change permission bits: it does not offer SETSTAT (an older bftp)",
      );
    }
    const paths = await expandAll(ctx, patterns);
    return await eachPath(ctx, paths, (path) => ctx.client.setStat(path, { mode }));
  },
};
