/**
 * Safe send: {@linkcode writeAll} writes every byte of a buffer, looping over
 * partial writes (a `send` may take fewer bytes than given).
 *
 * @module
 */

import { ConnectionError } from "../errors.ts";
import type { ByteWriter } from "./types.ts";

/**
 * Writes all of `data` to `writer`, however many calls it takes. A writer
 * that accepts zero bytes is treated as a broken connection.
 *
 * @param writer Where the bytes go.
 * @param data The bytes; all of them are written or an error is thrown.
 *
 * @example
 * ```ts
 * import { writeAll } from "./write_all.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const got: number[] = [];
 * // A writer that takes one byte per call still receives everything.
 * const writer = {
 *   write(p: Uint8Array) {
 *     got.push(p[0]!);
 *     return Promise.resolve(1);
 *   },
 * };
 * await writeAll(writer, new Uint8Array([1, 2, 3]));
 * deepEqual(got, [1, 2, 3]);
 * ```
 */
export async function writeAll(writer: ByteWriter, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const n = await writer.write(offset === 0 ? data : data.subarray(offset));
    if (n <= 0) throw new ConnectionError("Connection broken: the peer accepted no bytes");
    offset += n;
  }
}
