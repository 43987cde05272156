/**
 * Bytes held in memory: pieces joined into one buffer, as messages gathered
 * from a stream (or held to be written together) need, and a buffer read
 * as a stream (a body sent from memory).
 *
 * @module
 */

import type { ByteReader } from "./types.ts";

/**
 * The pieces, one after the other, in one new buffer.
 *
 * @param pieces The pieces.
 * @returns Their bytes in order.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./concat.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  return out;
}

/**
 * A reader of `data`, from its first byte to its end (then `null`).
 *
 * @param data The bytes.
 * @returns The reader.
 *
 * @example
 * ```ts
 * import { bytesReader } from "./concat.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const reader = bytesReader(new Uint8Array([1, 2, 3]));
 * const p = new Uint8Array(2);
 * deepEqual([await reader.read(p), await reader.read(p), await reader.read(p)], [2, 1, null]);
 * ```
 */
export function bytesReader(data: Uint8Array): ByteReader {
  let at = 0;
  return {
    read: (p: Uint8Array) => {
      const n = Math.min(p.length, data.length - at);
      p.set(data.subarray(at, at + n));
      at += n;
      return Promise.resolve(n === 0 && p.length > 0 ? null : n);
    },
  };
}
