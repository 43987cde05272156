/**
 * Tab completion for `bftp shell`: the first word completes to a command
 * name, the others to names in a folder on the server (or, for `lcd`, `lls`
 * and the source of `put`, a local folder), listed when Tab is pressed.
 *
 * @module
 */

import { splitCommandLine } from "./shell_parse.ts";
import { visible } from "./format.ts";

/** A name in a folder, for completion. */
export interface CompletionEntry {
  /** The name. */
  name: string;
  /** Whether it is a folder (completed with a trailing `/`). */
  dir: boolean;
}

/** Where completions come from. */
export interface CompletionSources {
  /** The command names. */
  commands: readonly string[];
  /** Lists a folder on the server (`""` is the current one). */
  remote(dir: string): Promise<CompletionEntry[]>;
  /** Lists a local folder (`""` is the current one). */
  local(dir: string): Promise<CompletionEntry[]>;
}

/** The completions of the word at the cursor. */
export interface Completion {
  /** The word at the cursor, as typed (escapes, quotes and all). */
  typed: string;
  /** The same word as the command will take it (unescaped, unquoted). */
  word: string;
  /** The whole words it may become, unescaped; folders end in `/`. */
  candidates: string[];
}

/** The commands whose arguments (or first argument) are local paths. */
const LOCAL_FIRST = new Set(["lcd", "lls", "put", "sync"]);

/** Of them, those whose later arguments are remote paths. */
const THEN_REMOTE = new Set(["put", "sync"]);

/** The commands that take only folders. */
const FOLDERS_ONLY = new Set(["cd", "lcd", "mkdir", "rmdir"]);

/**
 * Finds what the word before the cursor may complete to.
 *
 * @param before The line up to the cursor.
 * @param sources The command names and the folder listings.
 * @returns The word as typed and its candidates (none when listing fails).
 *
 * @example
 * ```ts
 * import { completeWord } from "./completion.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const sources = {
 *   commands: ["get", "put", "pwd"],
 *   remote: () => Promise.resolve([{ name: "docs", dir: true }, { name: "a.txt", dir: false }]),
 *   local: () => Promise.resolve([]),
 * };
 * deepEqual(await completeWord("p", sources), { typed: "p", word: "p", candidates: ["put", "pwd"] });
 * deepEqual((await completeWord("get d", sources)).candidates, ["docs/"]);
 * deepEqual((await completeWord('get "do', sources)).candidates, ["docs/"]);
 * // sync's LOCAL is a local path, its REMOTE a remote one.
 * deepEqual((await completeWord("sync d", sources)).candidates, []);
 * deepEqual((await completeWord("sync site d", sources)).candidates, ["docs/"]);
 * ```
 */
export async function completeWord(
  before: string,
  sources: CompletionSources,
): Promise<Completion> {
  const { start, quote } = wordStart(before);
  const typed = before.slice(start);
  let earlier: string[];
  let word: string;
  try {
    earlier = splitCommandLine(before.slice(0, start));
    // A quote still open at the cursor (`get "my fi`) is closed to read the word.
    word = typed === "" ? "" : splitCommandLine(typed + (quote ?? ""))[0] ?? "";
  } catch {
    return { typed, word: typed, candidates: [] };
  }
  if (earlier.length === 0) {
    return { typed, word, candidates: sources.commands.filter((c) => c.startsWith(word)) };
  }
  const positionals = earlier.slice(1).filter((w) => !w.startsWith("-"));
  const command = earlier[0]!;
  const local = LOCAL_FIRST.has(command) && (!THEN_REMOTE.has(command) || positionals.length === 0);
  const slash = word.lastIndexOf("/");
  const dir = word.slice(0, slash + 1);
  const prefix = word.slice(slash + 1);
  let entries: CompletionEntry[];
  try {
    entries = await (local ? sources.local(dir) : sources.remote(dir));
  } catch {
    return { typed, word, candidates: [] };
  }
  const candidates = entries
    .filter((e) => e.name.startsWith(prefix) && (e.dir || !FOLDERS_ONLY.has(command)))
    // A name a terminal would act on is not typed into the line, nor one no request can carry
    // (a backslash: the server refuses the path).
    .filter((e) =>
      visible(e.name) === e.name.replace(/\\/g, "\\\\") && (local || !e.name.includes("\\"))
    )
    .map((e) => dir + e.name + (e.dir ? "/" : ""))
    .sort();
  return { typed, word, candidates };
}

/**
 * Where the word at the end of `before` starts (after the last blank that
 * is neither escaped nor quoted), and the quote still open at its end.
 */
function wordStart(before: string): { start: number; quote: string | null } {
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (quote === "'") {
      if (c === "'") quote = null;
    } else if (c === "\\") {
      i++;
    } else if (quote === '"') {
      if (c === '"') quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === " " || c === "\t") {
      start = i + 1;
    }
  }
  return { start, quote };
}

/**
 * The longest prefix every word shares.
 *
 * @param words The words (at least one).
 * @returns Their common prefix.
 *
 * @example
 * ```ts
 * import { commonPrefix } from "./completion.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(commonPrefix(["report-1.txt", "report-2.txt"]), "report-");
 * ```
 */
export function commonPrefix(words: readonly string[]): string {
  let prefix = words[0] ?? "";
  for (const w of words) {
    while (!w.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  // Whole characters only: never the first half of a surrogate pair (an emoji).
  return prefix.isWellFormed() ? prefix : prefix.slice(0, -1);
}

/**
 * A word as it is typed on a command line: blanks, quotes, `#` and
 * backslashes escaped with a backslash.
 *
 * @param word The word.
 * @returns The escaped word.
 *
 * @example
 * ```ts
 * import { escapeWord } from "./completion.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(escapeWord("my file.txt"), "my\\ file.txt");
 * ```
 */
export function escapeWord(word: string): string {
  return word.replace(/[\s'"\\#]/g, "\\$&");
}
