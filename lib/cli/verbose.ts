/**
 * `-v`/`--verbose`: each BFTP message the client sends (`> `) and receives
 * (`< `), one line each on stderr, escaped for the terminal as `--json` is.
 * An access token is shown as `***`; file bodies are not messages and are
 * not shown.
 *
 * @module
 */

import type { ByteWriter } from "../framing/types.ts";
import type { MessageObserver } from "../protocol/channel.ts";
import { terminalJson } from "./format.ts";
import { writeLine } from "./io.ts";

/**
 * Formats one message as `-v` shows it.
 *
 * @param direction `"send"` or `"receive"`.
 * @param message A request or reply, or the hello line as text.
 * @returns One line, without a line feed.
 *
 * @example
 * ```ts
 * import { verboseLine } from "./verbose.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(verboseLine("send", { op: "STAT", path: "/a" }), '> {"op":"STAT","path":"/a"}');
 * deepEqual(verboseLine("send", { op: "AUTH", token: "s3cret" }), '> {"op":"AUTH","token":"***"}');
 * deepEqual(verboseLine("receive", { ok: false, code: "X", message: "\x1b[2J" }),
 *   '< {"ok":false,"code":"X","message":"\\u001b[2J"}');
 * deepEqual(verboseLine("send", "BFTP/1"), '> "BFTP/1"');
 * ```
 */
export function verboseLine(direction: "send" | "receive", message: unknown): string {
  const shown = typeof message === "object" && message !== null && "token" in message
    ? { ...message, token: "***" }
    : message;
  return `${direction === "send" ? ">" : "<"} ${terminalJson(shown)}`;
}

/**
 * An observer for {@linkcode BftpClient.connect}'s `onMessage` that writes
 * each message to `out` in order.
 *
 * @param out Where the lines go (stderr).
 * @returns The observer.
 *
 * @example
 * ```ts
 * import { verboseObserver } from "./verbose.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const out = { write: (p: Uint8Array) => (lines.push(new TextDecoder().decode(p)), Promise.resolve(p.byteLength)) };
 * verboseObserver(out)("send", { op: "PWD" });
 * await new Promise((r) => setTimeout(r, 10));
 * deepEqual(lines.join(""), '> {"op":"PWD"}\n');
 * ```
 */
export function verboseObserver(out: ByteWriter): MessageObserver {
  let last = Promise.resolve();
  return (direction, message) => {
    const line = verboseLine(direction, message);
    // A failed write to stderr must not end the transfer it describes.
    last = last.then(() => writeLine(out, line)).catch(() => {});
  };
}
