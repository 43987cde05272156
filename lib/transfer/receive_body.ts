/**
 * Receiving a body: the counterpart of `sendBody` (body.ts), reading a
 * sized or chunked body from the connection into a sink, hashing it in the
 * same pass and checking the trailer. See body.ts for the whole picture.
 *
 * @module
 */

import {
  type ChecksumName,
  createChecksum,
  createChecksumNow,
  type RunningHash,
} from "../checksum.ts";
import { createStreamHash } from "./stream_hash.ts";
import { IntegrityError, ProtocolError, UnexpectedEofError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import { readFull } from "../framing/read_exact.ts";
import type { ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { formatBytes } from "../bytes.ts";
import {
  BODY_HEADER_LENGTH,
  decodeBodyHeader,
  decodeTrailer,
  readBodyHeader,
  readChunkHeader,
  readTrailer,
  TRAILER_LENGTHS,
} from "../protocol/body_format.ts";
import { BODY_BUFFER_BYTES, bodyBufferSize, type BodyResult, checksumOf } from "./body_buffer.ts";
/**
 * The error for a body whose trailer is not the hash of its bytes.
 *
 * @param what The body, as messages name it (`"a.txt"`, quoted).
 * @param trailer The trailer the sender wrote.
 * @param digest The hash of the bytes received.
 * @param checksum The algorithm of both.
 * @returns The error, its message showing both hashes (the sender's made printable).
 *
 * @example
 * ```ts
 * import { checksumMismatch } from "./receive_body.ts";
 * import { match } from "node:assert/strict";
 *
 * match(checksumMismatch('"a"', "00", "ff", "sha256").message, /sender says 00, received bytes hash to ff$/);
 * ```
 */
export function checksumMismatch(
  what: string,
  trailer: string,
  digest: string,
  checksum: ChecksumName,
): IntegrityError {
  return new IntegrityError(
    `Checksum mismatch for ${what}: sender says ${
      trailer.replace(/[^0-9a-f]/g, "?")
    }, received bytes hash to ${digest}${checksum === "sha256" ? "" : ` (${checksum})`}`,
  );
}

/** Options for {@linkcode receiveBody}. */
export interface ReceiveBodyOptions {
  /** The size the body must have (from the reply that preceded it), if known. */
  expectedSize?: number | null | undefined;
  /**
   * The largest body accepted.
   *
   * @default {Number.MAX_SAFE_INTEGER}
   */
  maxSize?: number | undefined;
  /**
   * Read buffer size.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /** Called with each chunk's length after it is written. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** What is being received, for error messages. */
  label?: string | undefined;
  /**
   * The smallest body hashed on a second thread (see `stream_hash.ts`).
   *
   * @default {Infinity}
   */
  hashThreadFrom?: number | undefined;
  /**
   * Throw the sink's error at once instead of reading the rest of the body
   * first. The stream is then out of step, so the caller must close it (a
   * client does after any failure in a body; a full disk should not make it
   * download the rest of a file for nothing).
   *
   * @default {false}
   */
  stopOnSinkError?: boolean;
  /**
   * The trailer's algorithm (ignored when `hash` is given).
   *
   * @default {"sha256"}
   */
  checksum?: ChecksumName | undefined;
  /**
   * A hash already fed with the bytes before this body (a resumed
   * transfer): the trailer must then be the hash of those bytes and the body's.
   */
  hash?: RunningHash | undefined;
}

/**
 * Receives a body from `reader` into `sink`, hashing as it goes, and checks
 * the trailer hash. When the sink fails (disk full), the rest of the body is
 * still read and discarded, so the stream stays in step; the sink's error is
 * thrown at the end (or at once, with `stopOnSinkError`). The sink never
 * receives more than `expectedSize` bytes: a chunked body that goes beyond
 * it is read to its end without being written, then refused.
 *
 * @param reader The connection, buffered.
 * @param sink The file or stdout.
 * @param options Expected size and limits.
 * @returns The size of the body and the hash (of the whole file, with `hash`), both verified.
 * @throws {IntegrityError} When the hash does not match, or the size is not the expected one.
 * @throws {UnexpectedEofError} When the stream ends inside the body.
 * @throws {ProtocolError} When the framing is malformed or over the limit.
 *
 * @example
 * ```ts
 * import { receiveBody, sendBody } from "./body.ts";
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const wire: number[] = [];
 * const writer = { write: (p: Uint8Array) => (wire.push(...p), Promise.resolve(p.byteLength)) };
 * let given = false;
 * const source = { read: (p: Uint8Array) => given ? Promise.resolve(null) : (given = true, p.set([1, 2, 3]), Promise.resolve(3)) };
 * await sendBody(writer, source, { size: null });
 * let read = false;
 * const reader = new BufferedReader({
 *   read: (p: Uint8Array) => read ? Promise.resolve(null) : (read = true, p.set(wire), Promise.resolve(wire.length)),
 * });
 * const got: number[] = [];
 * const sink = { write: (p: Uint8Array) => (got.push(...p), Promise.resolve(p.byteLength)) };
 * const result = await receiveBody(reader, sink);
 * deepEqual(got, [1, 2, 3]);
 * deepEqual(result.size, 3);
 * ```
 */
export async function receiveBody(
  reader: BufferedReader,
  sink: ByteWriter,
  options: ReceiveBodyOptions = {},
): Promise<BodyResult> {
  const maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
  const what = options.label ? `"${options.label}"` : "the data";
  const expected = options.expectedSize ?? null;
  // `null`: chunked, the size known only at the end.
  const size = await readBodyHeader(reader).catch((e) => {
    if (!(e instanceof UnexpectedEofError)) throw e;
    throw new UnexpectedEofError(`Connection closed before the size of ${what} arrived`);
  });
  if (size !== null && size > maxSize) {
    throw new ProtocolError(`Body of ${size} bytes is over the limit of ${maxSize} bytes`);
  }
  if (size !== null && expected !== null && size !== expected) {
    throw new ProtocolError(
      `Size mismatch for ${what}: announced ${expected} bytes, body has ${size}`,
    );
  }
  // Made once the header tells the size: a large sized body is hashed on a thread.
  const checksum = checksumOf(options);
  const hash = await createStreamHash({
    size,
    checksum,
    hash: options.hash,
    threadFrom: options.hashThreadFrom,
  });
  try {
    // Sized to the body; a chunked body's grows with its chunks, up to the limit.
    const limit = options.bufferSize ?? BODY_BUFFER_BYTES;
    let buf = new Uint8Array(size === null ? 1 : bodyBufferSize(size, limit));
    let sinkError: unknown = null;
    let total = 0;
    const failSink = (e: unknown) => {
      if (options.stopOnSinkError) throw e;
      sinkError = e;
    };

    const streamBytes = async (count: number) => {
      let left = count;
      while (left > 0) {
        const n = await reader.read(buf.subarray(0, Math.min(buf.byteLength, left)));
        if (n === null) {
          // In the user's words: how much of how much arrived.
          const of = size === null ? "" : ` of ${formatBytes(size)}`;
          throw new UnexpectedEofError(
            `Connection closed after ${formatBytes(total)}${of} of ${what}`,
          );
        }
        const chunk = buf.subarray(0, n);
        const hashing = hash.update(chunk);
        if (sinkError === null) {
          try {
            await writeAll(sink, chunk);
          } catch (e) {
            failSink(e);
          }
        }
        if (hashing) await hashing;
        left -= n;
        total += n;
        options.onProgress?.(n);
      }
    };

    if (size !== null) await streamBytes(size);
    else {
      while (true) {
        const n = await readChunkHeader(reader);
        if (n === null) throw new UnexpectedEofError(`Connection closed inside ${what}`);
        if (n === 0) break;
        if (n > buf.byteLength && buf.byteLength < limit) {
          buf = new Uint8Array(bodyBufferSize(n, limit));
        }
        if (total + n > maxSize) {
          throw new ProtocolError(`Body of ${what} is over the limit of ${maxSize} bytes`);
        }
        if (expected !== null && total + n > expected && sinkError === null) {
          failSink(
            new IntegrityError(
              `Size mismatch for ${what}: expected ${expected} bytes, got more`,
            ),
          );
        }
        await streamBytes(n);
      }
    }
    const trailer = await readTrailer(reader, checksum).catch((e) => {
      if (!(e instanceof UnexpectedEofError)) throw e;
      throw new UnexpectedEofError(
        `Connection closed after all ${formatBytes(total)} of ${what}, before its checksum`,
      );
    });
    const digest = await hash.digest();
    if (sinkError !== null) throw sinkError;
    if (expected !== null && total !== expected) {
      throw new IntegrityError(
        `Size mismatch for ${what}: expected ${expected} bytes, got ${total}`,
      );
    }
    if (trailer !== digest) throw checksumMismatch(what, trailer, digest, checksum);
    return { size: total, checksum, hash: digest };
  } finally {
    hash.close();
  }
}

/**
 * The largest body a receiver may read whole into memory before it writes
 * it ({@linkcode receiveWhole}): a small file of a tree.
 */
export const WHOLE_BODY_MAX = 256 * 1024;

/**
 * Reads a sized body whole into `data` (its size the one announced) and
 * checks its trailer: the short way for a small file, one copy and one hash
 * over the whole, where {@linkcode receiveBody} streams through a sink. A
 * body whose size is not `data`'s breaks the stream (`ProtocolError`); one
 * whose trailer does not match is read whole first, so the stream stays in
 * step (`IntegrityError`). A body buffered whole already is taken at once
 * ({@linkcode receiveWholeBuffered}).
 *
 * @param reader The connection, buffered, at the body's header.
 * @param data Where the bytes go: as long as the announced size.
 * @param label What is being received, for error messages.
 * @param checksum The trailer's algorithm.
 * @returns The size and the verified hash.
 *
 * @example
 * ```ts
 * import { receiveWhole } from "./receive_body.ts";
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
  if (size !== data.byteLength) {
    throw new ProtocolError(
      `Size mismatch for ${what}: announced ${data.byteLength} bytes, body has ${
        size ?? "no size"
      }`,
    );
  }
  await readFull(reader, data, what);
  const trailer = await readTrailer(reader, checksum);
  return verifyWhole(data, trailer, await createChecksum(checksum), label);
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
 * import { receiveWholeBuffered } from "./receive_body.ts";
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
  const hash = createChecksumNow(checksum);
  if (hash === null) return null;
  data.set(wire.subarray(BODY_HEADER_LENGTH, trailerAt));
  const trailer = decodeTrailer(wire.subarray(trailerAt));
  reader.consume(wire.byteLength);
  return verifyWhole(data, trailer, hash, label);
}

/** The size and hash of a body held whole, once its hash is `trailer`. */
function verifyWhole(
  data: Uint8Array,
  trailer: string,
  hash: RunningHash,
  label: string,
): BodyResult {
  hash.update(data);
  const digest = hash.digest();
  if (trailer !== digest) throw checksumMismatch(`"${label}"`, trailer, digest, hash.checksum);
  return { size: data.byteLength, checksum: hash.checksum, hash: digest };
}
