/**
 * Joining pieces of bytes into one buffer, as messages gathered from a
 * stream (or held to be written together) need.
 *
 * @module
 */

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
