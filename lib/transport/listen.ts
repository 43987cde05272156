/**
 * Opening a server's listener, plain or TLS. Both accept TCP with Deno's
 * own listener (SO_REUSEPORT for the worker pool included); a TLS
 * connection then runs `node:tls` over the accepted socket, with its
 * handshake still to be done: the server awaits it under its handshake
 * timeout, and closing the connection closes the socket at once, whatever
 * state the handshake is in. (Deno's `listenTls` cannot do that: its
 * connections finish their handshake before they close, so a client that
 * connects and stays silent would keep its socket open.)
 *
 * @module
 */

import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import { ConnectionError, TlsError } from "../errors.ts";
import { formatHostPort } from "./address.ts";
import { duplexOf } from "./conn_duplex.ts";
import { NodeTlsConn } from "./node_tls_conn.ts";
import type { ServerTlsOptions, TransportConn, TransportListener } from "./types.ts";

/** Whether `e` says that a host name does not resolve. */
function isLookupFailure(e: unknown): boolean {
  return e instanceof Error && !(e instanceof Deno.errors.AddrInUse) &&
    /lookup address|name or service not known|nodename nor servname|no such host/i.test(e.message);
}

/**
 * Words a failure to listen for a user: address in use, permission denied
 * (a port under 1024), an address this machine does not have, or a host
 * name that does not resolve. Anything else is returned as it is.
 *
 * @param where The address asked for, `host:port`.
 * @param e What `Deno.listen` threw.
 * @returns A {@linkcode ConnectionError} (exit 4), or `e`.
 *
 * @example
 * ```ts
 * import { listenError } from "./listen.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const e = listenError("nosuch.invalid:9", new Error("failed to lookup address information"));
 * deepEqual((e as Error).message, 'Cannot listen on "nosuch.invalid:9": unknown host');
 * ```
 */
export function listenError(where: string, e: unknown): unknown {
  const why = e instanceof Deno.errors.AddrInUse
    ? "address in use"
    : e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : e instanceof Deno.errors.AddrNotAvailable
    ? "the address is not available here"
    : isLookupFailure(e)
    ? "unknown host"
    : null;
  return why === null
    ? e
    : new ConnectionError(`Cannot listen on "${where}": ${why}`, { cause: e });
}

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
 * Starts the server side of TLS over a TCP connection accepted by hand (a
 * one-shot pipe); its handshake is still to be done (`handshake()`).
 *
 * @param tcp The accepted connection; the result owns it.
 * @param tls The certificate and key, or a secure context made from them.
 * @returns The TLS connection.
 * @throws {TlsError} When the certificate or key cannot be used.
 *
 * @example A peer that does not speak TLS fails the handshake
 * ```ts
 * import { serverTls } from "./listen.ts";
 * import { rejects } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const conn = serverTls(await listener.accept(), { cert: "junk", key: "junk" });
 * await client.write(new TextEncoder().encode("BFTP/1\n"));
 * await rejects(conn.handshake!());
 * conn.close();
 * client.close();
 * ```
 */
export function serverTls(
  tcp: Deno.TcpConn,
  tls: ServerTlsOptions | SecureContext,
): TransportConn {
  const context = "cert" in tls && typeof tls.cert === "string" ? secureContext(tls) : tls;
  tcp.setNoDelay(true);
  const socket = new TLSSocket(duplexOf(tcp) as never, {
    isServer: true,
    secureContext: context as SecureContext,
  });
  return new NodeTlsConn(socket, {
    secure: false,
    localAddr: tcp.localAddr,
    remoteAddr: tcp.remoteAddr,
  });
}

function secureContext(tls: ServerTlsOptions): SecureContext {
  try {
    return createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (e) {
    throw new TlsError(
      `Cannot use the TLS certificate and key: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** TLS over the connections a TCP listener accepts. */
class TlsListener implements TransportListener {
  #tcp: Deno.TcpListener;
  #context: SecureContext;

  constructor(tcp: Deno.TcpListener, context: SecureContext) {
    this.#tcp = tcp;
    this.#context = context;
  }

  get addr(): Deno.NetAddr {
    return this.#tcp.addr;
  }

  async accept(): Promise<TransportConn> {
    return serverTls(await this.#tcp.accept(), this.#context);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TransportConn> {
    while (true) {
      try {
        yield await this.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return;
        throw e;
      }
    }
  }

  close(): void {
    this.#tcp.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
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
export function listenTransport(options: ListenOptions): TransportListener {
  const context = options.tls === undefined ? undefined : secureContext(options.tls);
  let tcp: Deno.TcpListener;
  try {
    tcp = Deno.listen({
      hostname: options.hostname,
      port: options.port,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
  } catch (e) {
    // "Address in use" stays as Deno reports it: callers word it with their own hints.
    if (isLookupFailure(e)) {
      throw listenError(formatHostPort(options.hostname, options.port), e);
    }
    throw e;
  }
  return context === undefined ? tcp : new TlsListener(tcp, context);
}
