/**
 * The two byte-stream shapes the framing library works on. A `Deno.Conn`,
 * a `Deno.TlsConn`, a `Deno.FsFile` and `Deno.stdin`/`Deno.stdout` all fit.
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

/** Something bytes can be written to, as `Deno.Conn` is. */
export interface ByteWriter {
  /**
   * Writes some of `p`, possibly not all of it.
   *
   * @returns The number of bytes written.
   */
  write(p: Uint8Array): Promise<number>;
}
