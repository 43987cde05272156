/**
 * Delimited messages: a message ends at an agreed delimiter, by default a
 * newline (line framing). Reading is buffered, never one byte per
 * read, and bounded by a caller-given maximum.
 *
 * @module
 */

import type { BufferedReader } from "./buffered_reader.ts";

const encoder = new TextEncoder();

/** Options for {@linkcode encodeDelimited} and {@linkcode readDelimited}. */
export interface DelimitedOptions {
  /**
   * The delimiter, as text or bytes.
   *
   * @default {"\n"}
   */
  delimiter?: string | Uint8Array;
}

/** Options for {@linkcode readDelimited}. */
export interface ReadDelimitedOptions extends DelimitedOptions {
  /**
   * The longest message accepted, delimiter excluded. A longer one is a
   * protocol error; the reader never buffers more than this.
   *
   * @default {65536}
   */
  maxBytes?: number;
}

function delimiterBytes(options: DelimitedOptions): Uint8Array {
  const d = options.delimiter ?? "\n";
  return typeof d === "string" ? encoder.encode(d) : d;
}

/**
 * Appends the delimiter to a message.
 *
 * @param message The message, as bytes or text (UTF-8).
 * @param options The delimiter.
 * @returns The message followed by the delimiter.
 * @throws {RangeError} When the message itself contains the delimiter, or
 * ends with the start of a delimiter that overlaps itself (with `"aba"`, the
 * message `"ab"` would be read back as `""`).
 *
 * @example
 * ```ts
 * import { encodeDelimited } from "./delimited.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeDelimited("name = Dan")), "name = Dan\n");
 * ```
 */
export function encodeDelimited(
  message: Uint8Array | string,
  options: DelimitedOptions = {},
): Uint8Array {
  const bytes = typeof message === "string" ? encoder.encode(message) : message;
  const delim = delimiterBytes(options);
  const out = new Uint8Array(bytes.byteLength + delim.byteLength);
  out.set(bytes);
  out.set(delim, bytes.byteLength);
  // A reader ends the message at the first delimiter: it must be the one appended.
  if (contains(out.subarray(0, out.byteLength - 1), delim)) {
    throw new RangeError("Cannot encode a delimited message that contains its delimiter");
  }
  return out;
}

/**
 * Reads one delimited message; the delimiter is consumed and dropped.
 *
 * @param reader A buffered reader over the stream.
 * @param options The delimiter and the maximum length.
 * @returns The message, or `null` at a clean end of stream.
 * @throws {ProtocolError} When the message is longer than `maxBytes`.
 * @throws {UnexpectedEofError} When the stream ends inside a message.
 *
 * @example
 * ```ts
 * import { BufferedReader } from "./buffered_reader.ts";
 * import { readDelimited } from "./delimited.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const data = new TextEncoder().encode("a@b@");
 * let sent = false;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(data);
 *     return Promise.resolve(data.byteLength);
 *   },
 * };
 * const reader = new BufferedReader(source);
 * const first = await readDelimited(reader, { delimiter: "@" });
 * deepEqual(new TextDecoder().decode(first!), "a");
 * ```
 */
export function readDelimited(
  reader: BufferedReader,
  options: ReadDelimitedOptions = {},
): Promise<Uint8Array | null> {
  return reader.readUntil(delimiterBytes(options), options.maxBytes ?? 65536);
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}
