/**
 * Framing: the four ways to delimit messages on a byte stream (fixed
 * length, delimiter, size header, end by close), and the safe send/receive they are built on. Everything in
 * bftp that talks on a socket goes through this module.
 *
 * - fixed length, padded: {@linkcode encodeFixed}, {@linkcode readFixed}
 * - delimited, buffered: {@linkcode encodeDelimited}, {@linkcode readDelimited}
 * - size header, 8 or 16 hex digits: {@linkcode encodeSized}, {@linkcode readSized},
 *   {@linkcode readSizeHeader}
 * - end by close: {@linkcode readUntilClose}, {@linkcode copyUntilClose}
 * - safe send and receive: {@linkcode writeAll}, {@linkcode readExact}, {@linkcode readFull}
 * - fewer system calls: {@linkcode CorkedWriter} (an answer's pieces in one write),
 *   {@linkcode WriteBehind} (a pipelined client's requests gathered from behind),
 *   {@linkcode fileReader} (small files read without Deno's I/O pool)
 *
 * @example A size-header round trip
 * ```ts
 * import { BufferedReader, encodeSized, readSized } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const framed = encodeSized(new TextEncoder().encode("hi"));
 * let done = false;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (done) return Promise.resolve(null);
 *     done = true;
 *     p.set(framed);
 *     return Promise.resolve(framed.byteLength);
 *   },
 * };
 * const msg = await readSized(new BufferedReader(source), { maxBytes: 10 });
 * deepEqual(new TextDecoder().decode(msg!), "hi");
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./write_all.ts";
export * from "./corked_writer.ts";
export * from "./read_exact.ts";
export * from "./buffered_reader.ts";
export * from "./fixed.ts";
export * from "./delimited.ts";
export * from "./size_header.ts";
export * from "./until_close.ts";
export * from "./file_reader.ts";
export * from "./write_behind.ts";
export * from "./concat.ts";
