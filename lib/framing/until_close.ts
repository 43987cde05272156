/**
 * End-by-close messages: the message is everything until the peer closes
 * its side (read until end of file). Bounded by a
 * caller-given maximum when held in memory; streamed otherwise.
 *
 * @module
 */

import { concatBytes } from "./concat.ts";
import { ProtocolError } from "../errors.ts";
import type { ByteReader, ByteWriter } from "./types.ts";
import { writeAll } from "./write_all.ts";

/** Options for {@linkcode readUntilClose}. */
export interface ReadUntilCloseOptions {
  /**
   * The most bytes accepted; more is a protocol error.
   *
   * @default {16777216}
   */
  maxBytes?: number;
}

/**
 * Reads everything until the end of the stream into memory.
 *
 * @param reader The stream.
 * @param options The largest size accepted.
 * @returns All the bytes.
 * @throws {ProtocolError} When more than `maxBytes` arrive.
 *
 * @example
 * ```ts
 * import { readUntilClose } from "./until_close.ts";
 * import { ok } from "node:assert/strict";
 *
 * const file = await Deno.open(import.meta.filename!);
 * try {
 *   const all = await readUntilClose(file);
 *   ok(new TextDecoder().decode(all).includes("End-by-close"));
 * } finally {
 *   file.close();
 * }
 * ```
 */
export async function readUntilClose(
  reader: ByteReader,
  options: ReadUntilCloseOptions = {},
): Promise<Uint8Array> {
  const max = options.maxBytes ?? 16777216;
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(65536);
  while (true) {
    const n = await reader.read(buf);
    if (n === null) break;
    total += n;
    if (total > max) throw new ProtocolError(`Message longer than the limit of ${max} bytes`);
    chunks.push(buf.slice(0, n));
  }
  return concatBytes(chunks);
}

/** Options for {@linkcode copyUntilClose}. */
export interface CopyUntilCloseOptions {
  /**
   * The size of the one reused buffer.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /** Called with each chunk before it is written (to hash or count it). */
  onChunk?: (chunk: Uint8Array) => void;
}

/**
 * Copies everything until the end of `reader` to `writer`, through one
 * reused buffer.
 *
 * @param reader The stream.
 * @param writer The destination.
 * @param options Buffer size and a per-chunk callback.
 * @returns The number of bytes copied.
 *
 * @example
 * ```ts
 * import { copyUntilClose } from "./until_close.ts";
 * import { ok } from "node:assert/strict";
 *
 * const file = await Deno.open(import.meta.filename!);
 * let total = 0;
 * const sink = { write: (p: Uint8Array) => (total += p.byteLength, Promise.resolve(p.byteLength)) };
 * try {
 *   const n = await copyUntilClose(file, sink);
 *   ok(n > 0 && n === total);
 * } finally {
 *   file.close();
 * }
 * ```
 */
export async function copyUntilClose(
  reader: ByteReader,
  writer: ByteWriter,
  options: CopyUntilCloseOptions = {},
): Promise<number> {
  const buf = new Uint8Array(options.bufferSize ?? 1048576);
  let total = 0;
  while (true) {
    const n = await reader.read(buf);
    if (n === null) return total;
    const chunk = buf.subarray(0, n);
    options.onChunk?.(chunk);
    await writeAll(writer, chunk);
    total += n;
  }
}
