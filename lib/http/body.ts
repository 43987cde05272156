/**
 * The body of an HTTP/1.x response: how it is delimited (none, a
 * `Content-Length`, chunked, or the end of the connection) and streaming it
 * to a writer through one reused buffer, failing when it is cut short.
 *
 * @module
 */

import { IntegrityError, ProtocolError, UnexpectedEofError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { readHttpLine } from "./line.ts";
import { headerValues, type ResponseHead } from "./response.ts";

/** How a response body ends. */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** Options for {@linkcode copyBody}. */
export interface CopyBodyOptions {
  /**
   * The size of the one reused buffer.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /**
   * The most bytes the trailer section of a chunked body may take.
   *
   * @default {65536}
   */
  maxTrailerBytes?: number;
  /** Called with each piece of the body before it is written (to count it). */
  onChunk?: (chunk: Uint8Array) => void;
}

const CRLF = new Uint8Array([13, 10]);
const latin1 = new TextDecoder("latin1");
const MAX_CHUNK_LINE = 4096;

/**
 * Decides how the body of a response to a GET is delimited (RFC 9112 section
 * 6.3): no body for `1xx`, `204` and `304`; chunked when it is the last
 * transfer coding; until close for any other transfer coding; else the
 * `Content-Length`; else until close.
 *
 * @param head The status and header fields.
 * @returns The framing.
 * @throws {ProtocolError} When `Content-Length` is malformed or given twice
 * with different values.
 *
 * @example
 * ```ts
 * import { bodyFraming } from "./body.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(bodyFraming({ status: 200, headers: [["Content-Length", "5"]] }), { kind: "length", length: 5 });
 * deepEqual(bodyFraming({ status: 200, headers: [["Transfer-Encoding", "chunked"]] }), { kind: "chunked" });
 * deepEqual(bodyFraming({ status: 200, headers: [] }), { kind: "close" });
 * deepEqual(bodyFraming({ status: 304, headers: [] }), { kind: "none" });
 * ```
 */
export function bodyFraming(head: Pick<ResponseHead, "status" | "headers">): BodyFraming {
  if (head.status < 200 || head.status === 204 || head.status === 304) return { kind: "none" };
  const codings = headerValues(head, "Transfer-Encoding")
    .flatMap((v) => v.split(","))
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "");
  if (codings.length > 0) {
    return codings[codings.length - 1] === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const lengths = headerValues(head, "Content-Length").flatMap((v) => v.split(",")).map((v) =>
    v.trim()
  );
  if (lengths.length === 0) return { kind: "close" };
  const first = lengths[0]!;
  if (!lengths.every((v) => v === first) || !/^\d{1,15}$/.test(first)) {
    throw new ProtocolError(`Malformed Content-Length "${lengths.join(", ")}"`);
  }
  return { kind: "length", length: Number(first) };
}

/**
 * Copies a response body from the connection to `writer`.
 *
 * @param reader The buffered connection, positioned just after the head.
 * @param framing How the body ends, from {@linkcode bodyFraming}.
 * @param writer Where the body goes.
 * @param options Buffer size, trailer limit and a per-chunk callback.
 * @returns The number of body bytes written.
 * @throws {IntegrityError} When the connection ends before a
 * `Content-Length` body is complete or before the last chunk.
 * @throws {ProtocolError} When a chunk size line or a chunk's end is malformed.
 *
 * @example A chunked body
 * ```ts
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { copyBody } from "./body.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const wire = new TextEncoder().encode("3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n");
 * let sent = false;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(wire);
 *     return Promise.resolve(wire.byteLength);
 *   },
 * };
 * let text = "";
 * const sink = { write: (p: Uint8Array) => (text += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) };
 * deepEqual(await copyBody(new BufferedReader(source), { kind: "chunked" }, sink), 5);
 * deepEqual(text, "abcde");
 * ```
 */
export async function copyBody(
  reader: BufferedReader,
  framing: BodyFraming,
  writer: ByteWriter,
  options: CopyBodyOptions = {},
): Promise<number> {
  if (framing.kind === "none") return 0;
  const buf = new Uint8Array(options.bufferSize ?? 1048576);
  const copy = async (limit: number): Promise<number> => {
    const n = await reader.read(limit < buf.byteLength ? buf.subarray(0, limit) : buf);
    if (n === null) return 0;
    const chunk = buf.subarray(0, n);
    options.onChunk?.(chunk);
    await writeAll(writer, chunk);
    return n;
  };
  if (framing.kind === "chunked") {
    return await copyChunked(reader, copy, options.maxTrailerBytes ?? 65536);
  }
  let total = 0;
  if (framing.kind === "close") {
    for (let n = await copy(Infinity); n > 0; n = await copy(Infinity)) total += n;
    return total;
  }
  while (total < framing.length) {
    const n = await copy(framing.length - total);
    if (n === 0) {
      throw new IntegrityError(
        `The response body was cut short: ${total} of ${framing.length} bytes arrived`,
      );
    }
    total += n;
  }
  return total;
}

async function copyChunked(
  reader: BufferedReader,
  copy: (limit: number) => Promise<number>,
  maxTrailerBytes: number,
): Promise<number> {
  let total = 0;
  const cutShort = () =>
    new IntegrityError(`The chunked response body was cut short after ${total} bytes`);
  const line = async (max: number): Promise<Uint8Array> => {
    try {
      const read = await readHttpLine(reader, max);
      if (read === null) throw cutShort();
      return read.line;
    } catch (e) {
      if (e instanceof UnexpectedEofError) throw cutShort();
      throw e;
    }
  };
  while (true) {
    let sizeLine: Uint8Array;
    try {
      sizeLine = await line(MAX_CHUNK_LINE);
    } catch (e) {
      if (e instanceof ProtocolError) throw new ProtocolError("A chunk size line is too long");
      throw e;
    }
    const text = latin1.decode(sizeLine);
    const match = /^([0-9A-Fa-f]{1,13})[ \t]*(?:;.*)?$/.exec(text);
    if (!match) throw new ProtocolError(`Malformed chunk size line ${JSON.stringify(text)}`);
    const size = parseInt(match[1]!, 16);
    if (size === 0) break;
    let left = size;
    while (left > 0) {
      const n = await copy(left);
      if (n === 0) throw cutShort();
      left -= n;
      total += n;
    }
    try {
      if ((await line(0)).byteLength !== 0) throw new ProtocolError("Not an empty line");
    } catch (e) {
      if (e instanceof ProtocolError) throw new ProtocolError("A chunk is not followed by CRLF");
      throw e;
    }
  }
  let trailerBytes = 0;
  while (true) {
    let trailer: Uint8Array;
    try {
      trailer = await line(Math.max(maxTrailerBytes - trailerBytes, 0));
    } catch (e) {
      if (e instanceof ProtocolError) throw trailersTooLong(maxTrailerBytes);
      throw e;
    }
    if (trailer.byteLength === 0) return total;
    trailerBytes += trailer.byteLength + CRLF.byteLength;
    if (trailerBytes > maxTrailerBytes) throw trailersTooLong(maxTrailerBytes);
  }
}

function trailersTooLong(limit: number): ProtocolError {
  return new ProtocolError(`The chunked body's trailer is longer than the limit of ${limit} bytes`);
}
