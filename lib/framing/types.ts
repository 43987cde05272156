/**
 * The two byte-stream shapes the framing library works on. A `Deno.Conn`,
 * a `Deno.TlsConn`, a `Deno.FsFile` and `Deno.stdin`/`Deno.stdout` all fit;
 * and a reader that lends its own buffers.
 *
 * @module
 */

/** Something bytes can be read from, as `Deno.Conn` is. */
export interface ByteReader {
  /**
   * Reads up to `p.byteLength` bytes into `p`.
   *
   * @returns The number of bytes read, or `null` at end of stream.
   */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * A reader that can also lend its own buffers: `readView` returns a view of
 * the next bytes without copying them, valid until the next call to `read`,
 * `readView` or the reader's end. A body sent from it skips one copy of
 * every byte (a 1 GiB pipe's sender spent about 0.3 s copying here).
 */
export interface ViewReader extends ByteReader {
  /**
   * Lends the next bytes that have arrived (at least one), waiting only
   * when none has.
   *
   * @returns The view, or `null` at end of stream.
   */
  readView(): Promise<Uint8Array | null>;
}

/**
 * Whether `reader` lends its buffers ({@linkcode ViewReader}).
 *
 * @param reader Any reader.
 * @returns `true` when it has `readView`.
 *
 * @example
 * ```ts
 * import { isViewReader } from "./types.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(isViewReader({ read: () => Promise.resolve(null) }), false);
 * ```
 */
export function isViewReader(reader: ByteReader): reader is ViewReader {
  return typeof (reader as Partial<ViewReader>).readView === "function";
}

/** Something bytes can be written to, as `Deno.Conn` is. */
export interface ByteWriter {
  /**
   * Writes some of `p`, possibly not all of it.
   *
   * @returns The number of bytes written.
   */
  write(p: Uint8Array): Promise<number>;
}
