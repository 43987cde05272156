/**
 * A `node:tls` socket seen as a {@linkcode TransportConn}: `read` and
 * `write` with the same contract as `Deno.Conn`. bftp uses `node:tls` on
 * the client to pin a certificate by its fingerprint (Deno's own TLS does
 * not show the peer's certificate) and to trust a self-signed certificate
 * that is marked as a CA; and on the server, where a connection must be
 * closable during its handshake (Deno's TLS server finishes a handshake
 * before it closes, so a silent client would hold its socket forever).
 *
 * @module
 */

import type { TLSSocket } from "node:tls";
import { ConnectionError } from "../errors.ts";
import type { TransportConn } from "./types.ts";

/** Bytes buffered from the socket before it is paused. */
const HIGH_WATER = 4 << 20;

/** The error a read or write reports: Deno's own kinds where there is one. */
function lost(e: unknown): Error {
  if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === "ECONNRESET") return new Deno.errors.ConnectionReset(message);
  // A socket the peer's end already closed (node's wording: "Cannot call write after a stream
  // was destroyed"), as when a receiver refuses this end's certificate and hangs up.
  if (code === "EPIPE" || code === "ERR_STREAM_DESTROYED") {
    return new Deno.errors.BrokenPipe(
      code === "EPIPE" ? message : "the peer closed the connection",
    );
  }
  return new ConnectionError(`Connection lost: ${message}`, { cause: e });
}

/** Options for {@linkcode NodeTlsConn}. */
export interface NodeTlsConnOptions {
  /**
   * The handshake is done already (a client socket after `secureConnect`);
   * otherwise it is awaited (a server socket wrapping an accepted one).
   *
   * @default {true}
   */
  secure?: boolean;
  /** This end's address, when the socket does not know it (a wrapped stream). */
  localAddr?: Deno.NetAddr;
  /** The peer's address, when the socket does not know it. */
  remoteAddr?: Deno.NetAddr;
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
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #paused = false;
  #secure: Promise<void>;
  #localAddr: Deno.NetAddr | undefined;
  #remoteAddr: Deno.NetAddr | undefined;

  /**
   * @param socket A TLS socket.
   * @param options Whether its handshake is done, and the addresses.
   */
  constructor(socket: TLSSocket, options: NodeTlsConnOptions = {}) {
    this.#socket = socket;
    this.#localAddr = options.localAddr;
    this.#remoteAddr = options.remoteAddr;
    this.#secure = options.secure === false
      ? new Promise<void>((resolve, reject) => {
        socket.once("secure", () => resolve());
        socket.once("error", (e: unknown) => reject(e));
        socket.once("close", () => reject(new ConnectionError("Connection closed")));
        // The peer's end closed before the handshake was done (a probe such as `nc -z`): no
        // handshake can follow, and over a wrapped stream no "close" comes until this end closes.
        socket.once("end", () => reject(new ConnectionError("Connection closed")));
      })
      : Promise.resolve();
    // Nobody may be waiting on the handshake: its failure is reported by read() too.
    this.#secure.catch(() => {});
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

  /**
   * Waits for the TLS handshake to be done.
   *
   * @returns When it is done.
   * @throws When it failed, or the connection was closed first.
   */
  handshake(): Promise<void> {
    return this.#secure;
  }

  /** This end's address. */
  get localAddr(): Deno.NetAddr {
    if (this.#localAddr) return this.#localAddr;
    return {
      transport: "tcp",
      hostname: this.#socket.localAddress ?? "",
      port: this.#socket.localPort ?? 0,
    };
  }

  /** The peer's address. */
  get remoteAddr(): Deno.NetAddr {
    if (this.#remoteAddr) return this.#remoteAddr;
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
      if (this.#closed) throw new Deno.errors.BadResource("Connection closed");
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
   * Writes all of `p`, and resolves once TLS has encrypted it and handed it
   * to the socket below: the caller may then reuse its buffer, or close.
   *
   * @param p The bytes.
   * @returns `p.byteLength`.
   */
  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Connection closed"));
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#socket.write(p, (e?: Error | null) => {
        if (e) reject(this.#closed ? new Deno.errors.BadResource("Connection closed") : lost(e));
        else resolve(p.byteLength);
      });
    });
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
