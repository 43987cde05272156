/**
 * Receiving a small body whole into memory (a file of a tree, an MPUT
 * item): its header, bytes and trailer read into a buffer of its size and
 * checked at once, without a promise between them when all of it is
 * buffered already. The streaming counterpart is `receive_body.ts`.
 *
 * @module
 */

import { type ChecksumName, digestNow, digestOf } from "../checksum.ts";
import { ProtocolError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import { readFull } from "../framing/read_exact.ts";
import {
  BODY_HEADER_LENGTH,
  decodeBodyHeader,
  decodeTrailer,
  readBodyHeader,
  readTrailer,
  TRAILER_LENGTHS,
} from "../protocol/body_format.ts";
import type { BodyResult } from "./body_buffer.ts";
import { checksumMismatch, receiveBodyAfterHeader } from "./receive_body.ts";
import type { ByteWriter } from "../framing/types.ts";

/**
 * The largest body a receiver may read whole into memory before it writes
 * it ({@linkcode receiveWhole}): a small file of a tree.
 */
export const WHOLE_BODY_MAX = 256 * 1024;

/**
 * Reads a sized body whole into `data` (its size the one announced) and
 * checks its trailer: the short way for a small file, one copy and one hash
 * over the whole, where `receiveBody` (receive_body.ts) streams through a
 * sink. A sized body whose size is not `data`'s breaks the stream
 * (`ProtocolError`); a chunked one is taken too, its chunks into `data`, and
 * one of another total is read to its end and refused (`IntegrityError`), as
 * is one whose trailer does not match: the stream stays in step. A body
 * buffered whole already is taken at once ({@linkcode receiveWholeBuffered}).
 *
 * @param reader The connection, buffered, at the body's header.
 * @param data Where the bytes go: as long as the announced size.
 * @param label What is being received, for error messages.
 * @param checksum The trailer's algorithm.
 * @returns The size and the verified hash.
 *
 * @example
 * ```ts
 * import { receiveWhole } from "./receive_whole.ts";
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { createChecksum } from "../checksum.ts";
 * import { equal } from "node:assert/strict";
 *
 * const body = new TextEncoder().encode("hi");
 * const hash = await createChecksum("xxh3-128");
 * hash.update(body);
 * // A sized body: its size in 16 hex digits, its bytes, then their checksum in hex.
 * const wire = new TextEncoder().encode(`0000000000000002hi${hash.digest()}`);
 * let at = 0;
 * const reader = new BufferedReader({
 *   read: (p: Uint8Array) => {
 *     const n = Math.min(p.length, wire.length - at);
 *     p.set(wire.subarray(at, at + n));
 *     at += n;
 *     return Promise.resolve(n === 0 ? null : n);
 *   },
 * });
 * const data = new Uint8Array(2);
 * equal((await receiveWhole(reader, data, "a.txt", "xxh3-128")).size, 2);
 * equal(new TextDecoder().decode(data), "hi");
 * ```
 */
export async function receiveWhole(
  reader: BufferedReader,
  data: Uint8Array,
  label: string,
  checksum: ChecksumName,
): Promise<BodyResult> {
  const buffered = receiveWholeBuffered(reader, data, label, checksum);
  if (buffered !== null) return buffered;
  const what = `"${label}"`;
  const size = await readBodyHeader(reader);
  if (size === null) return await receiveChunkedWhole(reader, data, label, checksum);
  if (size !== data.byteLength) {
    throw new ProtocolError(
      `Size mismatch for ${what}: announced ${data.byteLength} bytes, body has ${size}`,
    );
  }
  await readFull(reader, data, what);
  const trailer = await readTrailer(reader, checksum);
  return verified(data, trailer, await digestOf(checksum, data), checksum, label);
}

/**
 * {@linkcode receiveWhole} at once, when the whole body (header, bytes and
 * trailer) is buffered already and a hash is ready; else `null`, nothing
 * read, and {@linkcode receiveWhole} is the way (it also tells what is
 * wrong with a header that is not `data`'s size).
 *
 * @param reader The connection, buffered, at the body's header.
 * @param data Where the bytes go: as long as the announced size.
 * @param label What is being received, for error messages.
 * @param checksum The trailer's algorithm.
 * @returns The size and the verified hash, or `null`.
 * @throws {IntegrityError} When the trailer is not the bytes' hash (the body read whole).
 *
 * @example
 * ```ts
 * import { receiveWholeBuffered } from "./receive_whole.ts";
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { equal } from "node:assert/strict";
 *
 * // A byte of something else, then "hi" with its 16-digit size header and SHA-256 trailer.
 * const wire = new TextEncoder().encode(
 *   "x0000000000000002hi8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
 * );
 * const reader = new BufferedReader({ read: (p: Uint8Array) => (p.set(wire), Promise.resolve(wire.length)) });
 * const data = new Uint8Array(2);
 * equal(receiveWholeBuffered(reader, data, "a.txt", "sha256"), null); // nothing buffered yet
 * await reader.read(new Uint8Array(1)); // "x", and the rest buffered behind it
 * equal(receiveWholeBuffered(reader, data, "a.txt", "sha256")?.size, 2);
 * equal(new TextDecoder().decode(data), "hi");
 * ```
 */
export function receiveWholeBuffered(
  reader: BufferedReader,
  data: Uint8Array,
  label: string,
  checksum: ChecksumName,
): BodyResult | null {
  const size = data.byteLength;
  const trailerAt = BODY_HEADER_LENGTH + size;
  const wire = reader.peekBuffered(trailerAt + TRAILER_LENGTHS[checksum]);
  if (wire === null || decodeBodyHeader(wire.subarray(0, BODY_HEADER_LENGTH)) !== size) return null;
  const body = wire.subarray(BODY_HEADER_LENGTH, trailerAt);
  const digest = digestNow(checksum, body);
  if (digest === null) return null;
  data.set(body);
  const trailer = decodeTrailer(wire.subarray(trailerAt));
  reader.consume(wire.byteLength);
  return verified(data, trailer, digest, checksum, label);
}

/** The size and hash of a body held whole, once its `digest` is `trailer`. */
function verified(
  data: Uint8Array,
  trailer: string,
  digest: string,
  checksum: ChecksumName,
  label: string,
): BodyResult {
  if (trailer !== digest) throw checksumMismatch(`"${label}"`, trailer, digest, checksum);
  return { size: data.byteLength, checksum, hash: digest };
}

/**
 * A chunked body where a sized one of `data`'s length was announced (the
 * protocol takes either): its chunks into `data`, its total checked once
 * it has been read to its end.
 */
async function receiveChunkedWhole(
  reader: BufferedReader,
  data: Uint8Array,
  label: string,
  checksum: ChecksumName,
): Promise<BodyResult> {
  let at = 0;
  // The chunks' total is checked before each chunk is written (receiveBody's expectedSize).
  const into: ByteWriter = {
    write: (p) => {
      data.set(p, at);
      at += p.byteLength;
      return Promise.resolve(p.byteLength);
    },
  };
  return await receiveBodyAfterHeader(reader, into, null, {
    expectedSize: data.byteLength,
    label,
    checksum,
  });
}
