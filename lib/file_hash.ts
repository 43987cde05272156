/**
 * Hashing a local file: its start (the bytes before a resumed transfer's
 * offset), or its blocks and its whole (what a delta compares: BLOCKS on
 * the server, the local copy on the client). Both ends need it (the served root checks a kept
 * partial upload, the client and the server feed the hash a resumed body
 * continues), so it lives here, beside `bytes.ts`, rather than in
 * `transfer/` (the body wire) or `root/` (the served folder): it reads a
 * file, not a connection, and neither layer should import the other for it.
 *
 * @module
 */

import { type ChecksumName, createChecksum, DIGEST_BYTES, type RunningHash } from "./checksum.ts";
import type { ByteReader } from "./framing/types.ts";
import { ConnectionError } from "./errors.ts";

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
 * @param stopped Asked before each read: `true` stops the hashing (its
 * caller was interrupted), with a `ConnectionError`.
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
  stopped?: () => boolean,
): Promise<{ hash: RunningHash; bytes: number }> {
  const hash = await createChecksum(checksum);
  const buf = new Uint8Array(Math.max(1, Math.min(count, PREFIX_BUFFER_BYTES)));
  let bytes = 0;
  while (bytes < count) {
    if (stopped?.()) throw new ConnectionError("Stopped while hashing: the session was closed");
    const n = await source.read(buf.subarray(0, Math.min(buf.byteLength, count - bytes)));
    if (n === null) break;
    hash.update(buf.subarray(0, n));
    bytes += n;
  }
  return { hash, bytes };
}

/** A file's blocks, hashed: what BLOCKS answers and what a delta compares. */
export interface BlockHashes {
  /** The bytes read (the file's size, unless it was shorter than said). */
  bytes: number;
  /** The block size. */
  blockSize: number;
  /** Each block's digest, raw bytes end to end (`count` times the digest's length). */
  digests: Uint8Array;
  /** How many blocks: the size divided by the block size, rounded up. */
  count: number;
  /** The whole file's checksum, lowercase hex; `null` when not asked for. */
  whole: string | null;
}

/**
 * The bytes of a run of `count` blocks from block `first`, in a file of
 * `size` bytes cut in blocks of `blockSize` (the last one shorter).
 *
 * @param first The run's first block.
 * @param count How many blocks.
 * @param blockSize The block size.
 * @param size The file's size.
 * @returns Its start and end, `[start, end)`.
 *
 * @example
 * ```ts
 * import { blockSpan } from "./file_hash.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(blockSpan(1, 2, 4096, 10_000), [4096, 10_000]);
 * ```
 */
export function blockSpan(
  first: number,
  count: number,
  blockSize: number,
  size: number,
): [number, number] {
  return [first * blockSize, Math.min((first + count) * blockSize, size)];
}

/**
 * Hashes `size` bytes of `reader` (from where it stands) in blocks of
 * `blockSize` (the last one shorter), and as a whole, in one pass.
 *
 * @param reader The file, at its start.
 * @param size How many bytes to hash.
 * @param blockSize The block size.
 * @param checksum The algorithm.
 * @param whole Whether to hash the whole file too (a second pass over each
 * byte, in the same read).
 * @returns The digests, the whole file's checksum and how many bytes there were.
 *
 * @example
 * ```ts
 * import { hashBlocks } from "./file_hash.ts";
 * import { equal } from "node:assert/strict";
 *
 * const data = new Uint8Array(10_000).fill(7);
 * let at = 0;
 * const reader = {
 *   read: (p: Uint8Array) => {
 *     const n = Math.min(p.length, data.length - at);
 *     p.set(data.subarray(at, at + n));
 *     at += n;
 *     return Promise.resolve(n === 0 ? null : n);
 *   },
 * };
 * const blocks = await hashBlocks(reader, 10_000, 4096, "xxh3-128");
 * equal(blocks.count, 3);
 * equal(blocks.digests.length, 48);
 * // Two equal blocks, equal digests; the short last one differs.
 * equal(blocks.digests.subarray(0, 16).join(), blocks.digests.subarray(16, 32).join());
 * ```
 */
export async function hashBlocks(
  reader: ByteReader,
  size: number,
  blockSize: number,
  checksum: ChecksumName,
  whole = true,
): Promise<BlockHashes> {
  const count = Math.ceil(size / blockSize);
  const length = DIGEST_BYTES[checksum];
  const digests = new Uint8Array(count * length);
  const all = whole ? await createChecksum(checksum) : null;
  // Read a MiB at a time whatever the block size: a read is a hop to Deno's I/O pool, and 64 KiB
  // reads made BLOCKS of a 16 MiB file take 23-50 ms here.
  const buf = new Uint8Array(Math.min(1 << 20, Math.max(size, 1)));
  let bytes = 0;
  let block = await createChecksum(checksum);
  let done = 0;
  while (bytes < size) {
    const n = await reader.read(buf.subarray(0, Math.min(buf.length, size - bytes)));
    if (n === null) break;
    all?.update(buf.subarray(0, n));
    for (let at = 0; at < n;) {
      const take = Math.min(n - at, (done + 1) * blockSize - bytes);
      block.update(buf.subarray(at, at + take));
      at += take;
      bytes += take;
      if (bytes === Math.min((done + 1) * blockSize, size)) {
        digests.set(hexBytes(block.digest()), done++ * length);
        if (done < count) block = await createChecksum(checksum);
      }
    }
  }
  if (done < count) block.digest();
  return { bytes, blockSize, digests, count, whole: all?.digest() ?? null };
}

/** Lowercase hex as bytes. */
function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
