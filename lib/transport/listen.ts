/**
 * Opening a server's listener, plain or TLS. A TLS listener hands out
 * connections whose handshake happens on first use; the server runs it
 * under its handshake timeout.
 *
 * @module
 */

import { TlsError } from "../errors.ts";
import type { ServerTlsOptions } from "./types.ts";

/** Options for {@linkcode listenTransport}. */
export interface ListenOptions {
  /** The address to listen on. */
  hostname: string;
  /** The port; 0 picks a free one. */
  port: number;
  /**
   * Set SO_REUSEPORT, so that several workers can listen on the port.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /** Speak TLS with this certificate and key; absent: plain TCP. */
  tls?: ServerTlsOptions | undefined;
}

/**
 * Listens for connections.
 *
 * @param options The address, and the TLS identity if any.
 * @returns The listener.
 * @throws {TlsError} When the certificate or key cannot be used.
 *
 * @example
 * ```ts
 * import { listenTransport } from "./listen.ts";
 * import { ok } from "node:assert/strict";
 *
 * using listener = listenTransport({ hostname: "127.0.0.1", port: 0 });
 * ok(listener.addr.port > 0);
 * ```
 */
export function listenTransport(options: ListenOptions): Deno.Listener<Deno.Conn, Deno.NetAddr> {
  const address = {
    hostname: options.hostname,
    port: options.port,
    ...(options.reusePort ? { reusePort: true } : {}),
  };
  if (options.tls === undefined) return Deno.listen(address);
  try {
    return Deno.listenTls({ ...address, cert: options.tls.cert, key: options.tls.key });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) throw e;
    if (e instanceof Deno.errors.PermissionDenied) throw e;
    throw new TlsError(
      `Cannot use the TLS certificate and key: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}
