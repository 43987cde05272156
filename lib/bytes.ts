/**
 * Byte counts for people: binary units, one decimal.
 *
 * @module
 */

/**
 * Formats a byte count with binary units.
 *
 * @param n Bytes.
 * @returns For example `"1.5 MiB"`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./bytes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatBytes(1536), "1.5 KiB");
 * deepEqual(formatBytes(12), "12 B");
 * ```
 */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
