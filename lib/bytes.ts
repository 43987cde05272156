/**
 * Byte counts for people: shown in binary units with one decimal, and read
 * as people type them (`64MiB`, `500K`, `1.5GB`).
 *
 * @module
 */

import { UsageError } from "./errors.ts";

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

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

/**
 * Parses a size: a number and an optional unit. `K`, `KiB`, `M`, `MiB`, `G`,
 * `GiB` are binary (1024); `KB`, `MB`, `GB` are decimal (1000); `B` or no
 * unit is bytes. Units are case-insensitive.
 *
 * @param text What the user typed, such as `64MiB`.
 * @returns The size in bytes (a whole number).
 * @throws {UsageError} When it is not a size, or not a whole number of bytes.
 *
 * @example
 * ```ts
 * import { parseSize } from "./bytes.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseSize("1KiB"), 1024);
 * deepEqual(parseSize("64MiB"), 67108864);
 * deepEqual(parseSize("1.5k"), 1536);
 * deepEqual(parseSize("2MB"), 2000000);
 * deepEqual(parseSize("0"), 0);
 * throws(() => parseSize("ten"));
 * ```
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(`Invalid size "${text}": expected a number and a unit such as 64MiB`);
  }
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) {
    throw new UsageError(`Invalid size "${text}": not a whole number of bytes`);
  }
  return bytes;
}
