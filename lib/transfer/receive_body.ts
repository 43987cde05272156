/**
 * Receiving a body: the counterpart of `sendBody` (body.ts), reading a
 * sized or chunked body from the connection into a sink, hashing it in the
 * same pass and checking the trailer. See body.ts for the whole picture.
 *
 * @module
 */

import type { ChecksumName, RunningHash } from "../checksum.ts";
import { createStreamHash, type StreamHash } from "./stream_hash.ts";
import { IntegrityError, ProtocolError, UnexpectedEofError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { formatBytes } from "../bytes.ts";
import {
  isWithdrawnTrailer,
  readBodyHeader,
  readChunkHeader,
  readTrailer,
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
  // Found once the trailer was read: the stream is in step.
  if (isWithdrawnTrailer(trailer)) {
    return new IntegrityError(
      `${what} changed while it was sent (the sender says so): nothing was kept`,
      { bodyRead: true },
    );
  }
  return new IntegrityError(
    `Checksum mismatch for ${what}: sender says ${
      trailer.replace(/[^0-9a-f]/g, "?")
    }, received bytes hash to ${digest}${checksum === "sha256" ? "" : ` (${checksum})`}`,
    { bodyRead: true },
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
  // `null`: chunked, the size known only at the end.
  const size = await readCheckedHeader(reader, bodyTerms(options));
  return await receiveBodyAfterHeader(reader, sink, size, options);
}

/**
 * {@linkcode receiveBody} once the body's header has been read: its bytes
 * (`size` of them, or chunks when `null`) and its trailer, checked as
 * `receiveBody` checks them. `receive_whole.ts` reads the header itself.
 *
 * @param reader The connection, buffered, just past the body's header.
 * @param sink Where the bytes go.
 * @param size What the header said: the size, or `null` for a chunked body.
 * @param options Expected size and limits.
 * @returns The size of the body and its verified hash.
 * @throws {IntegrityError} When the hash does not match, or the size is not the expected one.
 * @throws {UnexpectedEofError} When the stream ends inside the body.
 * @throws {ProtocolError} When the framing is malformed or over the limit.
 *
 * @example
 * ```ts
 * import { receiveBodyAfterHeader } from "./receive_body.ts";
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * // A chunk of 2 bytes, the end marker, then the SHA-256 of "hi".
 * const wire = new TextEncoder().encode(
 *   "00000002hi00000000" + "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
 * );
 * const reader = new BufferedReader({ read: (p: Uint8Array) => (p.set(wire), Promise.resolve(wire.length)) });
 * const got: number[] = [];
 * const sink = { write: (p: Uint8Array) => (got.push(...p), Promise.resolve(p.byteLength)) };
 * const result = await receiveBodyAfterHeader(reader, sink, null, { checksum: "sha256" });
 * deepEqual([result.size, got], [2, [104, 105]]);
 * ```
 */
export async function receiveBodyAfterHeader(
  reader: BufferedReader,
  sink: ByteWriter,
  size: number | null,
  options: ReceiveBodyOptions = {},
): Promise<BodyResult> {
  const { maxSize, what, expected } = bodyTerms(options);
  // Made once the header tells the size: a large sized body is hashed on a thread.
  const checksum = checksumOf(options);
  const hash = await createStreamHash({
    size,
    checksum,
    hash: options.hash,
    threadFrom: options.hashThreadFrom,
  });
  try {
    const pump = new BodyPump(reader, sink, hash, { size, what, options });
    if (size !== null) await pump.stream(size);
    else await pump.chunks(maxSize, expected);
    const trailer = await readTrailer(reader, checksum).catch((e) => {
      if (!(e instanceof UnexpectedEofError)) throw e;
      throw new UnexpectedEofError(
        `Connection closed after all ${formatBytes(pump.total)} of ${what}, before its checksum`,
      );
    });
    const digest = await hash.digest();
    pump.throwSinkError();
    if (expected !== null && pump.total !== expected) {
      throw new IntegrityError(
        `Size mismatch for ${what}: expected ${expected} bytes, got ${pump.total}`,
      );
    }
    if (trailer !== digest) throw checksumMismatch(what, trailer, digest, checksum);
    return { size: pump.total, checksum, hash: digest };
  } finally {
    hash.close();
  }
}

/** What a body is held to: its limit, its name in messages, the size it must have. */
interface BodyTerms {
  maxSize: number;
  what: string;
  expected: number | null;
}

function bodyTerms(options: ReceiveBodyOptions): BodyTerms {
  return {
    maxSize: options.maxSize ?? Number.MAX_SAFE_INTEGER,
    what: options.label ? `"${options.label}"` : "the data",
    expected: options.expectedSize ?? null,
  };
}

/** A body's header, refused when over `maxSize` or not the `expected` size; `null`: chunked. */
async function readCheckedHeader(
  reader: BufferedReader,
  { what, maxSize, expected }: BodyTerms,
): Promise<number | null> {
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
  return size;
}

/**
 * Moves a body's bytes from the connection to the sink through one buffer,
 * hashing them on the way. A sink that fails is remembered (or, with
 * `stopOnSinkError`, thrown at once): the body is still read to its end,
 * so the stream stays in step.
 */
class BodyPump {
  /** The bytes moved so far. */
  total = 0;
  readonly #reader: BufferedReader;
  readonly #sink: ByteWriter;
  readonly #hash: StreamHash;
  readonly #size: number | null;
  readonly #what: string;
  readonly #options: ReceiveBodyOptions;
  /** Sized to the body; a chunked body's grows with its chunks, up to the limit. */
  readonly #limit: number;
  #buf: Uint8Array;
  #sinkError: unknown = null;

  constructor(
    reader: BufferedReader,
    sink: ByteWriter,
    hash: StreamHash,
    body: { size: number | null; what: string; options: ReceiveBodyOptions },
  ) {
    this.#reader = reader;
    this.#sink = sink;
    this.#hash = hash;
    this.#size = body.size;
    this.#what = body.what;
    this.#options = body.options;
    this.#limit = body.options.bufferSize ?? BODY_BUFFER_BYTES;
    this.#buf = new Uint8Array(body.size === null ? 1 : bodyBufferSize(body.size, this.#limit));
  }

  /** Moves the next `count` bytes. */
  async stream(count: number): Promise<void> {
    let left = count;
    while (left > 0) {
      const n = await this.#reader.read(
        this.#buf.subarray(0, Math.min(this.#buf.byteLength, left)),
      );
      if (n === null) {
        // In the user's words: how much of how much arrived.
        const of = this.#size === null ? "" : ` of ${formatBytes(this.#size)}`;
        throw new UnexpectedEofError(
          `Connection closed after ${formatBytes(this.total)}${of} of ${this.#what}`,
        );
      }
      const chunk = this.#buf.subarray(0, n);
      const hashing = this.#hash.update(chunk);
      if (this.#sinkError === null) {
        try {
          await writeAll(this.#sink, chunk);
        } catch (e) {
          this.#failSink(e);
        }
      }
      if (hashing) await hashing;
      left -= n;
      this.total += n;
      this.#options.onProgress?.(n);
    }
  }

  /** Moves a chunked body's chunks, up to its end marker. */
  async chunks(maxSize: number, expected: number | null): Promise<void> {
    while (true) {
      const n = await readChunkHeader(this.#reader);
      if (n === null) throw new UnexpectedEofError(`Connection closed inside ${this.#what}`);
      if (n === 0) return;
      if (n > this.#buf.byteLength && this.#buf.byteLength < this.#limit) {
        this.#buf = new Uint8Array(bodyBufferSize(n, this.#limit));
      }
      if (this.total + n > maxSize) {
        throw new ProtocolError(`Body of ${this.#what} is over the limit of ${maxSize} bytes`);
      }
      if (expected !== null && this.total + n > expected && this.#sinkError === null) {
        this.#failSink(
          new IntegrityError(
            `Size mismatch for ${this.#what}: expected ${expected} bytes, got more`,
          ),
        );
      }
      await this.stream(n);
    }
  }

  /** Throws what the sink failed with, if it did. */
  throwSinkError(): void {
    if (this.#sinkError !== null) throw this.#sinkError;
  }

  #failSink(e: unknown): void {
    if (this.#options.stopOnSinkError) throw e;
    this.#sinkError = e;
  }
}
