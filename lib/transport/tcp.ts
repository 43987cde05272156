/**
 * Opening a TCP connection with errors a user can read: refused, unknown
 * host, timed out.
 *
 * @module
 */

import { ConnectionError, TimeoutError } from "../errors.ts";
import { formatHostPort } from "./address.ts";

/** Options for {@linkcode connectTcp}. */
export interface ConnectTcpOptions {
  /** Host name or address. */
  hostname: string;
  /** Port. */
  port: number;
  /**
   * Seconds to wait for the connection; 0 waits as long as the system does.
   *
   * @default {30}
   */
  timeout?: number;
}

/**
 * Connects over TCP.
 *
 * @param options Where, and how long to wait.
 * @returns The connection.
 * @throws {ConnectionError} When refused or the host is unknown.
 * @throws {TimeoutError} When it takes longer than `timeout`.
 *
 * @example
 * ```ts
 * import { connectTcp } from "./tcp.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * listener.close();
 * await rejects(connectTcp({ hostname: "127.0.0.1", port }), /refused/);
 * ```
 */
export async function connectTcp(options: ConnectTcpOptions): Promise<Deno.TcpConn> {
  const where = formatHostPort(options.hostname, options.port);
  const timeout = options.timeout ?? 30;
  const controller = new AbortController();
  const timer = timeout > 0 ? setTimeout(() => controller.abort(), timeout * 1000) : undefined;
  try {
    const conn = await Deno.connect({
      hostname: options.hostname,
      port: options.port,
      signal: controller.signal,
    });
    // Requests and replies are small frames: do not let Nagle hold them back.
    conn.setNoDelay(true);
    return conn;
  } catch (e) {
    if (controller.signal.aborted) {
      throw new TimeoutError(`Cannot connect to "${where}": timed out after ${timeout}s`);
    }
    throw connectError(where, e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The one wording for a failed connect, TCP or the TCP under TLS, for
 * every client (BFTP, the pipe, HTTP, echo): `Cannot connect to "WHERE":
 * connection refused` (or unknown host, network unreachable, timed out).
 * Errors that are not about connecting pass through unchanged.
 *
 * @param where The address as the user wrote it (`host:port`).
 * @param e What `Deno.connect` threw.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import { connectError } from "./tcp.ts";
 * import { equal } from "node:assert/strict";
 *
 * const e = connectError("h:1", new Deno.errors.ConnectionRefused("refused")) as Error;
 * equal(e.message, 'Cannot connect to "h:1": connection refused');
 * ```
 */
export function connectError(where: string, e: unknown): unknown {
  const say = (what: string) => `Cannot connect to "${where}": ${what}`;
  if (e instanceof Deno.errors.ConnectionRefused) {
    return new ConnectionError(say("connection refused"), { cause: e });
  }
  if (e instanceof Error && /lookup|resolve|dns|name or service/i.test(e.message)) {
    return new ConnectionError(say("unknown host"), { cause: e });
  }
  if (e instanceof Deno.errors.NetworkUnreachable || e instanceof Deno.errors.AddrNotAvailable) {
    return new ConnectionError(say("network unreachable"), { cause: e });
  }
  if (e instanceof Deno.errors.TimedOut) return new TimeoutError(say("timed out"));
  if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.ConnectionAborted) {
    return new ConnectionError(say("the connection was reset"), { cause: e });
  }
  return e;
}
