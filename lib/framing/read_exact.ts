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
 * import { deepEqual } from "node:assert/strict";
 *
 * const file = await Deno.open(import.meta.filename!);
 * try {
 *   const head = await readFull(file, new Uint8Array(3));
 *   deepEqual(new TextDecoder().decode(head), "/**");
 * } finally {
 *   file.close();
 * }
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
