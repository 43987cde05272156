/**
 * A `node:tls` socket seen as a {@linkcode TransportConn}: `read` and
 * `write` with the same contract as `Deno.Conn`. bftp needs `node:tls` on
 * the client only to pin a certificate by its fingerprint (Deno's own TLS
 * does not show the peer's certificate), and to trust a self-signed
 * certificate that is marked as a CA.
 *
 * @module
 */

import type { TLSSocket } from "node:tls";
import { ConnectionError } from "../errors.ts";
import type { TransportConn } from "./types.ts";

/** Bytes buffered from the socket before it is paused. */
const HIGH_WATER = 4 << 20;

function lost(e: unknown): ConnectionError {
  const message = e instanceof Error ? e.message : String(e);
  return new ConnectionError(`Connection lost: ${message}`, { cause: e });
}

/**
 * Adapts a connected, handshaken `node:tls` socket.
 *
 * @example
 * ```ts
 * import { NodeTlsConn } from "./node_tls_conn.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(typeof NodeTlsConn === "function");
 * ```
 */
export class NodeTlsConn implements TransportConn {
  #socket: TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #closed = false;
  #error: ConnectionError | null = null;
  #wake: (() => void) | null = null;
  #paused = false;

  /** @param socket A socket whose `secureConnect` has happened. */
  constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
      if (this.#buffered >= HIGH_WATER && !this.#paused) {
        this.#paused = true;
        socket.pause();
      }
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (e: unknown) => {
      this.#error ??= lost(e);
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** This end's address. */
  get localAddr(): Deno.NetAddr {
    return {
      transport: "tcp",
      hostname: this.#socket.localAddress ?? "",
      port: this.#socket.localPort ?? 0,
    };
  }

  /** The peer's address. */
  get remoteAddr(): Deno.NetAddr {
    return {
      transport: "tcp",
      hostname: this.#socket.remoteAddress ?? "",
      port: this.#socket.remotePort ?? 0,
    };
  }

  /**
   * Reads what has arrived, waiting for at least one byte.
   *
   * @param p Where the bytes go.
   * @returns How many bytes, or `null` at the end of the stream.
   */
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#closed) throw new ConnectionError("Connection closed");
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let n = 0;
    while (n < p.byteLength && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(chunk.byteLength, p.byteLength - n);
      p.set(chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.byteLength) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#buffered -= n;
    if (this.#paused && this.#buffered < HIGH_WATER / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
    return n;
  }

  /**
   * Writes all of `p` (copied: the caller may reuse its buffer at once),
   * waiting while the socket's buffer is full.
   *
   * @param p The bytes.
   * @returns `p.byteLength`.
   */
  async write(p: Uint8Array): Promise<number> {
    if (this.#closed) throw new ConnectionError("Connection closed");
    if (this.#error) throw this.#error;
    const flushed = this.#socket.write(p.slice());
    if (!flushed) {
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          this.#socket.off("drain", done);
          this.#socket.off("close", done);
          if (this.#error) reject(this.#error);
          else if (this.#closed || this.#socket.destroyed) {
            reject(new ConnectionError("Connection closed"));
          } else resolve();
        };
        this.#socket.on("drain", done);
        this.#socket.on("close", done);
      });
    }
    return p.byteLength;
  }

  /** Ends the sending side. */
  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(resolve));
  }

  /** Closes the connection; a pending read fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#notify();
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }
}
