/**
 * The client's TLS over `node:tls`: for a pinned fingerprint and for given
 * CA certificates (`node:tls` shows the peer's certificate, and accepts a
 * self-signed certificate marked as a CA, as a plain `openssl req -x509`
 * makes it, where Deno's TLS refuses it). Loaded only when one of those is
 * asked for (`connect.ts`): loading `node:tls` and its company costs every
 * command about 35 ms of start-up here.
 *
 * @module
 */

import type * as tls from "node:tls";
import { ConnectionError, systemReason, TimeoutError, TlsError } from "../errors.ts";
import { nodeBuiltin } from "../node_builtin.ts";
import { formatHostPort } from "./address.ts";
import { closeQuietly } from "./close.ts";
import { duplexOf } from "./conn_duplex.ts";
import type { ConnectOptions } from "./connect.ts";
import { certificateFingerprint } from "./fingerprint.ts";
import { NodeTlsConn } from "./node_tls_conn.ts";
import { handshakeError, untrusted } from "./tls_errors.ts";
import type { TransportConn } from "./types.ts";

/** What `node:tls` checks the certificate against: the host, and its SNI name unless it is an address. */
function peerName(hostname: string): { host: string; servername?: string } {
  const { isIP } = nodeBuiltin<typeof import("node:net")>("node:net");
  return isIP(hostname) ? { host: hostname } : { host: hostname, servername: hostname };
}

/** `node:tls`, loaded when a TLS connection is first made. */
function nodeTls(): typeof tls {
  return nodeBuiltin<typeof tls>("node:tls");
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

/**
 * Why a certificate that failed to verify with no more said (node:tls on
 * Deno answers `UNABLE_TO_VERIFY_LEAF_SIGNATURE` for an expired one from a
 * trusted authority too) is out of its dates, looked at over a second
 * connection that verifies nothing and sends nothing: `CERT_HAS_EXPIRED`,
 * `CERT_NOT_YET_VALID`, or `null` (in its dates, or not learnt in 2 s).
 */
async function datesProblem(options: ConnectOptions): Promise<string | null> {
  const socket = nodeTls().connect({
    ...peerName(options.hostname),
    port: options.port,
    rejectUnauthorized: false,
  });
  const timer = setTimeout(() => socket.destroy(), 2000);
  try {
    await handshaken(socket);
    const cert = socket.getPeerCertificate();
    const now = Date.now();
    if (cert?.valid_to && now > Date.parse(cert.valid_to)) return "CERT_HAS_EXPIRED";
    if (cert?.valid_from && now < Date.parse(cert.valid_from)) return "CERT_NOT_YET_VALID";
    return null;
  } catch {
    // Only for a better message: the first failure is told either way.
    return null;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
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
  /**
   * Whether the command takes `--fingerprint`, to offer pinning where more
   * trust would not help (a certificate of another name or out of its dates).
   *
   * @default {true}
   */
  pin?: boolean;
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
 * import { startClientTls } from "./node_tls_connect.ts";
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
  const socket = nodeTls().connect({
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
      throw untrusted(options.where, e, options.hint, options.pin);
    }
    throw new TlsError(`TLS handshake with "${options.where}" failed: ${systemReason(e)}`, {
      cause: e,
    });
  }
  return new NodeTlsConn(socket, { localAddr: tcp.localAddr, remoteAddr: tcp.remoteAddr });
}

/**
 * Connects over TLS with a `node:tls` socket: for pinning, and for CA
 * certificates.
 *
 * @param options Where, and how long to wait.
 * @param trust The pinned fingerprint, or the certificates to trust.
 * @returns The connection, handshake done.
 * @throws {ConnectionError} When refused or the host is unknown.
 * @throws {TimeoutError} When it takes longer than `options.timeout`.
 * @throws {TlsError} When the certificate is not trusted or not the pinned one.
 *
 * @example A refused connection
 * ```ts
 * import { connectNodeTls } from "./node_tls_connect.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * listener.close();
 * await rejects(connectNodeTls({ hostname: "127.0.0.1", port }, { ca: [] }), /connection refused/);
 * ```
 */
export async function connectNodeTls(
  options: ConnectOptions,
  trust: { ca: string[] } | { fingerprint: string },
): Promise<TransportConn> {
  const where = formatHostPort(options.hostname, options.port);
  const timeout = options.timeout ?? 30;
  const socket = nodeTls().connect({
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
      const dates = code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ? await datesProblem(options) : null;
      throw untrusted(where, dates === null ? e : Object.assign(new Error(dates), { code: dates }));
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
