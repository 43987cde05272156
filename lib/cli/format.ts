/**
 * How entries look on the console: `ls` names, `ls -l` long lines, `stat`
 * blocks. Shared by the one-shot commands and `bftp shell`.
 *
 * @module
 */

import type { Entry } from "../protocol/messages.ts";

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
  return t + s;
}

function time(ms: number | null): string {
  if (ms === null) return "-".padEnd(16);
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/**
 * Formats a listing: one name per line (folders end in `/`), or long lines.
 *
 * @param entries The entries.
 * @param long `ls -l` form: mode, size, time, name.
 * @returns The lines (no trailing newline).
 *
 * @example
 * ```ts
 * import { formatListing } from "./format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const entry = { name: "docs", type: "dir" as const, size: 0, mtime: 0, mode: 0o755 };
 * deepEqual(formatListing([entry], false), "docs/");
 * deepEqual(formatListing([entry], true), "drwxr-xr-x  0  1970-01-01 00:00  docs/");
 * ```
 */
export function formatListing(entries: Entry[], long: boolean): string {
  const name = (e: Entry) => e.type === "dir" ? `${e.name}/` : e.name;
  if (!long) return entries.map(name).join("\n");
  const width = Math.max(0, ...entries.map((e) => String(e.size).length));
  return entries.map((e) =>
    `${modeString(e)}  ${String(e.size).padStart(width)}  ${time(e.mtime)}  ${name(e)}`
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
 * ```
 */
export function formatStat(path: string, entry: Entry): string {
  return [
    `path: ${path}`,
    `type: ${entry.type}`,
    `size: ${entry.size}`,
    `mtime: ${entry.mtime === null ? "-" : new Date(entry.mtime).toISOString()}`,
    `mode: ${entry.mode === null ? "-" : "0" + entry.mode.toString(8).padStart(3, "0")} (${
      modeString(entry)
    })`,
  ].join("\n");
}
