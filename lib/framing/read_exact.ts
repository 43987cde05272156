/**
 * Safe receive of a known number of bytes: {@linkcode readFull} and
 * {@linkcode readExact} loop over short reads (a `recv` may return fewer
 * bytes than asked), and fail clearly on an early end of stream.
 *
 * @module
 */

import { UnexpectedEofError } from "../errors.ts";
import type { ByteReader } from "./types.ts";

/**
 * Fills all of `p` from `reader`.
 *
 * @param reader Where the bytes come from.
 * @param p The buffer to fill completely.
 * @param what What is being read, for the error message.
 * @returns `p`, filled.
 * @throws {UnexpectedEofError} When the stream ends first.
 *
 * @example
 * ```ts
 * import { readFull } from "./read_exact.ts";
 * import { UnexpectedEofError } from "../errors.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * // Two short reads, then the end of the stream.
 * const chunks = [new Uint8Array([1, 2]), new Uint8Array([3])];
 * const reader = {
 *   read: (p: Uint8Array) => {
 *     const chunk = chunks.shift();
 *     if (chunk === undefined) return Promise.resolve(null);
 *     p.set(chunk);
 *     return Promise.resolve(chunk.byteLength);
 *   },
 * };
 * deepEqual(await readFull(reader, new Uint8Array(3)), new Uint8Array([1, 2, 3]));
 * await rejects(readFull(reader, new Uint8Array(1), "header"), UnexpectedEofError);
 * ```
 */
export async function readFull(
  reader: ByteReader,
  p: Uint8Array,
  what = "message",
): Promise<Uint8Array> {
  let offset = 0;
  while (offset < p.byteLength) {
    const n = await reader.read(offset === 0 ? p : p.subarray(offset));
    if (n === null) {
      throw new UnexpectedEofError(
        `Connection closed after ${offset} of ${p.byteLength} bytes of the ${what}`,
      );
    }
    offset += n;
  }
  return p;
}

/**
 * Fills `p` from a file read synchronously, as far as the file goes.
 *
 * @param file Where the bytes come from (a `Deno.FsFile`, an `FdFile`).
 * @param p The buffer to fill.
 * @returns How many bytes were read: `p.byteLength` unless the file ended first.
 *
 * @example
 * ```ts
 * import { fillNow } from "./read_exact.ts";
 * import { equal } from "node:assert/strict";
 *
 * using file = Deno.openSync(import.meta.filename!);
 * equal(fillNow(file, new Uint8Array(3)), 3);
 * equal(fillNow(file, new Uint8Array(1 << 20)) < 1 << 20, true);
 * ```
 */
export function fillNow(file: { readSync(p: Uint8Array): number | null }, p: Uint8Array): number {
  let got = 0;
  while (got < p.byteLength) {
    const n = file.readSync(got === 0 ? p : p.subarray(got));
    if (!n) break;
    got += n;
  }
  return got;
}

/**
 * Reads exactly `n` bytes into a new buffer.
 *
 * @param reader Where the bytes come from.
 * @param n How many bytes; the caller has already checked it against a limit.
 * @param what What is being read, for the error message.
 * @returns A new buffer of `n` bytes.
 * @throws {UnexpectedEofError} When the stream ends first.
 *
 * @example
 * ```ts
 * import { readExact } from "./read_exact.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const file = await Deno.open(import.meta.filename!);
 * try {
 *   deepEqual((await readExact(file, 5)).byteLength, 5);
 * } finally {
 *   file.close();
 * }
 * ```
 */
export function readExact(reader: ByteReader, n: number, what = "message"): Promise<Uint8Array> {
  return readFull(reader, new Uint8Array(n), what);
}
