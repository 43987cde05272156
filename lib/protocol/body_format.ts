/**
 * The body wire format: how a file's bytes travel after a GET's reply or
 * a PUT's request, and after a pipe's handshake. This module owns the
 * bytes on the wire (the size header, the chunk headers, the end of the
 * chunks, the hash trailer) and their limit; `lib/transfer/body.ts`
 * streams a body through these encoders and decoders, hashing as it goes.
 *
 * Sized:   `[16 hex size][size bytes][hex hash]`
 * Chunked: `ffffffffffffffff` then `[8 hex n][n bytes]`... `00000000` `[hex hash]`
 *
 * The trailer is the hash in the session's checksum: 64 hex digits for
 * SHA-256 (version 1, and pipes), 32 for XXH3-128.
 *
 * A body does not travel through the `Channel`'s messages (channel.ts): it is
 * streamed on the channel's `reader` and `writer` by `transfer/`, which sits
 * above the protocol (it hashes and moves files), so the channel cannot call
 * it without importing upward.
 *
 * @example
 * ```ts
 * import { decodeBodyHeader, encodeBodyHeader } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeBodyHeader(encodeBodyHeader(5)), 5);
 * deepEqual(decodeBodyHeader(encodeBodyHeader(null)), null);
 * ```
 *
 * @module
 */

import {
  decodeSizeHeader,
  encodeSizeHeader,
  readSizeHeader,
  SIZE_HEADER_LENGTH,
  WIDE_SIZE_HEADER_LENGTH,
} from "../framing/size_header.ts";
import { readFull } from "../framing/read_exact.ts";
import type { ByteReader } from "../framing/types.ts";
import { DIGEST_BYTES } from "../checksum.ts";
import { type ChecksumName, MAX_CHUNK_BYTES } from "./limits.ts";

// The largest chunk, for senders that make chunks of their own size.
export { MAX_CHUNK_BYTES };

/** The size header that announces a chunked body. */
export const CHUNKED_MARKER = "ffffffffffffffff";
/** Length of a body's size header (or of the chunked marker): 16 hex digits. */
export const BODY_HEADER_LENGTH = WIDE_SIZE_HEADER_LENGTH;
/** Length of a chunk's header in a chunked body: 8 hex digits. */
export const CHUNK_HEADER_LENGTH = SIZE_HEADER_LENGTH;
/** Length of a SHA-256 trailer: 64 hex digits. */
export const HASH_TRAILER_LENGTH = 64;

/** Length of each checksum's trailer, in hex digits: its digest's bytes, in hex. */
export const TRAILER_LENGTHS: Readonly<Record<ChecksumName, number>> = {
  "xxh3-128": 2 * DIGEST_BYTES["xxh3-128"],
  sha256: 2 * DIGEST_BYTES.sha256,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a body's header: its size, or the chunked marker.
 *
 * @param size The body's size, or `null` for a chunked body.
 * @returns The 16 header bytes.
 *
 * @example
 * ```ts
 * import { encodeBodyHeader } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeBodyHeader(20)), "0000000000000014");
 * ```
 */
export function encodeBodyHeader(size: number | null): Uint8Array {
  return size === null ? encoder.encode(CHUNKED_MARKER) : encodeSizeHeader(size, { wide: true });
}

/**
 * Decodes a body's header.
 *
 * @param header The 16 header bytes.
 * @returns The body's size, or `null` for a chunked body.
 * @throws {ProtocolError} When the header is not hex or not a safe integer.
 *
 * @example
 * ```ts
 * import { decodeBodyHeader } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeBodyHeader(new TextEncoder().encode("ffffffffffffffff")), null);
 * ```
 */
export function decodeBodyHeader(header: Uint8Array): number | null {
  // Decoded to text only when it may be the marker (a small file's header starts with "0").
  const chunked = header[0] === 0x66 && decoder.decode(header) === CHUNKED_MARKER;
  return chunked ? null : decodeSizeHeader(header);
}

/**
 * Reads a body's header.
 *
 * @param reader The connection.
 * @returns The body's size, or `null` for a chunked body.
 * @throws {UnexpectedEofError} When the stream ends before the 16 bytes.
 * @throws {ProtocolError} When the header is not hex or not a safe integer.
 *
 * @example
 * ```ts
 * import { readBodyHeader } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("0000000000000010");
 * const reader = { read: (p: Uint8Array) => (p.set(bytes), Promise.resolve(16)) };
 * deepEqual(await readBodyHeader(reader), 16);
 * ```
 */
export async function readBodyHeader(reader: ByteReader): Promise<number | null> {
  const header = await readFull(reader, new Uint8Array(BODY_HEADER_LENGTH), "body header");
  return decodeBodyHeader(header);
}

/**
 * Encodes a chunk's header; a header of 0 ends the chunks.
 *
 * @param size The chunk's length in bytes, at most {@linkcode MAX_CHUNK_BYTES} on receipt.
 * @returns The 8 header bytes.
 *
 * @example
 * ```ts
 * import { encodeChunkHeader } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeChunkHeader(0)), "00000000");
 * ```
 */
export function encodeChunkHeader(size: number): Uint8Array {
  return encodeSizeHeader(size);
}

/**
 * Reads a chunk's header.
 *
 * @param reader The connection.
 * @returns The chunk's length (0 at the end of the chunks), or `null` at a
 * clean end of stream.
 * @throws {ProtocolError} When the header is malformed or the chunk is over
 * {@linkcode MAX_CHUNK_BYTES}.
 *
 * @example
 * ```ts
 * import { readChunkHeader } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("00000003");
 * const reader = { read: (p: Uint8Array) => (p.set(bytes), Promise.resolve(8)) };
 * deepEqual(await readChunkHeader(reader), 3);
 * ```
 */
export function readChunkHeader(reader: ByteReader): Promise<number | null> {
  return readSizeHeader(reader, { maxBytes: MAX_CHUNK_BYTES });
}

/**
 * The trailer of a body its sender withdraws: its source changed while it
 * was sent (a file written to in place, or cut shorter), so the bytes may
 * mix two versions. Every digit of the hash becomes `1` where it was `0`
 * and `0` otherwise: no bytes hash to it, so the receiver refuses them,
 * and since no real hash is made of those two digits alone, it can tell
 * the withdrawal ({@linkcode isWithdrawnTrailer}) from damage on the way.
 *
 * @param digest The hash of the bytes sent.
 * @returns The trailer to send instead.
 *
 * @example
 * ```ts
 * import { isWithdrawnTrailer, withdrawnTrailer } from "./body_format.ts";
 * import { equal } from "node:assert/strict";
 *
 * const t = withdrawnTrailer("b5e9c1ad071b3e7fc779cfaa5e523818");
 * equal(t, "00000000100000000000000000000000");
 * equal(isWithdrawnTrailer(t), true);
 * ```
 */
export function withdrawnTrailer(digest: string): string {
  return digest.replace(/./g, (c) => c === "0" ? "1" : "0");
}

/**
 * Whether a trailer is a withdrawal ({@linkcode withdrawnTrailer}): a whole
 * hash's length of `0` and `1` digits only.
 *
 * @param trailer The trailer received.
 * @returns Whether the sender withdrew the body.
 *
 * @example
 * ```ts
 * import { isWithdrawnTrailer } from "./body_format.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(isWithdrawnTrailer("b5e9c1ad071b3e7fc779cfaa5e523818"), false);
 * equal(isWithdrawnTrailer("00"), false);
 * ```
 */
export function isWithdrawnTrailer(trailer: string): boolean {
  return Object.values(TRAILER_LENGTHS).includes(trailer.length) && /^[01]+$/.test(trailer);
}

/**
 * Encodes the trailer: the body's hash as lowercase hex.
 *
 * @param hash The hash, as many hex digits as its checksum's trailer has.
 * @returns The trailer's bytes.
 *
 * @example
 * ```ts
 * import { encodeTrailer, HASH_TRAILER_LENGTH } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeTrailer("0".repeat(64)).byteLength, HASH_TRAILER_LENGTH);
 * ```
 */
export function encodeTrailer(hash: string): Uint8Array {
  return encoder.encode(hash);
}

/**
 * Reads the trailer after a body's last byte.
 *
 * @param reader The connection.
 * @param checksum The session's checksum, which sets the trailer's length.
 * @returns The hash the sender gave, lowercased (not checked to be hex).
 * @throws {UnexpectedEofError} When the stream ends first.
 *
 * @example
 * ```ts
 * import { readTrailer } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("AB".repeat(32));
 * const reader = { read: (p: Uint8Array) => (p.set(bytes), Promise.resolve(64)) };
 * deepEqual(await readTrailer(reader), "ab".repeat(32));
 * ```
 */
export async function readTrailer(
  reader: ByteReader,
  checksum: ChecksumName = "sha256",
): Promise<string> {
  return decodeTrailer(
    await readFull(reader, new Uint8Array(TRAILER_LENGTHS[checksum]), "trailer"),
  );
}

/**
 * Decodes a trailer's bytes (as {@linkcode readTrailer} reads them): the
 * hash the sender gave, lowercased, without the zero bytes that pad it.
 *
 * @param bytes The trailer, {@linkcode TRAILER_LENGTHS} long.
 * @returns The hash, lowercased (not checked to be hex).
 *
 * @example
 * ```ts
 * import { decodeTrailer } from "./body_format.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeTrailer(new TextEncoder().encode("AB\0\0")), "ab");
 * ```
 */
export function decodeTrailer(bytes: Uint8Array): string {
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return decoder.decode(bytes.subarray(0, end)).toLowerCase();
}
