/**
 * The one-shot pipe's wire format: the sender writes the preamble line
 * `BFTP-PIPE/1\n` (so a wrong peer is caught at once), then one body in the
 * encoding of BFTP's transfers: sized for a regular file, chunked for a
 * stream, always followed by the SHA-256 the receiver checks. Nothing flows
 * back; the receiver stops reading once the hash has been checked.
 *
 * ```
 * BFTP-PIPE/1\n [16 hex size][bytes][64 hex sha256]
 * BFTP-PIPE/1\n ffffffffffffffff ([8 hex n][n bytes])... 00000000 [64 hex sha256]
 * ```
 *
 * @module
 */

import { ConnectionError, ProtocolError, TimeoutError, UnexpectedEofError } from "../errors.ts";
import { BufferedReader } from "../framing/buffered_reader.ts";
import { encodeDelimited, readDelimited } from "../framing/delimited.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { type BodyResult, receiveBody, sendBody } from "../transfer/body.ts";
import { ONE_TRANSFER_THREAD_FROM } from "../transfer/stream_hash.ts";
import { type ChecksumName, CHECKSUMS } from "../checksum.ts";

/**
 * The line that opens a version 1 pipe stream (sent with a `\n` after it),
 * whose trailer is a SHA-256. Version 2 names its checksum:
 * `BFTP-PIPE/2 xxh3-128`; a sender under SHA-256 still opens with this line,
 * so that older receivers take it.
 */
export const PIPE_PREAMBLE = "BFTP-PIPE/1";

/** The first lines a receiver takes, as its messages name them. */
const EXPECTED_PREAMBLES = `"BFTP-PIPE/2 CHECKSUM" or "${PIPE_PREAMBLE}"`;

/** The checksum a sender uses unless told otherwise: as fast as the wire (see checksum.ts). */
export const DEFAULT_PIPE_CHECKSUM: ChecksumName = "xxh3-128";

/**
 * The first line a sender writes for its checksum.
 *
 * @param checksum The body checksum.
 * @returns `BFTP-PIPE/1` for SHA-256, `BFTP-PIPE/2 NAME` for another.
 *
 * @example
 * ```ts
 * import { pipePreamble } from "./pipe.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([pipePreamble("sha256"), pipePreamble("xxh3-128")], ["BFTP-PIPE/1", "BFTP-PIPE/2 xxh3-128"]);
 * ```
 */
export function pipePreamble(checksum: ChecksumName): string {
  return checksum === "sha256" ? PIPE_PREAMBLE : `BFTP-PIPE/2 ${checksum}`;
}

/**
 * The checksum a receiver reads from the sender's first line.
 *
 * @param line The line, without its line feed.
 * @param accepted The checksums this receiver takes.
 * @returns The checksum of the stream.
 * @throws {ProtocolError} For another program, another version, or a checksum not accepted.
 *
 * @example
 * ```ts
 * import { pipeChecksum } from "./pipe.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(pipeChecksum("BFTP-PIPE/1"), "sha256");
 * deepEqual(pipeChecksum("BFTP-PIPE/2 xxh3-128"), "xxh3-128");
 * throws(() => pipeChecksum("BFTP-PIPE/2 xxh3-128", ["sha256"]), /only "sha256"/);
 * throws(() => pipeChecksum("BFTP-PIPE/3 x"), /version 3/);
 * ```
 */
export function pipeChecksum(
  line: string,
  accepted: readonly ChecksumName[] = CHECKSUMS,
): ChecksumName {
  const match = /^BFTP-PIPE\/(\d{1,6})(?: (\S{1,32}))?$/.exec(line);
  if (match === null) {
    throw new ProtocolError(
      `Not a bftp pipe stream: it starts with "${printable(line)}", not "${PIPE_PREAMBLE}"`,
    );
  }
  const [, version, name] = match;
  let checksum: string | undefined;
  if (version === "1" && name === undefined) checksum = "sha256";
  else if (version === "2" && name !== undefined) checksum = name;
  else {
    throw new ProtocolError(
      `The sender speaks pipe version ${version}; this bftp knows versions 1 and 2 ` +
        `(first line "${printable(line)}")`,
    );
  }
  const known = accepted.find((c) => c === checksum);
  if (known === undefined) {
    throw new ProtocolError(
      `The sender's checksum is "${printable(checksum)}"; this receiver takes only ` +
        `${accepted.map((c) => `"${c}"`).join(" or ")} (see --checksum)`,
    );
  }
  return known;
}

/** The longest first line a receiver reads before it gives up on the peer. */
const MAX_PREAMBLE_BYTES = 64;

/** Seconds a receiver waits for the sender's first line, unless told otherwise. */
export const DEFAULT_PREAMBLE_TIMEOUT = 30;

/** Options for {@linkcode sendPipe}. */
export interface SendPipeOptions {
  /** The exact size of `source` (a regular file), or `null` to stream it chunked until it ends. */
  size: number | null;
  /** Called with each chunk's length after it is sent. */
  onProgress?: ((bytes: number) => void) | undefined;
  /**
   * What is being sent, for error messages.
   *
   * @default {"the data"}
   */
  label?: string;
  /**
   * The body checksum (SHA-256 opens with version 1's line).
   *
   * @default {"xxh3-128"}
   */
  checksum?: ChecksumName | undefined;
}

/** Options for {@linkcode receivePipe}. */
export interface ReceivePipeOptions {
  /** Called with each chunk's length after it is written to the sink. */
  onProgress?: ((bytes: number) => void) | undefined;
  /**
   * The largest body accepted.
   *
   * @default {Number.MAX_SAFE_INTEGER}
   */
  maxSize?: number;
  /**
   * Seconds to wait for the sender's first line: a peer that accepts and
   * says nothing (not a bftp sender at all) fails with a timeout instead of
   * hanging; 0 waits for ever. The body after it may pause for as long as
   * the sender's own input does.
   *
   * @default {30}
   */
  preambleTimeout?: number;
  /**
   * The checksums taken from a sender; another one is refused before any
   * byte reaches the sink.
   *
   * @default {CHECKSUMS}
   */
  checksums?: readonly ChecksumName[] | undefined;
}

/** Turns the socket's own failures into {@linkcode ConnectionError}s; leaves any other error alone. */
function connectionFailure(e: unknown): unknown {
  if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
    return new ConnectionError("Connection closed", { cause: e });
  }
  if (
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.NotConnected
  ) {
    return new ConnectionError("Connection lost: the peer closed it", { cause: e });
  }
  return e;
}

/** The connection's reads, with its failures as {@linkcode ConnectionError}s. */
function guardedReader(conn: ByteReader): ByteReader {
  return { read: (p) => conn.read(p).catch((e) => Promise.reject(connectionFailure(e))) };
}

/** The connection's writes, with its failures as {@linkcode ConnectionError}s. */
function guardedWriter(conn: ByteWriter): ByteWriter {
  return { write: (p) => conn.write(p).catch((e) => Promise.reject(connectionFailure(e))) };
}

/**
 * Sends `source` down a pipe connection: the preamble, then the body and
 * its SHA-256.
 *
 * @param conn The connection (only written to).
 * @param source The file or stdin.
 * @param options The size (or `null`: chunked), progress.
 * @returns The size and hash sent.
 * @throws {ConnectionError} When the connection breaks.
 * @throws {LocalIoError} When a sized source ends early.
 *
 * @example
 * ```ts
 * import { receivePipe, sendPipe } from "./pipe.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const wire: number[] = [];
 * const conn = { write: (p: Uint8Array) => (wire.push(...p), Promise.resolve(p.byteLength)) };
 * let given = false;
 * const source = { read: (p: Uint8Array) => given ? Promise.resolve(null) : (given = true, p.set([7, 8]), Promise.resolve(2)) };
 * const sent = await sendPipe(conn, source, { size: 2 });
 *
 * let read = false;
 * const back = { read: (p: Uint8Array) => read ? Promise.resolve(null) : (read = true, p.set(wire), Promise.resolve(wire.length)) };
 * const got: number[] = [];
 * const sink = { write: (p: Uint8Array) => (got.push(...p), Promise.resolve(p.byteLength)) };
 * const received = await receivePipe(back, sink);
 * deepEqual(got, [7, 8]);
 * deepEqual(received.hash, sent.hash);
 * ```
 */
export async function sendPipe(
  conn: ByteWriter,
  source: ByteReader,
  options: SendPipeOptions,
): Promise<BodyResult> {
  const out = guardedWriter(conn);
  const checksum = options.checksum ?? DEFAULT_PIPE_CHECKSUM;
  await writeAll(out, encodeDelimited(pipePreamble(checksum)));
  return await sendBody(out, source, {
    checksum,
    size: options.size,
    onProgress: options.onProgress,
    hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
    label: options.label,
  });
}

function printable(text: string): string {
  return text.slice(0, 32).replace(/[^\x20-\x7e]/g, "?");
}

/**
 * Receives a pipe stream into `sink`: checks the preamble, streams the body
 * into the sink while hashing it, and checks the SHA-256 at the end. The
 * sink has then seen every byte; on a failure it may have seen a part, so a
 * caller writing a file writes a temporary one and keeps it only on success.
 *
 * @param conn The connection (only read from).
 * @param sink The file or stdout.
 * @param options Progress and the size limit.
 * @returns The size and the verified hash.
 * @throws {ProtocolError} When the peer is not a bftp pipe sender, or the framing is broken.
 * @throws {IntegrityError} When the bytes do not hash to the sender's SHA-256.
 * @throws {ConnectionError} When the stream is cut ({@linkcode UnexpectedEofError}) or breaks.
 *
 * @example
 * ```ts
 * import { receivePipe } from "./pipe.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const wire = new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n");
 * let read = false;
 * const conn = { read: (p: Uint8Array) => read ? Promise.resolve(null) : (read = true, p.set(wire), Promise.resolve(wire.length)) };
 * const sink = { write: (p: Uint8Array) => Promise.resolve(p.byteLength) };
 * await rejects(receivePipe(conn, sink), /Not a bftp pipe stream/);
 * ```
 */
export async function receivePipe(
  conn: ByteReader,
  sink: ByteWriter,
  options: ReceivePipeOptions = {},
): Promise<BodyResult> {
  const reader = new BufferedReader(guardedReader(conn));
  let line: Uint8Array | null;
  const waitSeconds = options.preambleTimeout ?? DEFAULT_PREAMBLE_TIMEOUT;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const reading = readDelimited(reader, { maxBytes: MAX_PREAMBLE_BYTES });
    // Left pending when the wait ends first; the caller's closing the connection ends it.
    reading.catch(() => {});
    line = waitSeconds <= 0 ? await reading : await Promise.race([
      reading,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() =>
          reject(
            new TimeoutError(
              `The peer sent no whole first line in ${waitSeconds} s: it is not a bftp ` +
                `sender (expected ${EXPECTED_PREAMBLES})`,
            ),
          ), waitSeconds * 1000);
      }),
    ]);
  } catch (e) {
    if (e instanceof UnexpectedEofError || e instanceof ProtocolError) {
      throw new ProtocolError(
        `Not a bftp pipe stream: the peer did not start with ${EXPECTED_PREAMBLES}`,
        { cause: e },
      );
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (line === null) {
    throw new UnexpectedEofError("The peer closed the connection before sending anything");
  }
  const text = new TextDecoder().decode(line).replace(/\r$/, "");
  const checksum = pipeChecksum(text, options.checksums);
  return await receiveBody(reader, sink, {
    checksum,
    onProgress: options.onProgress,
    hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
    maxSize: options.maxSize,
  });
}
