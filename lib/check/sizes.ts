/**
 * Byte sizes as people type them on a command line (`1KiB`, `64MiB`,
 * `1.5GB`) and as `bftp check` names its generated files (`64MiB`).
 *
 * @module
 */

import { UsageError } from "../errors.ts";

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
 * import { parseSize } from "./sizes.ts";
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

/**
 * Parses a comma-separated list of sizes; `none` (or an empty text) is the
 * empty list.
 *
 * @param text Such as `1KiB,1MiB,64MiB`.
 * @returns The sizes in bytes, in the order given.
 * @throws {UsageError} When an item is not a size.
 *
 * @example
 * ```ts
 * import { parseSizeList } from "./sizes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseSizeList("1KiB, 2KiB"), [1024, 2048]);
 * deepEqual(parseSizeList("none"), []);
 * ```
 */
export function parseSizeList(text: string): number[] {
  if (text.trim() === "" || text.trim().toLowerCase() === "none") return [];
  return text.split(",").map(parseSize);
}

/**
 * Names a size compactly with binary units, exactly when it can: `1KiB`,
 * `64MiB`, `1536B`.
 *
 * @param bytes The size.
 * @returns The shortest exact name.
 *
 * @example
 * ```ts
 * import { sizeName } from "./sizes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(sizeName(1024), "1KiB");
 * deepEqual(sizeName(67108864), "64MiB");
 * deepEqual(sizeName(1536), "1536B");
 * deepEqual(sizeName(0), "0B");
 * ```
 */
export function sizeName(bytes: number): string {
  for (const [unit, factor] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes > 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}
