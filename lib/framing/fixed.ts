/**
 * Fixed-length messages: every message is exactly N bytes, padded when
 * shorter (fixed-length framing: "always 40 bytes").
 *
 * @module
 */

import { readExact } from "./read_exact.ts";
import type { ByteReader } from "./types.ts";

/** Options for {@linkcode encodeFixed} and {@linkcode readFixed}. */
export interface FixedOptions {
  /**
   * The byte that pads a short message, and that {@linkcode readFixed}
   * strips from the end.
   *
   * @default {0x20}
   */
  padByte?: number;
}

/**
 * Pads `message` to exactly `length` bytes.
 *
 * @param message The message, as bytes or text (UTF-8).
 * @param length The fixed length.
 * @param options The pad byte.
 * @returns `length` bytes.
 * @throws {RangeError} When the message is longer than `length`.
 *
 * @example
 * ```ts
 * import { encodeFixed } from "./fixed.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeFixed("hi", 5)), "hi   ");
 * ```
 */
export function encodeFixed(
  message: Uint8Array | string,
  length: number,
  options: FixedOptions = {},
): Uint8Array {
  const bytes = typeof message === "string" ? new TextEncoder().encode(message) : message;
  if (bytes.byteLength > length) {
    throw new RangeError(
      `Cannot fit a message of ${bytes.byteLength} bytes into a fixed length of ${length}`,
    );
  }
  const out = new Uint8Array(length).fill(options.padByte ?? 0x20);
  out.set(bytes);
  return out;
}

/**
 * Reads one fixed-length message and strips its trailing padding.
 *
 * @param reader The stream.
 * @param length The fixed length.
 * @param options The pad byte.
 * @returns The message without padding.
 * @throws {UnexpectedEofError} When the stream ends inside the message.
 *
 * @example
 * ```ts
 * import { encodeFixed, readFixed } from "./fixed.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = encodeFixed("hi", 8);
 * const reader = { read: (p: Uint8Array) => (p.set(bytes), Promise.resolve(8)) };
 * deepEqual(new TextDecoder().decode(await readFixed(reader, 8)), "hi");
 * ```
 */
export async function readFixed(
  reader: ByteReader,
  length: number,
  options: FixedOptions = {},
): Promise<Uint8Array> {
  const bytes = await readExact(reader, length, "fixed-length message");
  const pad = options.padByte ?? 0x20;
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === pad) end--;
  return bytes.subarray(0, end);
}
