/**
 * What the layers above need of a connection, plain or TLS, whichever
 * library made it: bytes in, bytes out, both ends' addresses, and closing.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../framing/types.ts";

/**
 * A connected byte stream. `Deno.TcpConn` and `Deno.TlsConn` are ones; so is
 * the adapter over a `node:tls` socket that certificate pinning needs.
 */
export interface TransportConn extends ByteReader, ByteWriter, Disposable {
  /** This end's address. */
  readonly localAddr: Deno.NetAddr;
  /** The peer's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** Ends the sending side; reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes both sides at once (a pending read or write fails). */
  close(): void;
  /** A TLS connection's handshake, when it is still to be done (a server's accepted one). */
  handshake?(): Promise<unknown>;
}

/** A listener, plain or TLS: what the server accepts connections from. */
export interface TransportListener extends AsyncIterable<TransportConn>, Disposable {
  /** The address it listens on (the real port when 0 was asked). */
  readonly addr: Deno.NetAddr;
  /**
   * Waits for the next connection.
   *
   * @returns The connection (for TLS: its handshake still to be done).
   * @throws {Deno.errors.BadResource} Once the listener is closed.
   */
  accept(): Promise<TransportConn>;
  /** Stops listening. */
  close(): void;
}

/** How a client trusts a TLS server. */
export interface ClientTlsOptions {
  /**
   * PEM certificates to trust (a CA, or the server's own self-signed
   * certificate). Absent: the default roots.
   */
  caCerts?: string[] | undefined;
  /**
   * The server certificate's SHA-256 fingerprint (`AB:CD:...`, from
   * `parseFingerprint`). When given, it alone decides: the certificate must
   * have exactly this fingerprint, whoever signed it and whatever names it holds.
   */
  fingerprint?: string | undefined;
}

/** A server's TLS identity. */
export interface ServerTlsOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}
