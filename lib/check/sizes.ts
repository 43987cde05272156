/**
 * Byte sizes as people type them on a command line (`1KiB`, `64MiB`,
 * `1.5GB`) and as `bftp check` names its generated files (`64MiB`).
 *
 * @module
 */

import { parseSize } from "../bytes.ts";

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
