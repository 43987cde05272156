/**
 * How entries look on the console: `ls` names, `ls -l` long lines, `stat`
 * blocks. Shared by the one-shot commands and `bftp shell`.
 *
 * @module
 */

import type { Entry } from "../protocol/messages.ts";
import { formatBytes } from "../bytes.ts";
import { escapeCharacter, replaceUnsafe } from "../terminal_text.ts";

function modeString(entry: Entry): string {
  const t = entry.type === "dir"
    ? "d"
    : entry.type === "link"
    ? "l"
    : entry.type === "file"
    ? "-"
    : "?";
  if (entry.mode === null) return t + "?????????";
  const bits = "rwxrwxrwx";
  let s = "";
  for (let i = 0; i < 9; i++) s += entry.mode & (1 << (8 - i)) ? bits[i] : "-";
  return t + withSpecialBits(s, entry.mode);
}

/** Set-user-ID, set-group-ID and sticky in the execute places, as ls -l shows them. */
function withSpecialBits(rwx: string, mode: number): string {
  if ((mode & 0o7000) === 0) return rwx;
  const chars = [...rwx];
  const mark = (bit: number, at: number, set: string) => {
    if (mode & bit) chars[at] = chars[at] === "x" ? set : set.toUpperCase();
  };
  mark(0o4000, 2, "s");
  mark(0o2000, 5, "s");
  mark(0o1000, 8, "t");
  return chars.join("");
}

/**
 * Makes a name from the server safe to show on a terminal: every control
 * character, bidirectional mark and invisible character (`terminal_text.ts`)
 * is written as a visible escape, `\xHH` or `\u{HHHH}`, and a backslash as
 * `\\`, so two different names never look the same.
 *
 * @param text A name or path.
 * @returns The text, with nothing a terminal would interpret.
 *
 * @example
 * ```ts
 * import { visible } from "./format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(visible("\x1b]0;evil\x07.txt"), "\\x1b]0;evil\\x07.txt");
 * deepEqual(visible("plain.txt"), "plain.txt");
 * deepEqual(visible("wide\u200bzero"), "wide\\u{200b}zero");
 * ```
 */
export function visible(text: string): string {
  return replaceUnsafe(text.replace(/\\/g, "\\\\"), escapeCharacter);
}

/**
 * JSON for a terminal: `JSON.stringify` escapes C0 controls but leaves DEL,
 * C1 controls, bidirectional marks and invisible characters as they are;
 * this escapes them too, as `\uHHHH`, which JSON reads back as the same
 * string.
 *
 * @param value What to encode.
 * @returns One line of JSON.
 *
 * @example
 * ```ts
 * import { terminalJson } from "./format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const text = terminalJson({ name: "a\u009bb" });
 * deepEqual(text, '{"name":"a\\u009bb"}');
 * deepEqual(JSON.parse(text).name, "a\u009bb");
 * ```
 */
export function terminalJson(value: unknown): string {
  return replaceUnsafe(
    JSON.stringify(value),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** An entry as `--json` gives it: the wire's fields, and the same time and mode for people. */
export interface JsonEntry extends Entry {
  /** `mtime` (milliseconds since the epoch) as ISO-8601 in UTC, or `null` if unknown. */
  mtimeIso: string | null;
  /** `mode` in octal (`"0644"`), or `null` if unknown. */
  modeOctal: string | null;
}

/**
 * An entry for `--json`: `mtime` stays milliseconds since the epoch and
 * `mode` a number, with `mtimeIso` and `modeOctal` beside them.
 *
 * @param entry The entry.
 * @returns The entry with the two readable fields.
 *
 * @example
 * ```ts
 * import { jsonEntry } from "./format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const e = jsonEntry({ name: "a", type: "file", size: 1, mtime: 1500, mode: 0o644 });
 * deepEqual([e.mtimeIso, e.modeOctal], ["1970-01-01T00:00:01.500Z", "0644"]);
 * ```
 */
export function jsonEntry(entry: Entry): JsonEntry {
  return {
    ...entry,
    mtimeIso: entry.mtime === null ? null : new Date(entry.mtime).toISOString(),
    modeOctal: entry.mode === null ? null : entry.mode.toString(8).padStart(4, "0"),
  };
}

function time(ms: number | null): string {
  if (ms === null) return "-".padEnd(16);
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** An entry's size as `ls -l` and `stat` show it: a folder's (or link's) is "-", not a "0" that reads as empty. */
function shownSize(e: Entry, human = false): string {
  return e.type !== "file" ? "-" : human ? formatBytes(e.size) : String(e.size);
}

/**
 * Formats a listing: one name per line (folders end in `/`), or long lines.
 * Names are shown through {@linkcode visible}.
 *
 * @param entries The entries.
 * @param long `ls -l` form: mode, size (`-` for a folder), time, name.
 * @returns The lines (no trailing newline).
 *
 * @example
 * ```ts
 * import { formatListing } from "./format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const entry = { name: "docs", type: "dir" as const, size: 0, mtime: 0, mode: 0o755 };
 * deepEqual(formatListing([entry], false), "docs/");
 * deepEqual(formatListing([entry], true), "drwxr-xr-x  -  1970-01-01 00:00  docs/");
 * const big = { name: "a.bin", type: "file" as const, size: 1536, mtime: 0, mode: 0o644 };
 * deepEqual(formatListing([big], true, true), "-rw-r--r--  1.5 KiB  1970-01-01 00:00  a.bin");
 * ```
 */
export function formatListing(entries: Entry[], long: boolean, human = false): string {
  const name = (e: Entry) => e.type === "dir" ? `${visible(e.name)}/` : visible(e.name);
  if (!long) return entries.map(name).join("\n");
  const size = (e: Entry) => shownSize(e, human);
  // A loop, not Math.max(...): a spread over 150,000 entries exceeds the argument limit.
  let width = 0;
  for (const e of entries) width = Math.max(width, size(e).length);
  return entries.map((e) =>
    `${modeString(e)}  ${size(e).padStart(width)}  ${time(e.mtime)}  ${name(e)}`
  ).join("\n");
}

/**
 * Formats one entry as `stat` shows it.
 *
 * @param path The path asked about.
 * @param entry The entry.
 * @returns Lines of `key: value`.
 *
 * @example
 * ```ts
 * import { formatStat } from "./format.ts";
 * import { ok } from "node:assert/strict";
 *
 * const text = formatStat("/a.txt", { name: "a.txt", type: "file", size: 3, mtime: 0, mode: 0o644 });
 * ok(text.includes("size: 3"));
 * ok(formatStat("/d", { name: "d", type: "dir", size: 0, mtime: 0, mode: 0o755 }).includes("size: -"));
 * ```
 */
export function formatStat(path: string, entry: Entry): string {
  return [
    `path: ${visible(path)}`,
    `type: ${entry.type}`,
    `size: ${shownSize(entry)}`,
    `mtime: ${entry.mtime === null ? "-" : new Date(entry.mtime).toISOString()}`,
    `mode: ${entry.mode === null ? "-" : "0" + entry.mode.toString(8).padStart(3, "0")} (${
      modeString(entry)
    })`,
  ].join("\n");
}
