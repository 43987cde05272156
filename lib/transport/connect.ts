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
 * roots through Deno's own TLS, which is faster. Either way one connection
 * is made: a one-shot pipe listener takes only one.
 *
 * @module
 */

import { isIP } from "node:net";
import * as tls from "node:tls";
import { ConnectionError, systemReason, TimeoutError, TlsError } from "../errors.ts";
import { formatHostPort } from "./address.ts";
import { closeQuietly } from "./close.ts";
import { duplexOf } from "./conn_duplex.ts";
import { certificateFingerprint } from "./fingerprint.ts";
import { NodeTlsConn } from "./node_tls_conn.ts";
import { connectTcp } from "./tcp.ts";
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

const HINT = "give --cacert FILE, or pin the certificate with --fingerprint HEX " +
  "(bftp serve prints it when it starts)";

/** The error for a TLS failure that is not about trust: most often, the peer does not speak TLS. */
function handshakeError(where: string, e: unknown): TlsError {
  return new TlsError(
    `TLS handshake with "${where}" failed: ${systemReason(e)} (does it speak TLS? ` +
      `a bftps server is started with --tls-cert)`,
    { cause: e },
  );
}

/** Puts the TLS libraries' certificate errors in words. */
function certificateProblem(e: unknown): string {
  const reason = systemReason(e);
  const code = String((e as { code?: unknown }).code ?? "");
  if (
    /UnknownIssuer|BadSignature|UNABLE_TO_(GET_ISSUER|VERIFY)|CERT_SIGNATURE/.test(reason + code)
  ) {
    return "it is not signed by a trusted authority";
  }
  if (/CaUsedAsEndEntity|SELF_SIGNED/.test(reason + code)) return "it is self-signed";
  if (/NotValidForName|ALTNAME/.test(reason + code)) return "it is not valid for this host name";
  if (/Expired|CERT_HAS_EXPIRED/.test(reason + code)) return "it has expired";
  if (/NotValidYet|CERT_NOT_YET_VALID/.test(reason + code)) return "it is not valid yet";
  return reason;
}

function untrusted(where: string, e: unknown, hint: string = HINT): TlsError {
  return new TlsError(
    `Cannot verify the certificate of "${where}": ${certificateProblem(e)}; ${hint}`,
    { cause: e },
  );
}

/** What `node:tls` checks the certificate against: the host, and its SNI name unless it is an address. */
function peerName(hostname: string): { host: string; servername?: string } {
  return isIP(hostname) ? { host: hostname } : { host: hostname, servername: hostname };
}

/**
 * Waits for a `node:tls` client socket's handshake, then drops the
 * listeners it waited with; on an error or an early close, destroys the
 * socket and rejects.
 */
async function handshaken(socket: tls.TLSSocket): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
      socket.once("close", () => reject(new Error("connection closed during the handshake")));
    });
  } catch (e) {
    socket.destroy();
    throw e;
  }
  socket.removeAllListeners("error");
  socket.removeAllListeners("close");
}

/** Whether a `node:tls` error code is about the certificate (trust), not the connection. */
function isCertificateCode(code: unknown): boolean {
  return typeof code === "string" && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code);
}

/** Options for {@linkcode startClientTls}. */
export interface StartClientTlsOptions {
  /** The server's name or address, checked against its certificate. */
  hostname: string;
  /** The certificates to trust (PEM): a CA, or the server's own self-signed one. */
  caCerts: string[];
  /** How messages name the server: `host:port`. */
  where: string;
  /**
   * What to tell a user whose server is not trusted.
   *
   * @default {"give --cacert FILE, or pin the certificate with --fingerprint HEX …"}
   */
  hint?: string;
}

/**
 * Starts the client side of TLS over a TCP connection made by hand,
 * trusting `caCerts`, with `node:tls`: unlike Deno's own TLS it accepts a
 * self-signed certificate marked as a CA (as `openssl req -x509` makes it)
 * as the server's own, as curl and OpenSSL do.
 *
 * @param tcp The connected socket; the result owns it.
 * @param options The name to check, the certificates to trust, words for errors.
 * @returns The connection, handshake done.
 * @throws {TlsError} When the certificate is not trusted, or the peer does not speak TLS.
 *
 * @example A peer that is not TLS fails the handshake
 * ```ts
 * import { startClientTls } from "./connect.ts";
 * import { rejects } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const peer = await listener.accept();
 * peer.close();
 * await rejects(
 *   startClientTls(tcp, { hostname: "127.0.0.1", caCerts: [], where: "127.0.0.1" }),
 *   /TLS handshake/,
 * );
 * ```
 */
export async function startClientTls(
  tcp: Deno.TcpConn,
  options: StartClientTlsOptions,
): Promise<TransportConn> {
  const socket = tls.connect({
    socket: duplexOf(tcp) as never,
    ...peerName(options.hostname),
    ca: options.caCerts,
  });
  try {
    await handshaken(socket);
  } catch (e) {
    closeQuietly(tcp);
    const code = (e as { code?: unknown }).code;
    if (isCertificateCode(code)) {
      throw untrusted(options.where, e, options.hint);
    }
    throw new TlsError(`TLS handshake with "${options.where}" failed: ${systemReason(e)}`, {
      cause: e,
    });
  }
  return new NodeTlsConn(socket, { localAddr: tcp.localAddr, remoteAddr: tcp.remoteAddr });
}

/** TLS over a `node:tls` socket: for pinning, and for CA certificates. */
async function connectNodeTls(
  options: ConnectOptions,
  trust: { ca: string[] } | { fingerprint: string },
): Promise<TransportConn> {
  const where = formatHostPort(options.hostname, options.port);
  const timeout = options.timeout ?? 30;
  const socket = tls.connect({
    ...peerName(options.hostname),
    port: options.port,
    ...("ca" in trust ? { ca: trust.ca } : { rejectUnauthorized: false }),
  });
  let timedOut = false;
  const timer = timeout > 0
    ? setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, timeout * 1000)
    : undefined;
  try {
    await handshaken(socket);
  } catch (e) {
    if (timedOut) {
      throw new TimeoutError(`Cannot connect to "${where}": timed out after ${timeout}s`);
    }
    const code = (e as { code?: unknown }).code;
    if (code === "ECONNREFUSED") {
      // The same cause as a refused Deno.connect, which callers that retry look for.
      throw new ConnectionError(`Cannot connect to "${where}": connection refused`, {
        cause: new Deno.errors.ConnectionRefused(String((e as Error).message)),
      });
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      throw new ConnectionError(`Cannot connect to "${where}": unknown host`, { cause: e });
    }
    if (isCertificateCode(code)) {
      throw untrusted(where, e);
    }
    throw handshakeError(where, e);
  } finally {
    clearTimeout(timer);
  }
  if ("fingerprint" in trust) {
    const raw = socket.getPeerCertificate()?.raw;
    const actual = raw ? certificateFingerprint(new Uint8Array(raw)) : "none";
    if (actual !== trust.fingerprint) {
      socket.destroy();
      throw new TlsError(
        `The certificate of "${where}" has the fingerprint ${actual}, not the pinned ` +
          `${trust.fingerprint}: refusing to talk to it`,
      );
    }
  }
  socket.setNoDelay(true);
  return new NodeTlsConn(socket);
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
  if (options.tls.fingerprint !== undefined) {
    return await connectNodeTls(options, { fingerprint: options.tls.fingerprint });
  }
  if (options.tls.caCerts !== undefined) {
    return await connectNodeTls(options, { ca: options.tls.caCerts });
  }
  return await connectDenoTls(options);
}
