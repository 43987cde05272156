/**
 * Opening a client connection, plain or TLS, with errors a user can act on.
 * A TLS connection is TLS from its first byte: whatever fails, nothing is
 * ever sent in the clear instead (no downgrade).
 *
 * Trust, in this order: a pinned fingerprint (the certificate must be
 * exactly that one, as SSH pins a host key; names and signers are not
 * checked); else the given CA certificates; else the default roots. The
 * first two go through `node:tls` (which shows the peer's certificate, and
 * accepts a self-signed certificate marked as a CA, as a plain
 * `openssl req -x509` makes it, where Deno's TLS refuses it); the default
 * roots through Deno's own TLS, which is faster (`node_tls_connect.ts`
 * holds the first two, loaded only then). Either way one connection
 * is made: a one-shot pipe listener takes only one.
 *
 * @module
 */

import { importLater } from "../import_later.ts";
import { systemReason, TimeoutError } from "../errors.ts";
import { formatHostPort } from "./address.ts";
import { closeQuietly } from "./close.ts";
import { connectTcp } from "./tcp.ts";
import { handshakeError, untrusted } from "./tls_errors.ts";
import type { ClientTlsOptions, TransportConn } from "./types.ts";

/** Options for {@linkcode connectTransport}. */
export interface ConnectOptions {
  /** Host name or address. */
  hostname: string;
  /** Port. */
  port: number;
  /**
   * Seconds to wait for the connection and the TLS handshake; 0 waits as
   * long as the system does.
   *
   * @default {30}
   */
  timeout?: number;
  /** Speak TLS, trusting the server as these options say; absent: plain TCP. */
  tls?: ClientTlsOptions | undefined;
}

/**
 * Deno's TLS reports a peer that closed without a TLS close_notify as an
 * UnexpectedEof error. For BFTP, whose own framing tells a cut message from
 * a whole one, that is an end of stream like any other.
 */
function eofTolerant(conn: Deno.TlsConn): TransportConn {
  return {
    read: async (p) => {
      try {
        return await conn.read(p);
      } catch (e) {
        if (e instanceof Deno.errors.UnexpectedEof) return null;
        throw e;
      }
    },
    write: (p) => conn.write(p),
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
    get localAddr() {
      return conn.localAddr;
    },
    get remoteAddr() {
      return conn.remoteAddr;
    },
    [Symbol.dispose]: () => conn.close(),
  };
}

/** TLS with Deno's own stack (the faster one), trusting the default roots. */
async function connectDenoTls(options: ConnectOptions): Promise<TransportConn> {
  const where = formatHostPort(options.hostname, options.port);
  const timeout = options.timeout ?? 30;
  const started = Date.now();
  const tcp = await connectTcp({ hostname: options.hostname, port: options.port, timeout });
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.startTls(tcp, { hostname: options.hostname });
  } catch (e) {
    tcp.close();
    throw handshakeError(where, e);
  }
  let timedOut = false;
  const left = timeout * 1000 - (Date.now() - started);
  const timer = timeout > 0
    ? setTimeout(() => {
      timedOut = true;
      conn.close();
    }, Math.max(left, 1))
    : undefined;
  try {
    await conn.handshake();
    return eofTolerant(conn);
  } catch (e) {
    closeQuietly(conn);
    if (timedOut) throw new TimeoutError(`Cannot connect to "${where}": TLS handshake timed out`);
    if (/invalid peer certificate|certificate/i.test(systemReason(e))) throw untrusted(where, e);
    throw handshakeError(where, e);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects to a server, over TLS when `options.tls` is given.
 *
 * @param options Where, how long to wait, and how to trust a TLS server.
 * @returns The connection, with TCP_NODELAY set and the TLS handshake done.
 * @throws {ConnectionError} When refused or the host is unknown.
 * @throws {TimeoutError} When it takes longer than `timeout`.
 * @throws {TlsError} When the certificate is not trusted, the fingerprint
 * differs, or the peer does not speak TLS.
 *
 * @example
 * ```ts
 * import { connectTransport } from "./connect.ts";
 * import { rejects } from "node:assert/strict";
 *
 * // A plain TCP server that closes at once is not a TLS server.
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepting = listener.accept().then((c) => c.close());
 * await rejects(
 *   connectTransport({ hostname: "127.0.0.1", port: listener.addr.port, tls: {} }),
 *   /TLS handshake/,
 * );
 * await accepting;
 * ```
 */
export async function connectTransport(options: ConnectOptions): Promise<TransportConn> {
  if (options.tls === undefined) {
    return await connectTcp({
      hostname: options.hostname,
      port: options.port,
      timeout: options.timeout ?? 30,
    });
  }
  const { fingerprint, caCerts } = options.tls;
  if (fingerprint !== undefined || caCerts !== undefined) {
    const { connectNodeTls } = await importLater<typeof import("./node_tls_connect.ts")>(
      "./node_tls_connect.ts",
      import.meta.url,
    );
    return await connectNodeTls(
      options,
      fingerprint !== undefined ? { fingerprint } : { ca: caCerts! },
    );
  }
  return await connectDenoTls(options);
}
