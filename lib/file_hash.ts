/**
 * Hashing the start of a local file: the bytes before a resumed transfer's
 * offset. Both ends of a resume need it (the served root checks a kept
 * partial upload, the client and the server feed the hash a resumed body
 * continues), so it lives here, beside `bytes.ts`, rather than in
 * `transfer/` (the body wire) or `root/` (the served folder): it reads a
 * file, not a connection, and neither layer should import the other for it.
 *
 * @module
 */

import { type ChecksumName, createChecksum, type RunningHash } from "./checksum.ts";
import type { ByteReader } from "./framing/types.ts";

/** The largest buffer the prefix is read through (the body buffer's size). */
const PREFIX_BUFFER_BYTES = 1 << 20;

/**
 * Feeds the first `count` bytes of `source` to a new hash: the part of a
 * file before a resumed transfer's offset, or a whole file. The source is
 * left just after them.
 *
 * @param source A file at its start.
 * @param count How many bytes to hash.
 * @param checksum The algorithm.
 * @returns The hash (not yet digested) and how many bytes it got, fewer
 * than `count` when the source ended first.
 *
 * @example
 * ```ts
 * import { hashPrefix } from "./file_hash.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const data = new TextEncoder().encode("hi!");
 * let at = 0;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (at === data.length) return Promise.resolve(null);
 *     const n = Math.min(p.length, data.length - at);
 *     p.set(data.subarray(at, at + n));
 *     at += n;
 *     return Promise.resolve(n);
 *   },
 * };
 * const { hash, bytes } = await hashPrefix(source, 2);
 * deepEqual(bytes, 2);
 * deepEqual(hash.digest().slice(0, 8), "8f434346");
 * ```
 */
export async function hashPrefix(
  source: ByteReader,
  count: number,
  checksum: ChecksumName = "sha256",
): Promise<{ hash: RunningHash; bytes: number }> {
  const hash = await createChecksum(checksum);
  const buf = new Uint8Array(Math.max(1, Math.min(count, PREFIX_BUFFER_BYTES)));
  let bytes = 0;
  while (bytes < count) {
    const n = await source.read(buf.subarray(0, Math.min(buf.byteLength, count - bytes)));
    if (n === null) break;
    hash.update(buf.subarray(0, n));
    bytes += n;
  }
  return { hash, bytes };
}
