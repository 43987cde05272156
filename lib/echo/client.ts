/**
 * The echo client: connect to an echo server and exchange one message at a
 * time, reading back exactly as many bytes as were sent. Sending and
 * reading run at the same time, so a message larger than the socket
 * buffers cannot deadlock against a server that echoes as it reads.
 *
 * @module
 */

import { ConnectionError, TimeoutError } from "../errors.ts";
import { readFull, writeAll } from "../framing/mod.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { connectTransport } from "../transport/connect.ts";
import type { ClientTlsOptions, TransportConn } from "../transport/types.ts";
import { formatHostPort, type HostPort } from "../transport/address.ts";

/** Options for {@linkcode EchoClient.connect}. */
export interface EchoClientOptions {
  /**
   * How long to wait for the connection and for each whole reply, in
   * milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
  /** Speak TLS, trusting the server as these options say; absent: plain TCP. */
  tls?: ClientTlsOptions | undefined;
}

/**
 * One connection to an echo server.
 *
 * @example
 * ```ts
 * import { EchoClient } from "./client.ts";
 * import { startEchoServer } from "./server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * await using server = await startEchoServer({ port: 0, workers: 1 });
 * using client = await EchoClient.connect(server.addr);
 * const reply = await client.roundTrip(new TextEncoder().encode("hello\n"));
 * deepEqual(new TextDecoder().decode(reply), "hello\n");
 * ```
 */
export class EchoClient implements Disposable {
  #conn: TransportConn;
  #where: string;
  #timeout: number;
  #closed = false;

  private constructor(conn: TransportConn, where: string, timeout: number) {
    this.#conn = conn;
    this.#where = where;
    this.#timeout = timeout;
  }

  /**
   * Connects to an echo server.
   *
   * @param addr The server's host and port.
   * @param options The timeout, and TLS.
   * @returns The connected client.
   * @throws {ConnectionError} When the connection is refused or fails.
   * @throws {TimeoutError} When connecting takes longer than the timeout.
   * @throws {TlsError} When the TLS handshake or the server's certificate fails.
   */
  static async connect(addr: HostPort, options: EchoClientOptions = {}): Promise<EchoClient> {
    const timeout = options.timeout ?? 10000;
    const conn = await connectEcho(addr, timeout, options.tls);
    return new EchoClient(conn, formatHostPort(addr.hostname, addr.port), timeout);
  }

  /**
   * Sends a message and reads back as many bytes as were sent.
   *
   * @param message The bytes to send.
   * @returns The reply, the same length as `message` (its content is the
   * server's; compare it to know whether it echoed faithfully).
   * @throws {ConnectionError} When the server closes or resets the
   * connection before the whole reply.
   * @throws {TimeoutError} When the reply takes longer than the timeout.
   */
  async roundTrip(message: Uint8Array): Promise<Uint8Array> {
    const reply = new Uint8Array(message.byteLength);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, this.#timeout);
    try {
      await exchange(this.#conn, message, reply, () => this.close());
    } catch (e) {
      if (timedOut) {
        throw new TimeoutError(
          `No full reply from "${this.#where}" within ${this.#timeout / 1000} s`,
        );
      }
      throw connectionError(e, this.#where);
    } finally {
      clearTimeout(timer);
    }
    return reply;
  }

  /** Closes the connection (again is a no-op). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  /** Closes the connection, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Connects to an echo server: plain TCP (TCP_NODELAY set), or TLS (never
 * falling back to plain TCP), with the one connect wording of
 * `lib/transport/` (`Cannot connect to "HOST:PORT": connection refused`).
 *
 * @param addr Where to connect.
 * @param timeout The limit in milliseconds, TLS handshake included.
 * @param tls How to trust the server; absent: plain TCP.
 * @returns The connection.
 *
 * @example
 * ```ts
 * import { connectEcho } from "./client.ts";
 * import { rejects } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepting = listener.accept().then((c) => c.close());
 * await rejects(connectEcho({ hostname: "127.0.0.1", port: listener.addr.port }, 1000, {}));
 * await accepting;
 * ```
 */
export async function connectEcho(
  addr: HostPort,
  timeout: number,
  tls?: ClientTlsOptions,
): Promise<TransportConn> {
  return await connectTransport({
    hostname: addr.hostname,
    port: addr.port,
    timeout: timeout / 1000,
    tls,
  });
}

/**
 * Writes `message` and, at the same time, reads exactly `reply.byteLength`
 * bytes into `reply`. When the read fails, `abort` is called (it should
 * close the connection, which ends a write stuck on a full socket) before
 * the read's error is thrown.
 *
 * @param conn The connection.
 * @param message The bytes to send.
 * @param reply Where the reply goes; filled completely on success.
 * @param abort Closes the connection.
 * @throws {ConnectionError} When the stream ends before the reply is whole;
 * Deno's connection errors pass through (see {@linkcode connectionError}).
 *
 * @example
 * ```ts
 * import { exchange } from "./client.ts";
 * import { echoConnection } from "./echo_connection.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const peer = await listener.accept();
 * const served = echoConnection(peer).finally(() => peer.close());
 * const reply = new Uint8Array(3);
 * await exchange(conn, new Uint8Array([7, 8, 9]), reply, () => conn.close());
 * deepEqual([...reply], [7, 8, 9]);
 * conn.close();
 * await served;
 * ```
 */
export async function exchange(
  conn: ByteReader & ByteWriter,
  message: Uint8Array,
  reply: Uint8Array,
  abort: () => void,
): Promise<void> {
  const writing = writeAll(conn, message);
  // Awaited below; this only keeps an early failure from being unhandled.
  writing.catch(() => {});
  try {
    await readFull(conn, reply, "echo reply");
  } catch (e) {
    abort();
    await writing.catch(() => {});
    throw e;
  }
  await writing;
}

/**
 * Turns the errors of a lost connection into a {@linkcode ConnectionError}
 * naming the server; anything else is returned as is.
 *
 * @param e The thrown value.
 * @param where The server, as `HOST:PORT`.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import { connectionError } from "./client.ts";
 * import { ConnectionError } from "../errors.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(connectionError(new Deno.errors.ConnectionReset("x"), "h:1") instanceof ConnectionError);
 * ```
 */
export function connectionError(e: unknown, where: string): unknown {
  if (e instanceof ConnectionError) {
    return new ConnectionError(`${e.message} (server "${where}")`, { cause: e });
  }
  if (
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.NotConnected
  ) {
    return new ConnectionError(`Connection to "${where}" lost: ${e.message}`, { cause: e });
  }
  if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
    return new ConnectionError(`Connection to "${where}" closed`, { cause: e });
  }
  return e;
}
