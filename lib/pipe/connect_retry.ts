/**
 * The connecting end of a pipe: connect, and while nothing listens yet
 * (connection refused), try again every 100 ms until a deadline, so that
 * either end of a pipe can be started first.
 *
 * @module
 */

import { ConnectionError } from "../errors.ts";
import { formatHostPort } from "../transport/address.ts";
import { connectTransport } from "../transport/connect.ts";
import type { ClientTlsOptions, TransportConn } from "../transport/types.ts";

/** Options for {@linkcode connectWithRetry}. */
export interface ConnectWithRetryOptions {
  /** Host name or address. */
  hostname: string;
  /** Port. */
  port: number;
  /**
   * Seconds to keep trying; 0 tries once.
   *
   * @default {10}
   */
  timeout?: number;
  /**
   * Milliseconds between tries.
   *
   * @default {100}
   */
  retryDelayMs?: number;
  /** Stops the tries (Ctrl-C). */
  signal?: AbortSignal | undefined;
  /** Speak TLS, trusting the peer as these options say; absent: plain TCP. */
  tls?: ClientTlsOptions | undefined;
}

function isRefused(e: unknown): boolean {
  return e instanceof ConnectionError && e.cause instanceof Deno.errors.ConnectionRefused;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/** The most a single TLS try of `--timeout 0` waits for its connection and handshake. */
const ONE_TLS_TRY_SECONDS = 10;

/**
 * Connects over TCP (and TLS, when asked), retrying while the connection
 * is refused. A TLS connection never falls back to plain TCP.
 *
 * @param options Where, for how long, how often.
 * @returns The connection.
 * @throws {ConnectionError} When still refused at the deadline, the host is
 * unknown, or the tries are aborted.
 * @throws {TimeoutError} When one try hangs past the deadline.
 *
 * @example
 * ```ts
 * import { connectWithRetry } from "./connect_retry.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * listener.close();
 * await rejects(connectWithRetry({ hostname: "127.0.0.1", port, timeout: 0.3 }), /refused/);
 * ```
 */
export async function connectWithRetry(options: ConnectWithRetryOptions): Promise<TransportConn> {
  const timeout = options.timeout ?? 10;
  const delay = options.retryDelayMs ?? 100;
  const deadline = performance.now() + timeout * 1000;
  const where = formatHostPort(options.hostname, options.port);
  while (true) {
    if (options.signal?.aborted) throw new ConnectionError(`Interrupted connecting to "${where}"`);
    const left = (deadline - performance.now()) / 1000;
    try {
      return await connectTransport({
        hostname: options.hostname,
        port: options.port,
        // 0 is one try with no limit of its own, but a TLS handshake never waits for ever on a
        // peer that accepts and says nothing (the listening end gives one 10 s too); otherwise
        // a try never gets less than 10 ms.
        timeout: timeout === 0 ? (options.tls ? ONE_TLS_TRY_SECONDS : 0) : Math.max(left, 0.01),
        tls: options.tls,
      });
    } catch (e) {
      if (!isRefused(e)) throw e;
      if (performance.now() + delay >= deadline) {
        throw new ConnectionError(
          timeout === 0
            ? `Cannot connect to "${where}": connection refused`
            : `Cannot connect to "${where}": connection refused for ${timeout}s`,
          { cause: (e as ConnectionError).cause },
        );
      }
      await pause(delay, options.signal);
    }
  }
}
