/**
 * File bodies on the wire: a 16-hex-digit size header (or the chunked
 * marker for a body of unknown size), the bytes, then the SHA-256 of the
 * bytes as 64 hex digits. Hashing happens while streaming, in the same pass,
 * through one reused buffer.
 *
 * Sized:   `[16 hex size][size bytes][64 hex sha256]`
 * Chunked: `ffffffffffffffff` then `[8 hex n][n bytes]`... `00000000` `[64 hex sha256]`
 *
 * @module
 */

import { createHash } from "node:crypto";
import { IntegrityError, LocalIoError, ProtocolError, UnexpectedEofError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import { readFixed } from "../framing/fixed.ts";
import {
  decodeSizeHeader,
  encodeSizeHeader,
  readSizeHeader,
  SIZE_HEADER_LENGTH,
  WIDE_SIZE_HEADER_LENGTH,
} from "../framing/size_header.ts";
import { readFull } from "../framing/read_exact.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { MAX_CHUNK_BYTES } from "../protocol/limits.ts";

/** The size header that announces a chunked body. */
export const CHUNKED_MARKER = "ffffffffffffffff";
/** Length of the SHA-256 trailer: 64 hex digits. */
export const HASH_TRAILER_LENGTH = 64;
const DEFAULT_BUFFER = 1 << 20;
const encoder = new TextEncoder();

/** What a body transfer moved. */
export interface BodyResult {
  /** Bytes in the body. */
  size: number;
  /** SHA-256 of the body, lowercase hex. */
  sha256: string;
}

/** Options for {@linkcode sendBody}. */
export interface SendBodyOptions {
  /** The exact number of bytes to send, or `null` to send chunked until `source` ends. */
  size: number | null;
  /** The body's known SHA-256; when given, the sender does not hash. */
  sha256?: string | undefined;
  /**
   * Read buffer size.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /** Called with each chunk's length after it is sent. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** What is being sent, for error messages. */
  label?: string;
}

/**
 * Streams a body from `source` to `writer`, hashing as it goes.
 *
 * @param writer The connection.
 * @param source The file or stdin.
 * @param options The size (or `null` for chunked) and a known hash.
 * @returns The size sent and the hash sent.
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
  const hash = options.sha256 === undefined ? createHash("sha256") : null;
  const buf = new Uint8Array(options.bufferSize ?? DEFAULT_BUFFER);
  let sent = 0;
  if (options.size !== null) {
    const size = options.size;
    await writeAll(writer, encodeSizeHeader(size, { wide: true }));
    while (sent < size) {
      const n = await source.read(buf.subarray(0, Math.min(buf.byteLength, size - sent)));
      if (n === null) {
        throw new LocalIoError(
          `Cannot send ${options.label ? `"${options.label}"` : "the body"}: ` +
            `it ended after ${sent} of ${size} bytes`,
        );
      }
      const chunk = buf.subarray(0, n);
      hash?.update(chunk);
      await writeAll(writer, chunk);
      sent += n;
      options.onProgress?.(n);
    }
  } else {
    await writeAll(writer, encoder.encode(CHUNKED_MARKER));
    // The chunk's header goes in front of its bytes, in the same buffer: one write per chunk.
    const room = buf.subarray(SIZE_HEADER_LENGTH);
    while (true) {
      const n = await source.read(room);
      if (n === null) break;
      if (n === 0) continue;
      buf.set(encodeSizeHeader(n));
      hash?.update(room.subarray(0, n));
      await writeAll(writer, buf.subarray(0, SIZE_HEADER_LENGTH + n));
      sent += n;
      options.onProgress?.(n);
    }
    await writeAll(writer, encodeSizeHeader(0));
  }
  const sha256 = options.sha256 ?? hash!.digest("hex");
  await writeAll(writer, encoder.encode(sha256));
  return { size: sent, sha256 };
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
  maxSize?: number;
  /**
   * Read buffer size.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /** Called with each chunk's length after it is written. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** What is being received, for error messages. */
  label?: string;
  /**
   * Throw the sink's error at once instead of reading the rest of the body
   * first. The stream is then out of step, so the caller must close it (a
   * client does after any failure in a body; a full disk should not make it
   * download the rest of a file for nothing).
   *
   * @default {false}
   */
  stopOnSinkError?: boolean;
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
 * @returns The size and hash received (both verified).
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
  const hash = createHash("sha256");
  const buf = new Uint8Array(options.bufferSize ?? DEFAULT_BUFFER);
  const maxSize = options.maxSize ?? Number.MAX_SAFE_INTEGER;
  const what = options.label ? `"${options.label}"` : "the body";
  const expected = options.expectedSize ?? null;
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
        throw new UnexpectedEofError(
          `Connection closed after ${total} bytes of ${what}`,
        );
      }
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      if (sinkError === null) {
        try {
          await writeAll(sink, chunk);
        } catch (e) {
          failSink(e);
        }
      }
      left -= n;
      total += n;
      options.onProgress?.(n);
    }
  };

  const header = await readFull(reader, new Uint8Array(WIDE_SIZE_HEADER_LENGTH), "body header");
  const headerText = new TextDecoder().decode(header);
  if (headerText === CHUNKED_MARKER) {
    while (true) {
      const n = await readSizeHeader(reader, { maxBytes: MAX_CHUNK_BYTES });
      if (n === null) throw new UnexpectedEofError(`Connection closed inside ${what}`);
      if (n === 0) break;
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
  } else {
    const size = decodeSizeHeader(header);
    if (size > maxSize) {
      throw new ProtocolError(`Body of ${size} bytes is over the limit of ${maxSize} bytes`);
    }
    if (expected !== null && size !== options.expectedSize) {
      throw new ProtocolError(
        `Size mismatch for ${what}: announced ${expected} bytes, body has ${size}`,
      );
    }
    await streamBytes(size);
  }
  const trailer = new TextDecoder().decode(
    await readFixed(reader, HASH_TRAILER_LENGTH, { padByte: 0 }),
  ).toLowerCase();
  const sha256 = hash.digest("hex");
  if (sinkError !== null) throw sinkError;
  if (expected !== null && total !== options.expectedSize) {
    throw new IntegrityError(
      `Size mismatch for ${what}: expected ${expected} bytes, got ${total}`,
    );
  }
  if (trailer !== sha256) {
    throw new IntegrityError(
      `Checksum mismatch for ${what}: sender says ${
        trailer.replace(/[^0-9a-f]/g, "?")
      }, received bytes hash to ${sha256}`,
    );
  }
  return { size: total, sha256 };
}
