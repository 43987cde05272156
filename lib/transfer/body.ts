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
import { LocalIoError } from "../errors.ts";
import {
  type ByteReader,
  type ByteWriter,
  isViewReader,
  type ViewReader,
} from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import {
  CHUNK_HEADER_LENGTH,
  encodeBodyHeader,
  encodeChunkHeader,
  encodeTrailer,
  MAX_CHUNK_BYTES,
  withdrawnTrailer,
} from "../protocol/body_format.ts";

export { BODY_BUFFER_BYTES, bodyBufferSize, type BodyResult, checksumOf } from "./body_buffer.ts";
import { bodyBufferSize, type BodyResult, checksumOf } from "./body_buffer.ts";

// The two constants a body's user needs (tests build wire bytes with them), without a second import.
export { CHUNKED_MARKER, HASH_TRAILER_LENGTH } from "../protocol/body_format.ts";
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
  /**
   * A buffer the caller lends to read through, kept by it between bodies
   * (one body at a time; the writer must be done with each piece when its
   * write settles): used when it is at least as large as the body's own
   * would be, so that a small file costs no new buffer.
   */
  buffer?: Uint8Array | undefined;
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
   * Asked after the last byte is read, before the trailer: `false` when the
   * source changed while it was read (a file written to meanwhile). The
   * trailer is then one that cannot match, so the receiver refuses the body
   * whole (INTEGRITY) and lands nothing, and the stream stays in step.
   */
  sourceIntact?: (() => boolean) | undefined;
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
  const want = bodyBufferSize(options.size, options.bufferSize);
  const lent = options.buffer;
  const buf = lent !== undefined && lent.byteLength >= want
    ? lent.subarray(0, want)
    : new Uint8Array(want);
  let sent = 0;
  // Bytes of zeros that stood in for a source that shrank while it was sent (`sendSized`).
  let padded = 0;
  if (options.size !== null) {
    await writeAll(writer, encodeBodyHeader(options.size));
    ({ sent, padded } = await sendSized(writer, source, buf, options, hash));
  } else if (isViewReader(source)) {
    await writeAll(writer, encodeBodyHeader(null));
    sent = await sendViews(writer, source, options, hash);
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
  // Asked even when it shrank: the caller learns from it that the source changed.
  if (options.sourceIntact?.() === false || padded > 0) {
    // Every digit changed: no bytes hash to it, so the receiver refuses them all.
    await writeAll(writer, encodeTrailer(withdrawnTrailer(digest)));
  } else {
    await writeAll(writer, encodeTrailer(digest));
  }
  return { size: sent - padded, checksum: checksumOf(options), hash: digest };
}

/**
 * The most zeros a sized body is made up with when its source shrank while
 * it was sent; past it the stream is given up instead (a file of gigabytes
 * cut to nothing is not worth sending again as zeros).
 */
const PAD_MAX = 64 << 20;

/**
 * A sized body's bytes. A body longer than `buf` is read one buffer ahead:
 * the next read (on Deno's I/O pool, for a large file) runs while this
 * buffer is hashed and written, into a second buffer of the same size. A
 * cold 1 GiB GET's server loop here: 515-593 ms reading in turn, 432-490
 * reading ahead. A source that ends early (a file cut shorter while it is
 * sent), when the caller can tell a refusal (`sourceIntact`), is made up
 * to the size with zeros, at most {@linkcode PAD_MAX}, and the body then
 * refused by its trailer: the session stays in step and goes on (a tree's
 * other files too), where it had to be broken off.
 */
async function sendSized(
  writer: ByteWriter,
  source: ByteReader,
  buf: Uint8Array,
  options: SendBodyOptions,
  hash: StreamHash | null,
): Promise<{ sent: number; padded: number }> {
  const size = options.size!;
  // A body that fits in `buf` is read in turn (a short read's rest waits for its write).
  const ahead = size > buf.byteLength;
  const bufs = [buf, ahead ? new Uint8Array(buf.byteLength) : buf];
  const next = (into: Uint8Array, from: number) =>
    from < size ? source.read(into.subarray(0, Math.min(into.byteLength, size - from))) : null;
  let sent = 0;
  let turn = 0;
  let reading = next(bufs[0]!, 0);
  try {
    while (sent < size) {
      const n = await reading;
      if (n === null && options.sourceIntact !== undefined && size - sent <= PAD_MAX) {
        const padded = size - sent;
        await sendZeros(writer, buf, padded, hash);
        return { sent: size, padded };
      }
      if (n === null) {
        throw new LocalIoError(
          `Cannot send ${options.label ? `"${options.label}"` : "the body"}: ` +
            `it ended after ${sent} of ${size} bytes`,
        );
      }
      const chunk = bufs[turn]!.subarray(0, n);
      if (ahead) reading = next(bufs[turn ^= 1]!, sent + n);
      const hashing = hash?.update(chunk);
      await writeAll(writer, chunk);
      if (hashing) await hashing;
      sent += n;
      if (!ahead) reading = next(buf, sent);
      options.onProgress?.(n);
    }
  } finally {
    // A read still under way when the write failed: its outcome no longer matters.
    reading?.catch(() => {});
  }
  return { sent, padded: 0 };
}

/** Sends `count` zero bytes (hashed, as the body's), through `buf`. */
async function sendZeros(
  writer: ByteWriter,
  buf: Uint8Array,
  count: number,
  hash: StreamHash | null,
): Promise<void> {
  buf.fill(0);
  for (let left = count; left > 0;) {
    const chunk = buf.subarray(0, Math.min(buf.byteLength, left));
    const hashing = hash?.update(chunk);
    await writeAll(writer, chunk);
    if (hashing) await hashing;
    left -= chunk.byteLength;
  }
}

/**
 * A chunked body from a source that lends its buffers: each view is a
 * chunk, sent after its header without being copied (two writes a chunk;
 * the connections have Nagle's delay off). Ends with the zero chunk.
 */
async function sendViews(
  writer: ByteWriter,
  source: ViewReader,
  options: SendBodyOptions,
  hash: StreamHash | null,
): Promise<number> {
  let sent = 0;
  while (true) {
    const view = await source.readView();
    if (view === null) break;
    for (let at = 0; at < view.byteLength; at += MAX_CHUNK_BYTES) {
      const chunk = view.subarray(at, at + MAX_CHUNK_BYTES);
      const hashing = hash?.update(chunk);
      await writeAll(writer, encodeChunkHeader(chunk.byteLength));
      await writeAll(writer, chunk);
      if (hashing) await hashing;
      sent += chunk.byteLength;
      options.onProgress?.(chunk.byteLength);
    }
  }
  await writeAll(writer, encodeChunkHeader(0));
  return sent;
}

// The receiving side, in its own module; its users import both from here.
export { receiveBody, type ReceiveBodyOptions } from "./receive_body.ts";
