/**
 * Size-header messages: a fixed-width hexadecimal length, then that many
 * bytes (length-prefix framing). The narrow header is 8 hex digits (up to 4 GiB - 1); the wide one is 16 hex
 * digits, for bodies of 4 GiB and more.
 *
 * A reader always checks the announced size against a caller-given maximum
 * before it allocates anything.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { readExact, readFull } from "./read_exact.ts";
import type { BufferedReader } from "./buffered_reader.ts";
import type { ByteReader, ByteWriter } from "./types.ts";
import { writeAll } from "./write_all.ts";

const encoder = new TextEncoder();

/** The largest size a reader accepts unless told otherwise. */
const DEFAULT_MAX_BYTES = 1048576;

/** Length of the narrow header: 8 hex digits. */
export const SIZE_HEADER_LENGTH = 8;
/** Length of the wide header: 16 hex digits. */
export const WIDE_SIZE_HEADER_LENGTH = 16;
/** The largest size the narrow header can announce. */
export const MAX_NARROW_SIZE = 0xffff_ffff;

/** Options shared by the size-header functions. */
export interface SizeHeaderOptions {
  /**
   * Use the 16-digit header instead of the narrow 8 digits.
   *
   * @default {false}
   */
  wide?: boolean;
}

/** Options for reading a size-header message. */
export interface ReadSizedOptions extends SizeHeaderOptions {
  /**
   * The largest size accepted. A larger announced size is a protocol error,
   * raised before any allocation.
   *
   * @default {1048576}
   */
  maxBytes?: number;
}

/**
 * Encodes a size as a fixed-width lowercase hex header.
 *
 * @param size The size, a non-negative safe integer.
 * @param options Narrow or wide.
 * @returns 8 (or 16) ASCII bytes.
 * @throws {RangeError} When the size does not fit.
 *
 * @example
 * ```ts
 * import { encodeSizeHeader } from "./size_header.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeSizeHeader(20)), "00000014");
 * ```
 */
export function encodeSizeHeader(size: number, options: SizeHeaderOptions = {}): Uint8Array {
  const width = options.wide ? WIDE_SIZE_HEADER_LENGTH : SIZE_HEADER_LENGTH;
  const header = new Uint8Array(width);
  putSizeHeader(header, size, width);
  return header;
}

/** Lowercase hex digits, by value. */
const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");

/**
 * Writes `size` as `width` hex digits at the start of `into`: a message's
 * header straight into its frame, where a string padded and encoded cost a
 * small GET's server two allocations more.
 */
function putSizeHeader(into: Uint8Array, size: number, width: number): void {
  const max = width === WIDE_SIZE_HEADER_LENGTH ? Number.MAX_SAFE_INTEGER : MAX_NARROW_SIZE;
  if (!Number.isSafeInteger(size) || size < 0 || size > max) {
    throw new RangeError(`Cannot encode size ${size} in a ${width}-digit header`);
  }
  // Division, not shifts: a wide size is above 32 bits.
  for (let i = width - 1, rest = size; i >= 0; i--, rest = Math.floor(rest / 16)) {
    into[i] = HEX_DIGITS[rest % 16]!;
  }
}

/**
 * Decodes a size header.
 *
 * @param header The 8 or 16 header bytes.
 * @returns The size.
 * @throws {ProtocolError} When a byte is not a hex digit or the size is not
 * a safe integer.
 *
 * @example
 * ```ts
 * import { decodeSizeHeader } from "./size_header.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeSizeHeader(new TextEncoder().encode("00000014")), 20);
 * ```
 */
export function decodeSizeHeader(header: Uint8Array): number {
  let size = 0;
  // By index: an iterator is an object a header, and every frame has one.
  for (let i = 0; i < header.byteLength; i++) {
    const b = header[i]!;
    let digit: number;
    if (b >= 0x30 && b <= 0x39) digit = b - 0x30;
    else if (b >= 0x61 && b <= 0x66) digit = b - 0x57;
    else if (b >= 0x41 && b <= 0x46) digit = b - 0x37;
    else {
      throw new ProtocolError(
        `Invalid size header "${new TextDecoder().decode(header).replace(/[^\x20-\x7e]/g, "?")}"`,
      );
    }
    size = size * 16 + digit;
  }
  if (!Number.isSafeInteger(size)) throw new ProtocolError(`Size header too large: ${size}`);
  return size;
}

/**
 * Prefixes a message with its size header.
 *
 * @param message The message.
 * @param options Narrow or wide.
 * @returns Header and message in one buffer.
 *
 * @example
 * ```ts
 * import { encodeSized } from "./size_header.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const framed = encodeSized(new TextEncoder().encode("Hello Web Wide World"));
 * deepEqual(new TextDecoder().decode(framed), "00000014Hello Web Wide World");
 * ```
 */
export function encodeSized(message: Uint8Array, options: SizeHeaderOptions = {}): Uint8Array {
  const width = options.wide ? WIDE_SIZE_HEADER_LENGTH : SIZE_HEADER_LENGTH;
  const out = new Uint8Array(width + message.byteLength);
  putSizeHeader(out, message.byteLength, width);
  out.set(message, width);
  return out;
}

/**
 * Encodes `text` as UTF-8 behind its size header, in one buffer: no
 * separate array for the text's bytes to be copied from.
 *
 * @param text The message, as text.
 * @param options Narrow or wide.
 * @returns Header and message in one buffer.
 *
 * @example
 * ```ts
 * import { encodeSizedText } from "./size_header.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeSizedText("Grüße")), "00000007Grüße");
 * ```
 */
export function encodeSizedText(text: string, options: SizeHeaderOptions = {}): Uint8Array {
  const width = options.wide ? WIDE_SIZE_HEADER_LENGTH : SIZE_HEADER_LENGTH;
  // UTF-8 takes at most three bytes for each UTF-16 unit.
  const out = new Uint8Array(width + text.length * 3);
  const { written } = encoder.encodeInto(text, out.subarray(width));
  putSizeHeader(out, written, width);
  return out.subarray(0, width + written);
}

/**
 * Writes a message with its size header, in one write call sequence.
 *
 * @param writer The stream.
 * @param message The message.
 * @param options Narrow or wide.
 *
 * @example
 * ```ts
 * import { writeSized } from "./size_header.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const chunks: Uint8Array[] = [];
 * const writer = { write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.byteLength)) };
 * await writeSized(writer, new Uint8Array(3));
 * deepEqual(chunks[0]!.byteLength, 11);
 * ```
 */
export async function writeSized(
  writer: ByteWriter,
  message: Uint8Array,
  options: SizeHeaderOptions = {},
): Promise<void> {
  await writeAll(writer, encodeSized(message, options));
}

/**
 * Reads a size header only, leaving the body on the stream for the caller
 * to stream (for bodies too large to hold in memory).
 *
 * @param reader The stream.
 * @param options Narrow or wide, and the largest size accepted.
 * @returns The announced size, or `null` at a clean end of stream.
 * @throws {ProtocolError} When the size is malformed or above `maxBytes`.
 *
 * @example
 * ```ts
 * import { readSizeHeader } from "./size_header.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("0000000000000010");
 * const reader = { read: (p: Uint8Array) => (p.set(bytes), Promise.resolve(16)) };
 * deepEqual(await readSizeHeader(reader, { wide: true, maxBytes: 100 }), 16);
 * ```
 */
export async function readSizeHeader(
  reader: ByteReader,
  options: ReadSizedOptions = {},
): Promise<number | null> {
  const header = new Uint8Array(options.wide ? WIDE_SIZE_HEADER_LENGTH : SIZE_HEADER_LENGTH);
  const first = await reader.read(header);
  if (first === null) return null;
  if (first < header.byteLength) await readFull(reader, header.subarray(first), "size header");
  const size = decodeSizeHeader(header);
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (size > max) {
    throw new ProtocolError(`Message of ${size} bytes is over the limit of ${max} bytes`);
  }
  return size;
}

/**
 * Reads one whole size-header message.
 *
 * @param reader The stream.
 * @param options Narrow or wide, and the largest size accepted.
 * @returns The message, or `null` at a clean end of stream.
 * @throws {ProtocolError} When the size is malformed or above `maxBytes`.
 * @throws {UnexpectedEofError} When the stream ends inside the message.
 *
 * @example
 * ```ts
 * import { encodeSized, readSized } from "./size_header.ts";
 * import { BufferedReader } from "./buffered_reader.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const framed = encodeSized(new TextEncoder().encode("hello"));
 * let done = false;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (done) return Promise.resolve(null);
 *     done = true;
 *     p.set(framed);
 *     return Promise.resolve(framed.byteLength);
 *   },
 * };
 * const msg = await readSized(new BufferedReader(source));
 * deepEqual(new TextDecoder().decode(msg!), "hello");
 * ```
 */
export async function readSized(
  reader: ByteReader,
  options: ReadSizedOptions = {},
): Promise<Uint8Array | null> {
  const size = await readSizeHeader(reader, options);
  if (size === null) return null;
  return await readExact(reader, size, "size-header message");
}

/**
 * {@linkcode readSized} at once, when the whole message (header and
 * payload, within `maxBytes`) is buffered already: its payload, a view of
 * the reader's buffer good until the next read; else `null` and nothing
 * read ({@linkcode readSized} is then the way, and tells what is wrong
 * with a size over the limit).
 *
 * @param reader The stream, buffered.
 * @param options The header's width and the largest size accepted.
 * @returns The payload, or `null`.
 * @throws {ProtocolError} When the header is not hex digits.
 *
 * @example
 * ```ts
 * import { encodeSized, readSizedBuffered } from "./size_header.ts";
 * import { BufferedReader } from "./buffered_reader.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * // A byte of something else, then a message.
 * const wire = new Uint8Array([0x78, ...encodeSized(new TextEncoder().encode("hello"))]);
 * const reader = new BufferedReader({ read: (p: Uint8Array) => (p.set(wire), Promise.resolve(wire.length)) });
 * deepEqual(readSizedBuffered(reader), null); // nothing buffered yet
 * await reader.read(new Uint8Array(1)); // "x", and the message buffered behind it
 * deepEqual(new TextDecoder().decode(readSizedBuffered(reader)!), "hello");
 * deepEqual(reader.buffered, 0);
 * ```
 */
export function readSizedBuffered(
  reader: BufferedReader,
  options: ReadSizedOptions = {},
): Uint8Array | null {
  const width = options.wide ? WIDE_SIZE_HEADER_LENGTH : SIZE_HEADER_LENGTH;
  const header = reader.peekBuffered(width);
  if (header === null) return null;
  const size = decodeSizeHeader(header);
  if (size > (options.maxBytes ?? DEFAULT_MAX_BYTES)) return null;
  const message = reader.peekBuffered(width + size);
  if (message === null) return null;
  reader.consume(width + size);
  return message.subarray(width);
}
