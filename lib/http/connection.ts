/**
 * The socket under one HTTP request: a TCP connection (`Deno.connect`),
 * upgraded to TLS for `https` (`Deno.startTls`), with an idle timeout and
 * cancellation, and every socket failure turned into a bftp error that names
 * its cause (refused, DNS, TLS, reset, timeout).
 *
 * @module
 */

import { ConnectionError, TimeoutError, TlsError } from "../errors.ts";
import { untrusted } from "../transport/tls_errors.ts";
import { startClientTls } from "../transport/node_tls_connect.ts";
import type { TransportConn } from "../transport/types.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { closeQuietly } from "../transport/close.ts";
import { connectError } from "../transport/tcp.ts";
import { Watchdog } from "../transport/watchdog.ts";
import type { HttpTarget } from "./url.ts";

/** Options for {@linkcode HttpConnection.open}. */
export interface HttpConnectionOptions {
  /**
   * Milliseconds the connection may wait for the server (to connect, to
   * finish the TLS handshake, or for any read or write to make progress)
   * before it fails with a {@linkcode TimeoutError}. `0` waits forever.
   *
   * @default {30000}
   */
  timeout?: number;
  /**
   * Extra trusted root certificates for `https`, in PEM, besides the
   * built-in Mozilla roots.
   *
   * @default {[]}
   */
  caCerts?: readonly string[];
  /**
   * Closes the connection when aborted; the pending call then fails with a
   * {@linkcode ConnectionError}.
   *
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
}

type Stop = "timeout" | "abort";

/**
 * A connected socket to an HTTP server: a {@linkcode ByteReader} and
 * {@linkcode ByteWriter} whose failures are bftp errors. Over TLS, a server
 * that closes without a TLS `close_notify` is read as a normal end of
 * stream, as curl and browsers do; the body's framing still detects a
 * `Content-Length` or chunked body cut short.
 *
 * @example
 * ```ts
 * import { HttpConnection } from "./connection.ts";
 * import { parseHttpUrl } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const target = parseHttpUrl(`http://127.0.0.1:${listener.addr.port}/`);
 * const accepted = listener.accept();
 * using conn = await HttpConnection.open(target, { timeout: 5000 });
 * using server = await accepted;
 * await server.write(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * deepEqual(await conn.read(buf), 2);
 * ```
 */
export class HttpConnection implements ByteReader, ByteWriter, Disposable {
  #conn: Deno.Conn | Deno.TlsConn | TransportConn;
  #target: HttpTarget;
  #timer: Watchdog;
  #stop: { reason: Stop | undefined };
  #signal: AbortSignal | undefined;
  #onAbort: () => void;
  #closed = false;

  private constructor(
    conn: Deno.Conn | Deno.TlsConn | TransportConn,
    target: HttpTarget,
    timer: Watchdog,
    stop: { reason: Stop | undefined },
    signal: AbortSignal | undefined,
    onAbort: () => void,
  ) {
    this.#conn = conn;
    this.#target = target;
    this.#timer = timer;
    this.#stop = stop;
    this.#signal = signal;
    this.#onAbort = onAbort;
  }

  /**
   * Connects to the target's host and port, and for `https` completes the
   * TLS handshake, verifying the certificate against the host name.
   *
   * @param target Where to connect.
   * @param options Timeout, extra CA certificates, cancellation.
   * @returns The open connection; close it (or `using` it).
   * @throws {ConnectionError} When the connection is refused, the name does
   * not resolve, the network is unreachable, or the TLS handshake fails.
   * @throws {TimeoutError} When connecting takes longer than the timeout.
   */
  static async open(
    target: HttpTarget,
    options: HttpConnectionOptions = {},
  ): Promise<HttpConnection> {
    const timeout = options.timeout ?? 30000;
    const signal = options.signal;
    const stop: { reason: Stop | undefined } = { reason: undefined };
    const controller = new AbortController();
    let conn: Deno.TcpConn | Deno.TlsConn | TransportConn | undefined;
    let tcp: Deno.TcpConn;
    const halt = (reason: Stop) => {
      if (stop.reason !== undefined) return;
      stop.reason = reason;
      controller.abort();
      closeQuietly(conn);
    };
    const onAbort = () => halt("abort");
    // Time counts only while a connect, read or write is pending, so a slow
    // local writer between reads never trips it.
    const timer = new Watchdog(timeout, () => halt("timeout"), { whilePending: true });
    timer.start();
    signal?.addEventListener("abort", onAbort, { once: true });
    const cleanUp = () => {
      timer.stop();
      signal?.removeEventListener("abort", onAbort);
    };
    try {
      if (signal?.aborted) halt("abort");
      timer.begin();
      try {
        conn = tcp = await Deno.connect({
          hostname: target.hostname,
          port: target.port,
          signal: controller.signal,
        });
      } catch (e) {
        throw stopped(stop.reason, target, timeout, e) ?? connectError(target.authority, e);
      }
      if (stop.reason !== undefined) throw stopped(stop.reason, target, timeout);
      if (target.scheme === "https") {
        try {
          if (options.caCerts?.length) {
            // node:tls, as curl would: it takes a self-signed certificate made as a CA
            // (openssl req -x509) as the server's own, where Deno's TLS refuses it.
            conn = await startClientTls(tcp, {
              hostname: target.hostname,
              caCerts: [...options.caCerts],
              where: target.authority,
              hint: "give --cacert FILE with the certificate that signed it",
              pin: false,
            });
          } else {
            const tls = await Deno.startTls(tcp, { hostname: target.hostname });
            conn = tls;
            await tls.handshake();
          }
        } catch (e) {
          throw stopped(stop.reason, target, timeout, e) ?? tlsError(target, e);
        }
      }
      timer.end();
      return new HttpConnection(conn, target, timer, stop, signal, onAbort);
    } catch (e) {
      cleanUp();
      closeQuietly(conn);
      throw e;
    }
  }

  /**
   * Reads from the server.
   *
   * @param p Where to put the bytes.
   * @returns The count read, or `null` when the server has closed its side.
   * @throws {TimeoutError} When the server sends nothing for the timeout.
   * @throws {ConnectionError} When the connection is reset or cancelled.
   */
  async read(p: Uint8Array): Promise<number | null> {
    this.#timer.begin();
    try {
      return await this.#conn.read(p);
    } catch (e) {
      const why = stopped(this.#stop.reason, this.#target, this.#timer.ms, e);
      if (why) throw why;
      if (e instanceof Deno.errors.UnexpectedEof) return null;
      if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.ConnectionAborted) {
        throw new ConnectionError(`The connection to "${this.#target.authority}" was reset`, {
          cause: e,
        });
      }
      // Deno's TLS on a record it cannot decrypt (or an alert) mid-answer, as node:tls's is told.
      if (e instanceof Deno.errors.InvalidData) {
        throw new ConnectionError(`Connection lost: ${e.message}`, { cause: e });
      }
      throw e;
    } finally {
      this.#timer.end();
    }
  }

  /**
   * Writes to the server.
   *
   * @param p The bytes; some of them may be written.
   * @returns The count written.
   * @throws {TimeoutError} When the server accepts nothing for the timeout.
   * @throws {ConnectionError} When the connection is broken or cancelled.
   */
  async write(p: Uint8Array): Promise<number> {
    this.#timer.begin();
    try {
      return await this.#conn.write(p);
    } catch (e) {
      const why = stopped(this.#stop.reason, this.#target, this.#timer.ms, e);
      if (why) throw why;
      if (
        e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
        e instanceof Deno.errors.ConnectionAborted
      ) {
        throw new ConnectionError(
          `The connection to "${this.#target.authority}" was closed while sending the request`,
          { cause: e },
        );
      }
      throw e;
    } finally {
      this.#timer.end();
    }
  }

  /** Closes the connection and stops its timer; closing twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer.stop();
    this.#signal?.removeEventListener("abort", this.#onAbort);
    if (this.#stop.reason !== undefined) return;
    closeQuietly(this.#conn);
  }

  /** Same as {@linkcode HttpConnection.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** The error for a call that failed because the connection was stopped, if it was. */
function stopped(
  reason: Stop | undefined,
  target: HttpTarget,
  ms: number,
  cause?: unknown,
): Error | undefined {
  if (reason === "timeout") {
    return new TimeoutError(`No progress from "${target.authority}" for ${ms / 1000} s`);
  }
  if (reason === "abort") {
    return new ConnectionError(
      `Interrupted: the connection to "${target.authority}" was closed`,
      cause === undefined ? undefined : { cause },
    );
  }
  return undefined;
}

function tlsError(target: HttpTarget, e: unknown): unknown {
  if (e instanceof TlsError) return e;
  if (e instanceof Deno.errors.InvalidData && /certificate/i.test(e.message)) {
    // In words, as a BFTP connection's ("it is self-signed"), without --fingerprint.
    return untrusted(
      target.authority,
      e,
      "give --cacert FILE with the certificate that signed it",
      false,
    );
  }
  if (
    e instanceof Deno.errors.InvalidData || e instanceof Deno.errors.UnexpectedEof ||
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted
  ) {
    return new TlsError(`TLS handshake with "${target.authority}" failed: ${e.message}`, {
      cause: e,
    });
  }
  return e;
}
