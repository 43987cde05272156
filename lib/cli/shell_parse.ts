/**
 * Splitting one `bftp shell` command line into words, with the quoting a
 * POSIX shell user expects: blanks separate words; `'...'` keeps everything
 * literally; `"..."` keeps blanks and lets a backslash escape `"` and `\`;
 * outside quotes a backslash escapes any character; an unquoted `#` at the
 * start of a word begins a comment. There is no expansion of any kind.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/**
 * Splits a command line into words.
 *
 * @param line One line, without its newline.
 * @returns The words, quotes and escapes removed (empty for a blank line or a
 * comment). An empty quoted word (`""`) is kept as `""`.
 * @throws {UsageError} On an unclosed quote or a backslash at the very end.
 *
 * @example
 * ```ts
 * import { splitCommandLine } from "./shell_parse.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(splitCommandLine(`get "my file.txt" 'copy of it'`), ["get", "my file.txt", "copy of it"]);
 * deepEqual(splitCommandLine("put a\\ b.txt  # upload"), ["put", "a b.txt"]);
 * ```
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  // A word has started even when it is still empty (after "" or '').
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "#" && !inWord) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`Unclosed ' quote in "${line}"`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (true) {
        if (i >= line.length) throw new UsageError(`Unclosed " quote in "${line}"`);
        const d = line[i]!;
        if (d === '"') break;
        if (d === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new UsageError(`Lone backslash at the end of "${line}"`);
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
