/**
 * The listening end of a pipe: listen, say where, take exactly one
 * connection (over TLS when given a certificate), stop listening.
 *
 * @module
 */

import { ConnectionError, TimeoutError, TlsError } from "../errors.ts";
import { formatHostPort } from "../transport/address.ts";
import { goneBeforeAccept } from "../transport/close.ts";
import { listenError, serverTls } from "../transport/listen.ts";
import type { ServerTlsOptions, TransportConn } from "../transport/types.ts";

/** Options for {@linkcode acceptOne}. */
export interface AcceptOneOptions {
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port; 0 picks a free one. */
  port: number;
  /** Told the real address once the port is open, before waiting for the peer. */
  onListening?: ((addr: Deno.NetAddr) => void | Promise<void>) | undefined;
  /**
   * Seconds to wait for the peer; 0 waits as long as it takes.
   *
   * @default {0}
   */
  timeout?: number;
  /** Stops the wait (Ctrl-C). */
  signal?: AbortSignal | undefined;
  /**
   * Speak TLS with this certificate and key: the peer must complete a TLS
   * handshake, within `handshakeTimeout`.
   */
  tls?: ServerTlsOptions | undefined;
  /**
   * Seconds the peer has for its TLS handshake.
   *
   * @default {10}
   */
  handshakeTimeout?: number;
}

/**
 * Listens on a TCP port and accepts exactly one connection; the port is
 * closed again before this returns, whatever happens.
 *
 * @param options Address, timeout and abort signal.
 * @returns The one connection (TLS done, with `tls`).
 * @throws {ConnectionError} When the port cannot be opened, or the wait is aborted.
 * @throws {TimeoutError} When no peer came within `timeout`.
 * @throws {TlsError} When the peer's TLS handshake fails or takes too long.
 *
 * @example
 * ```ts
 * import { acceptOne } from "./listen_once.ts";
 * import { ok } from "node:assert/strict";
 *
 * let port = 0;
 * const accepted = acceptOne({ port: 0, onListening: (addr) => { port = addr.port; } });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port });
 * const conn = await accepted;
 * ok(conn.remoteAddr.transport === "tcp");
 * conn.close();
 * client.close();
 * ```
 */
export async function acceptOne(options: AcceptOneOptions): Promise<TransportConn> {
  const hostname = options.hostname ?? "127.0.0.1";
  const where = formatHostPort(hostname, options.port);
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port: options.port, transport: "tcp" });
  } catch (e) {
    throw listenError(where, e);
  }
  const actual = formatHostPort(listener.addr.hostname, listener.addr.port);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    listener.close();
  };
  let timedOut = false;
  const timeout = options.timeout ?? 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const signal = options.signal;
  signal?.addEventListener("abort", close);
  try {
    if (signal?.aborted) throw new ConnectionError("Interrupted while waiting for a connection");
    await options.onListening?.(listener.addr);
    if (timeout > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        close();
      }, timeout * 1000);
    }
    const conn = await acceptNext(listener);
    conn.setNoDelay(true);
    if (options.tls === undefined) return conn;
    close();
    return await handshake(serverTls(conn, options.tls), options.handshakeTimeout ?? 10, signal);
  } catch (e) {
    if (timedOut) {
      throw new TimeoutError(`No connection on "${actual}" within ${timeout}s`);
    }
    if (signal?.aborted) {
      throw new ConnectionError("Interrupted while waiting for a connection", { cause: e });
    }
    throw e;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", close);
    close();
  }
}

/** Waits for a server-side TLS handshake; closes the connection if it fails or takes too long. */
async function handshake(
  conn: TransportConn,
  seconds: number,
  signal: AbortSignal | undefined,
): Promise<TransportConn> {
  let timedOut = false;
  const stop = () => conn.close();
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, seconds * 1000);
  signal?.addEventListener("abort", stop);
  try {
    await conn.handshake?.();
    return conn;
  } catch (e) {
    conn.close();
    if (timedOut) throw new TlsError(`The peer did not complete its TLS handshake in ${seconds}s`);
    if (signal?.aborted) throw new ConnectionError("Interrupted during the TLS handshake");
    throw new TlsError(
      `TLS handshake with the peer failed: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
  }
}

/** The next connection that is still there: one its peer reset in the queue is passed over. */
async function acceptNext(listener: Deno.TcpListener): Promise<Deno.TcpConn> {
  for (;;) {
    try {
      return await listener.accept();
    } catch (e) {
      if (!goneBeforeAccept(e)) throw e;
    }
  }
}
