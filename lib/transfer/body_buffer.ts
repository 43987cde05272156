/**
 * What the two directions of a body share: the buffer a body moves
 * through, what a transfer moved, and which checksum a body's options
 * settle.
 *
 * @module
 */

import type { ChecksumName, RunningHash } from "../checksum.ts";

/**
 * The buffer a body moves through, on each side: at most this many bytes of
 * one transfer are held in memory at a time.
 */
export const BODY_BUFFER_BYTES = 1 << 20;
const DEFAULT_BUFFER = BODY_BUFFER_BYTES;

/**
 * The buffer a body of `size` bytes moves through: no larger than the body
 * (a 1 KiB GET holds 1 KiB, not 1 MiB) and at most `limit`. A chunked body
 * (`null`) gets `limit`.
 *
 * @param size The body's size, or `null` when chunked.
 * @param limit The largest buffer.
 * @returns The buffer's size in bytes, at least 1.
 *
 * @example
 * ```ts
 * import { bodyBufferSize } from "./body_buffer.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(bodyBufferSize(1024), 1024);
 * deepEqual(bodyBufferSize(0), 1);
 * deepEqual(bodyBufferSize(10 << 20), 1 << 20);
 * deepEqual(bodyBufferSize(null), 1 << 20);
 * ```
 */
export function bodyBufferSize(size: number | null, limit: number = DEFAULT_BUFFER): number {
  return size === null ? limit : Math.max(1, Math.min(size, limit));
}

/** What a body transfer moved. */
export interface BodyResult {
  /** Bytes in the body (the whole file's, for a resumed download). */
  size: number;
  /** The algorithm of `hash`. */
  checksum: ChecksumName;
  /** The body's hash (the whole file's, when resumed), lowercase hex. */
  hash: string;
}

/**
 * The checksum a body's options settle: the fed hash's, the one named, or SHA-256.
 *
 * @param options A body's `checksum` and `hash` options.
 * @returns The checksum.
 *
 * @example
 * ```ts
 * import { checksumOf } from "./body_buffer.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(checksumOf({}), "sha256");
 * equal(checksumOf({ checksum: "xxh3-128" }), "xxh3-128");
 * ```
 */
export function checksumOf(
  options: { checksum?: ChecksumName | undefined; hash?: RunningHash | undefined },
): ChecksumName {
  return options.hash?.checksum ?? options.checksum ?? "sha256";
}
