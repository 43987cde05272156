/**
 * The history file of `bftp shell` on a terminal: the lines typed in
 * earlier sessions, one per line, so that Up reaches them too. A
 * convenience only: a file that cannot be read or written is left alone.
 *
 * @module
 */

import { join } from "../local_path.ts";

/** How many lines the file keeps. */
export const HISTORY_LINES = 1000;

/**
 * Where the history is kept: `$HOME/.bftp_history`, or nowhere without a home.
 *
 * @param env Reads an environment variable.
 * @returns The path, or `undefined`.
 *
 * @example
 * ```ts
 * import { historyPath } from "./history.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(historyPath((n) => (n === "HOME" ? "/home/ann" : undefined)), "/home/ann/.bftp_history");
 * deepEqual(historyPath(() => undefined), undefined);
 * ```
 */
export function historyPath(env: (name: string) => string | undefined): string | undefined {
  const home = env("HOME");
  return home ? join(home, ".bftp_history") : undefined;
}

/**
 * Reads the history file.
 *
 * @param path The file.
 * @returns Its last {@linkcode HISTORY_LINES} lines, oldest first (none when it cannot be read).
 *
 * @example
 * ```ts
 * import { appendHistory, loadHistory } from "./history.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await appendHistory(path, "ls");
 * deepEqual(await loadHistory(path), ["ls"]);
 * await Deno.remove(path);
 * ```
 */
export async function loadHistory(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Error) return [];
    throw e;
  }
  return text.split("\n").filter((l) => l !== "").slice(-HISTORY_LINES);
}

/**
 * Adds a line to the history file (made readable by its owner only), and
 * trims the file when it has grown to twice {@linkcode HISTORY_LINES}.
 *
 * @param path The file.
 * @param line The line typed.
 *
 * @example
 * ```ts
 * import { appendHistory, loadHistory } from "./history.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await appendHistory(path, "cd docs");
 * await appendHistory(path, "pwd");
 * deepEqual(await loadHistory(path), ["cd docs", "pwd"]);
 * await Deno.remove(path);
 * ```
 */
export async function appendHistory(path: string, line: string): Promise<void> {
  if (line.includes("\n") || line.trim() === "") return;
  try {
    await Deno.writeTextFile(path, line + "\n", { append: true, mode: 0o600 });
    const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
    if (lines.length >= 2 * HISTORY_LINES) {
      await Deno.writeTextFile(path, lines.slice(-HISTORY_LINES).join("\n") + "\n", {
        mode: 0o600,
      });
    }
  } catch (e) {
    if (!(e instanceof Error)) throw e;
  }
}
