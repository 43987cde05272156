/**
 * The console as the CLI modules see it: streams and terminal flags handed
 * in by `main.ts`, so that only `main.ts` touches the real console and
 * every command can be run in a test with captured streams.
 *
 * @module
 */

import {
  type ByteReader,
  type ByteWriter,
  isViewReader,
  type ViewReader,
} from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { BftpError } from "../errors.ts";
import { replaceUnsafe } from "../terminal_text.ts";

/** The console and environment a command runs with. */
export interface CliIo {
  /** Standard input. */
  stdin: ByteReader;
  /** Standard output: results and data only. */
  stdout: ByteWriter;
  /** Standard error: logs, progress and error lines. */
  stderr: ByteWriter;
  /** Whether stdin is a terminal. */
  stdinIsTerminal: boolean;
  /** Whether stderr is a terminal (progress is shown only then). */
  stderrIsTerminal: boolean;
  /**
   * Whether stdout is a terminal (a peer's text written there is escaped).
   *
   * @default {false}
   */
  stdoutIsTerminal?: boolean | undefined;
  /** The terminal's width in columns, asked at each progress redraw (80 when absent). */
  stderrColumns?: (() => number) | undefined;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Aborted when the process is asked to stop (SIGINT, SIGTERM). */
  signal: AbortSignal;
  /** Switches stdin's raw mode; present only when stdin is a terminal. */
  setRaw?: (raw: boolean) => void;
  /**
   * Sends Ctrl-C to `handler` instead of stopping the command (`null` undoes
   * it): how `bftp shell` stops one transfer and keeps the session. When the
   * handler returns `false`, Ctrl-C stops the command as usual after all.
   */
  trapInterrupt?: (handler: (() => boolean) | null) => void;
}

const encoder = new TextEncoder();

/**
 * Writes a line of text (a newline is added) to a stream of the console.
 *
 * @param out `io.stdout` or `io.stderr`.
 * @param text The line, without its newline.
 *
 * @example
 * ```ts
 * import { writeLine } from "./io.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let text = "";
 * const out = { write: (p: Uint8Array) => (text += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) };
 * await writeLine(out, "hello");
 * deepEqual(text, "hello\n");
 * ```
 */
export async function writeLine(out: ByteWriter, text: string): Promise<void> {
  await writeAll(out, encoder.encode(text + "\n"));
}

/**
 * Writes text as is (no newline added).
 *
 * @param out `io.stdout` or `io.stderr`.
 * @param text The text.
 *
 * @example
 * ```ts
 * import { writeText } from "./io.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let text = "";
 * const out = { write: (p: Uint8Array) => (text += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) };
 * await writeText(out, "a");
 * deepEqual(text, "a");
 * ```
 */
export async function writeText(out: ByteWriter, text: string): Promise<void> {
  await writeAll(out, encoder.encode(text));
}

/**
 * An error message as one line of `bftp: …` output: newlines folded, and no
 * control character a terminal would act on (a server's text can be hostile).
 *
 * @param message The error's message.
 * @returns The line, without its newline.
 *
 * @example
 * ```ts
 * import { errorLine } from "./io.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(errorLine("Not found:\n  \x1b[31m\"a\""), 'bftp: Not found: ?[31m"a"');
 * ```
 */
export function errorLine(message: string): string {
  return `bftp: ${replaceUnsafe(message.replace(/\s*\n\s*/g, " ").trim(), () => "?")}`;
}

/**
 * Wraps a stream source (stdin) so that its end is trusted only if no
 * interrupt comes with it. Ctrl-C signals the whole pipeline at once:
 * `tar c dir | bftp put -` sees tar's stdin end, cut short, and its own
 * SIGINT. If the end were read first, a chunked body would close normally
 * and the receiver would keep a truncated file as whole. At the end, the
 * source waits a moment for a pending signal; if one came, it fails with
 * INTERRUPTED instead of ending.
 *
 * @param source The stream (stdin).
 * @param signal The command's abort signal (Ctrl-C, SIGTERM).
 * @param settleMs How long the end waits for a signal sent with it.
 * @returns The guarded source.
 *
 * @example
 * ```ts
 * import { endUnlessInterrupted } from "./io.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const controller = new AbortController();
 * const empty = { read: () => (controller.abort(), Promise.resolve(null)) };
 * await rejects(endUnlessInterrupted(empty, controller.signal, 1).read(new Uint8Array(1)), /Interrupted/);
 * ```
 */
export function endUnlessInterrupted(
  source: ByteReader,
  signal: AbortSignal,
  settleMs = 50,
): ByteReader {
  const ended = async <T>(got: T | null): Promise<T | null> => {
    if (got !== null) return got;
    // A signal delivered with the end is handled in a later turn of the event loop.
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    if (signal.aborted) throw new BftpError("INTERRUPTED", "Interrupted");
    return null;
  };
  const guarded: ByteReader = { read: async (p) => await ended(await source.read(p)) };
  if (!isViewReader(source)) return guarded;
  // A source that lends its buffers still does, through the guard.
  const views: ViewReader = {
    ...guarded,
    readView: async () => await ended(await source.readView()),
  };
  return views;
}
