/**
 * Streaming file bodies: a body's bytes move between a file and the
 * connection through one reused buffer, hashed in the same pass. The bytes
 * on the wire (size header or chunked marker, chunk headers, the hash
 * trailer) and their limit are the protocol's, in
 * `lib/protocol/body_format.ts`; this module only streams through them.
 * The trailer is in the session's checksum (`checksum`: SHA-256 unless
 * told otherwise).
 *
 * A resumed transfer sends only the bytes from an offset; its trailer is the
 * hash of the whole file, so both sides start from a hash already fed with
 * the bytes before the offset (the `hash` option).
 *
 * @module
 */

import type { ChecksumName, RunningHash } from "../checksum.ts";
import { createStreamHash, type StreamHash } from "./stream_hash.ts";
import { IntegrityError, LocalIoError, ProtocolError, UnexpectedEofError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { formatBytes } from "../bytes.ts";
import {
  CHUNK_HEADER_LENGTH,
  encodeBodyHeader,
  encodeChunkHeader,
  encodeTrailer,
  readBodyHeader,
  readChunkHeader,
  readTrailer,
} from "../protocol/body_format.ts";

// The two constants a body's user needs (tests build wire bytes with them), without a second import.
export { CHUNKED_MARKER, HASH_TRAILER_LENGTH } from "../protocol/body_format.ts";
/**
 * The buffer a body moves through, on each side: at most this many bytes of
 * one transfer are held in memory at a time.
 */
export const BODY_BUFFER_BYTES = 1 << 20;
const DEFAULT_BUFFER = BODY_BUFFER_BYTES;

/**
 * The buffer a body of `size` bytes moves through: no larger than the body
 * (a 1 KiB GET holds 1 KiB, not 1 MiB) and at most `limit`. A chunked body
 * (`null`) gets `limit`.
 *
 * @param size The body's size, or `null` when chunked.
 * @param limit The largest buffer.
 * @returns The buffer's size in bytes, at least 1.
 *
 * @example
 * ```ts
 * import { bodyBufferSize } from "./body.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(bodyBufferSize(1024), 1024);
 * deepEqual(bodyBufferSize(0), 1);
 * deepEqual(bodyBufferSize(10 << 20), 1 << 20);
 * deepEqual(bodyBufferSize(null), 1 << 20);
 * ```
 */
export function bodyBufferSize(size: number | null, limit: number = DEFAULT_BUFFER): number {
  return size === null ? limit : Math.max(1, Math.min(size, limit));
}

/** What a body transfer moved. */
export interface BodyResult {
  /** Bytes in the body (the whole file's, for a resumed download). */
  size: number;
  /** The algorithm of `hash`. */
  checksum: ChecksumName;
  /** The body's hash (the whole file's, when resumed), lowercase hex. */
  hash: string;
}

/** Options for {@linkcode sendBody}. */
export interface SendBodyOptions {
  /** The exact number of bytes to send, or `null` to send chunked until `source` ends. */
  size: number | null;
  /**
   * The trailer's algorithm (ignored when `hash` is given).
   *
   * @default {"sha256"}
   */
  checksum?: ChecksumName | undefined;
  /** The body's known hash (the whole file's, when resuming); when given, the sender does not hash. */
  known?: string | undefined;
  /**
   * A hash already fed with the bytes before this body (a resumed
   * transfer): the trailer is then the hash of those bytes and the body's.
   * Ignored when `known` is given.
   */
  hash?: RunningHash | undefined;
  /**
   * Read buffer size.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /** Called with each chunk's length after it is sent. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** What is being sent, for error messages. */
  label?: string | undefined;
  /**
   * Called after the last byte is sent and before a given `known` hash is
   * written as the trailer; throwing there breaks the body (the connection
   * must then be closed), so no trailer vouches for bytes it was not made of.
   */
  beforeTrailer?: (() => void | Promise<void>) | undefined;
  /**
   * The smallest body hashed on a second thread (see `stream_hash.ts`).
   *
   * @default {Infinity}
   */
  hashThreadFrom?: number | undefined;
}

/**
 * Streams a body from `source` to `writer`, hashing as it goes.
 *
 * @param writer The connection.
 * @param source The file or stdin.
 * @param options The size (or `null` for chunked) and a known hash.
 * @returns The size of the body sent and the hash sent (of the whole file, with `hash`).
 * @throws {LocalIoError} When a sized source ends early: the stream is then
 * broken mid-body and the connection must be closed.
 *
 * @example
 * ```ts
 * import { sendBody } from "./body.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const out: Uint8Array[] = [];
 * const writer = { write: (p: Uint8Array) => (out.push(p.slice()), Promise.resolve(p.byteLength)) };
 * let done = false;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (done) return Promise.resolve(null);
 *     done = true;
 *     p.set([104, 105]);
 *     return Promise.resolve(2);
 *   },
 * };
 * const result = await sendBody(writer, source, { size: 2 });
 * deepEqual(result.size, 2);
 * ```
 */
export async function sendBody(
  writer: ByteWriter,
  source: ByteReader,
  options: SendBodyOptions,
): Promise<BodyResult> {
  const hash = options.known === undefined
    ? await createStreamHash({
      size: options.size,
      checksum: options.checksum,
      hash: options.hash,
      threadFrom: options.hashThreadFrom,
    })
    : null;
  try {
    return await sendHashed(writer, source, options, hash);
  } finally {
    hash?.close();
  }
}

async function sendHashed(
  writer: ByteWriter,
  source: ByteReader,
  options: SendBodyOptions,
  hash: StreamHash | null,
): Promise<BodyResult> {
  const buf = new Uint8Array(bodyBufferSize(options.size, options.bufferSize));
  let sent = 0;
  if (options.size !== null) {
    const size = options.size;
    await writeAll(writer, encodeBodyHeader(size));
    while (sent < size) {
      const n = await source.read(buf.subarray(0, Math.min(buf.byteLength, size - sent)));
      if (n === null) {
        throw new LocalIoError(
          `Cannot send ${options.label ? `"${options.label}"` : "the body"}: ` +
            `it ended after ${sent} of ${size} bytes`,
        );
      }
      const chunk = buf.subarray(0, n);
      const hashing = hash?.update(chunk);
      await writeAll(writer, chunk);
      if (hashing) await hashing;
      sent += n;
      options.onProgress?.(n);
    }
  } else {
    await writeAll(writer, encodeBodyHeader(null));
    // The chunk's header goes in front of its bytes, in the same buffer: one write per chunk.
    const room = buf.subarray(CHUNK_HEADER_LENGTH);
    while (true) {
      const n = await source.read(room);
      if (n === null) break;
      if (n === 0) continue;
      buf.set(encodeChunkHeader(n));
      const hashing = hash?.update(room.subarray(0, n));
      await writeAll(writer, buf.subarray(0, CHUNK_HEADER_LENGTH + n));
      if (hashing) await hashing;
      sent += n;
      options.onProgress?.(n);
    }
    await writeAll(writer, encodeChunkHeader(0));
  }
  if (options.known !== undefined) await options.beforeTrailer?.();
  const digest = options.known ?? await hash!.digest();
  await writeAll(writer, encodeTrailer(digest));
  return { size: sent, checksum: checksumOf(options), hash: digest };
}

/** The checksum a body's options settle: the fed hash's, the one named, or SHA-256. */
function checksumOf(
  options: { checksum?: ChecksumName | undefined; hash?: RunningHash | undefined },
) {
  return options.hash?.checksum ?? options.checksum ?? "sha256";
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
    const limit = options.bufferSize ?? DEFAULT_BUFFER;
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
    if (trailer !== digest) {
      throw new IntegrityError(
        `Checksum mismatch for ${what}: sender says ${
          trailer.replace(/[^0-9a-f]/g, "?")
        }, received bytes hash to ${digest}${checksum === "sha256" ? "" : ` (${checksum})`}`,
      );
    }
    return { size: total, checksum, hash: digest };
  } finally {
    hash.close();
  }
}
