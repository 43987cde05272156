/**
 * How wide text is on a terminal, fitting a name into a given width by
 * cutting it in the middle, as scp does with long names, and wrapping
 * words into lines of a given width.
 *
 * @module
 */

/** East Asian wide and fullwidth ranges (two columns each). */
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

function charWidth(code: number): number {
  if (code < 0x300) return 1;
  // Combining marks and zero-width joiners take no column of their own.
  if ((code >= 0x300 && code <= 0x36f) || code === 0x200b || code === 0x200d) return 0;
  return WIDE.some(([lo, hi]) => code >= lo && code <= hi) ? 2 : 1;
}

/**
 * The number of terminal columns `text` takes: East Asian wide characters
 * count 2, combining marks 0, everything else 1.
 *
 * @param text Text without control characters.
 * @returns Its width in columns.
 *
 * @example
 * ```ts
 * import { displayWidth } from "./text_width.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(displayWidth("abc"), 3);
 * deepEqual(displayWidth("日本"), 4);
 * ```
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const c of text) width += charWidth(c.codePointAt(0)!);
  return width;
}

/**
 * Fits `text` into `width` columns: text that fits is returned as is;
 * longer text keeps its start and its end with `…` between them (the end
 * of a file name tells most). Below 2 columns only the end is kept.
 *
 * @param text Text without control characters.
 * @param width Columns available.
 * @returns Text at most `width` columns wide.
 *
 * @example
 * ```ts
 * import { fitWidth } from "./text_width.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(fitWidth("short.txt", 20), "short.txt");
 * deepEqual(fitWidth("a-very-long-file-name.tar.gz", 11), "a-ve…tar.gz");
 * ```
 */
export function fitWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return "";
  const chars = [...text];
  const room = width - 1;
  const headRoom = Math.floor(room * 2 / 5);
  let head = "";
  let used = 0;
  for (const c of chars) {
    const w = charWidth(c.codePointAt(0)!);
    if (used + w > headRoom) break;
    head += c;
    used += w;
  }
  let tail = "";
  for (let i = chars.length - 1; i >= 0; i--) {
    const c = chars[i]!;
    const w = charWidth(c.codePointAt(0)!);
    if (used + w > room) break;
    tail = c + tail;
    used += w;
  }
  return `${head}…${tail}`;
}

/**
 * Wraps `text` into lines of at most `width` columns, breaking at single
 * spaces between words (a run of spaces, as in `"HASH  PATH"`, is kept
 * whole); a word wider than `width` gets a line of its own, uncut.
 *
 * @param text One paragraph, without control characters.
 * @param width Columns a line may take.
 * @returns The lines (one empty line for empty text).
 *
 * @example
 * ```ts
 * import { wrapWords } from "./text_width.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(wrapWords("make REMOTE match LOCAL", 12), ["make REMOTE", "match LOCAL"]);
 * deepEqual(wrapWords("a-very-long-word b", 5), ["a-very-long-word", "b"]);
 * deepEqual(wrapWords('print "HASH  PATH"', 8), ["print", '"HASH  PATH"']);
 * ```
 */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/(?<=\S) (?=\S)/)) {
    if (line !== "" && displayWidth(line) + 1 + displayWidth(word) > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** The columns every help text fits in: a standard terminal's width. */
export const HELP_COLUMNS = 80;

/**
 * A help text's two-column rows (`  NAME  what it does`): the names padded
 * to one column, each description wrapped under its own column so that no
 * line passes {@linkcode HELP_COLUMNS}.
 *
 * @param rows Each row's name (or usage) and description.
 * @param minWidth The narrowest the name column may be.
 * @returns The lines, a long description taking several.
 *
 * @example
 * ```ts
 * import { helpRows } from "./text_width.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(helpRows([["ls", "list"], ["get", "download"]]), ["  ls   list", "  get  download"]);
 * deepEqual(helpRows([["x", "word ".repeat(20).trim()]]).length, 2);
 * ```
 */
export function helpRows(rows: ReadonlyArray<readonly [string, string]>, minWidth = 0): string[] {
  const width = Math.max(minWidth, ...rows.map(([name]) => displayWidth(name)));
  const indent = " ".repeat(width + 4);
  return rows.flatMap(([name, text]) => {
    const [first, ...more] = wrapWords(text, HELP_COLUMNS - indent.length);
    return [`  ${name.padEnd(width)}  ${first}`, ...more.map((line) => indent + line)];
  });
}
