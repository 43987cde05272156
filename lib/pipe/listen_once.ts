/**
 * The listening end of a pipe: listen, say where, take exactly one
 * connection, stop listening.
 *
 * @module
 */

import { ConnectionError, TimeoutError } from "../errors.ts";
import { formatHostPort } from "../client/url.ts";

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
}

function listenError(where: string, e: unknown): unknown {
  const why = e instanceof Deno.errors.AddrInUse
    ? "the address is in use"
    : e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : e instanceof Deno.errors.AddrNotAvailable
    ? "the address is not available here"
    : null;
  return why === null
    ? e
    : new ConnectionError(`Cannot listen on "${where}": ${why}`, { cause: e });
}

/**
 * Listens on a TCP port and accepts exactly one connection; the port is
 * closed again before this returns, whatever happens.
 *
 * @param options Address, timeout and abort signal.
 * @returns The one connection.
 * @throws {ConnectionError} When the port cannot be opened, or the wait is aborted.
 * @throws {TimeoutError} When no peer came within `timeout`.
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
export async function acceptOne(options: AcceptOneOptions): Promise<Deno.TcpConn> {
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
    const conn = await listener.accept();
    conn.setNoDelay(true);
    return conn;
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
