/**
 * One line of an HTTP/1 message (a head's line, a chunk's size line, a
 * trailer): up to LF, the LF and a CR just before it left off. A line ends
 * with CRLF, or a bare LF, as RFC 9112 (section 2.2) lets a recipient take
 * it. The head and the chunked body both read their lines here.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";

const LF = new Uint8Array([10]);

/** A line read by {@linkcode readHttpLine}. */
export interface HttpLine {
  /** The line, its end (LF, or CRLF) left off. */
  line: Uint8Array;
  /** The bytes it took from the stream, its end included. */
  length: number;
}

/**
 * Reads one line of at most `max` bytes before its end (a CR aside).
 *
 * @param reader The stream, at the line's first byte.
 * @param max The most bytes before the line's end.
 * @returns The line, or `null` when the stream ends before its first byte.
 * @throws {ProtocolError} When more than `max` bytes come before its end.
 * @throws {UnexpectedEofError} When the stream ends inside it.
 *
 * @example
 * ```ts
 * import { readHttpLine } from "./line.ts";
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("a\r\nbc\n");
 * let done = false;
 * const reader = new BufferedReader({
 *   read: (p: Uint8Array) => {
 *     if (done) return Promise.resolve(null);
 *     done = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * });
 * const first = await readHttpLine(reader, 8);
 * deepEqual([new TextDecoder().decode(first!.line), first!.length], ["a", 3]);
 * const second = await readHttpLine(reader, 8);
 * deepEqual([new TextDecoder().decode(second!.line), second!.length], ["bc", 3]);
 * equal(await readHttpLine(reader, 8), null);
 * ```
 */
export async function readHttpLine(reader: BufferedReader, max: number): Promise<HttpLine | null> {
  // One byte more than `max`: a CR may end it.
  const bytes = await reader.readUntil(LF, max + 1);
  if (bytes === null) return null;
  const length = bytes.byteLength + LF.byteLength;
  if (bytes.at(-1) === 13) return { line: bytes.subarray(0, -1), length };
  if (bytes.byteLength > max) throw new ProtocolError("A line is too long");
  return { line: bytes, length };
}
