/**
 * The BFTP listener: accepts connections (plain or TLS), runs a session for
 * each one at the same time, enforces the connection limits, the handshake
 * timeout and the idle timeout, and stops cleanly.
 *
 * @module
 */

import type { ChecksumName } from "../protocol/limits.ts";
import type { ServedRoot } from "../root/served_root.ts";
import { outOfDescriptors } from "../root/fs_errors.ts";
import { clientHost, formatHostPort } from "../transport/address.ts";
import { closeQuietly, goneBeforeAccept } from "../transport/close.ts";
import { listenTransport } from "../transport/listen.ts";
import type { ServerTlsOptions, TransportConn, TransportListener } from "../transport/types.ts";
import { Watchdog } from "../transport/watchdog.ts";
import { type Admission, localAdmission } from "./admission.ts";
import type { TokenSet } from "./auth.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PER_CLIENT,
  MAX_REFUSING,
} from "./limits.ts";
import { runSession } from "./session.ts";
import { SourcePenalties } from "./penalties.ts";
import { Refuser } from "./refusal.ts";
import { trimMemory } from "./trim_memory.ts";

/** Milliseconds without a session before the server gives free memory back. */
const TRIM_AFTER_IDLE_MS = 2000;

/** Milliseconds between tries to accept while no file descriptor is left. */
const DESCRIPTOR_WAIT_MS = 100;

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /** The served folder. */
  root: ServedRoot;
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one.
   *
   * @default {2121}
   */
  port?: number;
  /** Receives one line per request and per notable event. */
  log?: (line: string) => void;
  /**
   * The most sessions at once; a client beyond it gets a BUSY reply at once.
   *
   * @default {1000}
   */
  maxConnections?: number;
  /**
   * Seconds a client may stay silent (idle between requests, or stalled in
   * a transfer) before it is dropped; 0 disables the timeout.
   *
   * @default {300}
   */
  idleTimeout?: number;
  /**
   * Seconds a client has to send the whole of its hello line or of a request
   * frame, from its first byte: a client that drips a request one byte at a
   * time (which keeps resetting the idle timeout) is dropped. 0 disables it.
   *
   * @default {30}
   */
  requestTimeout?: number;
  /**
   * The most sessions at once from one client address (BUSY beyond it); 0
   * for no limit.
   *
   * @default {32}
   */
  maxPerClient?: number;
  /**
   * Seconds a new connection has to complete its handshake (TLS, the hello
   * line, and AUTH when tokens are required) before it is dropped; 0
   * disables the timeout.
   *
   * @default {10}
   */
  handshakeTimeout?: number;
  /** Speak TLS with this certificate and key; absent: plain TCP. */
  tls?: ServerTlsOptions | undefined;
  /** Require one of these tokens (the AUTH request) before any other request. */
  tokens?: TokenSet | undefined;
  /**
   * Milliseconds to wait before answering a wrong token.
   *
   * @default {1000}
   */
  authDelay?: number;
  /**
   * Decides whether a new connection may have a session, and is told when
   * that session ends. Workers of one server share one so the limits hold
   * across all of them; the default counts this server's sessions against
   * `maxConnections` and `maxPerClient`.
   */
  admission?: Admission;
  /**
   * Counts wrong tokens by client address and refuses an address that sent
   * too many (see `penalties.ts`).
   *
   * @default {new SourcePenalties()}
   */
  penalties?: SourcePenalties;
  /**
   * Listen with SO_REUSEPORT, so several workers can share the port.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * The body checksums this server accepts (`--checksum sha256`: SHA-256
   * only); a client that offers none of them is refused at its hello.
   *
   * @default {CHECKSUMS}
   */
  checksums?: readonly ChecksumName[] | undefined;
}

/** A running server. */
export interface BftpServer {
  /** The address it listens on (the real port when 0 was asked). */
  readonly addr: Deno.NetAddr;
  /** How many sessions are open now. */
  readonly connections: number;
  /** Stops accepting, closes every session, and resolves when all have ended. */
  close(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/** A peer's `HOST:PORT` for the log, or the transport name for non-IP addresses. */
function peer(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return formatHostPort(addr.hostname, addr.port);
}

/**
 * Starts a BFTP server.
 *
 * @param options The root and the listening address.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import { startServer } from "./server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { ok } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * ok(server.addr.port > 0);
 * await server.close();
 * await Deno.remove(dir);
 * ```
 */
export function startServer(options: ServerOptions): BftpServer {
  return new Server(options);
}

/** A listener and its sessions: what {@linkcode startServer} returns. */
class Server implements BftpServer {
  readonly #options: ServerOptions;
  readonly #log: (line: string) => void;
  readonly #idleMs: number;
  readonly #handshakeMs: number;
  readonly #listener: TransportListener;
  readonly #sessions = new Map<TransportConn, Promise<void>>();
  readonly #refusing = new Set<Promise<void>>();
  readonly #admission: Admission;
  readonly #penalties: SourcePenalties;
  readonly #refuser: Refuser;
  readonly #accepting: Promise<void>;
  #closing = false;
  #finished: Promise<void> | undefined;
  /** Set while the server has no session: gives memory back once the load has gone. */
  #trimTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ServerOptions) {
    this.#options = options;
    const log = options.log ?? (() => {});
    this.#log = log;
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const maxPerClient = options.maxPerClient ?? DEFAULT_MAX_PER_CLIENT;
    this.#idleMs = (options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT) * 1000;
    this.#handshakeMs = (options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT) * 1000;
    this.#listener = listenTransport({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 2121,
      reusePort: options.reusePort ?? false,
      tls: options.tls,
    });
    this.#admission = options.admission ?? localAdmission({ maxConnections, maxPerClient });
    this.#penalties = options.penalties ?? new SourcePenalties();
    this.#refuser = new Refuser({
      maxConnections,
      maxPerClient,
      handshakeMs: this.#handshakeMs,
      log,
    });
    this.#accepting = this.#acceptLoop();
  }

  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  get connections(): number {
    return this.#sessions.size;
  }

  get finished(): Promise<void> {
    return this.#accepting.then(() => this.close());
  }

  close(): Promise<void> {
    if (!this.#finished) {
      this.#closing = true;
      clearTimeout(this.#trimTimer);
      closeQuietly(this.#listener);
      for (const conn of this.#sessions.keys()) closeQuietly(conn);
      this.#finished = this.#accepting
        .then(() => Promise.all([...this.#sessions.values(), ...this.#refusing]))
        .then(() => {});
    }
    return this.#finished;
  }

  #whenIdle(): void {
    clearTimeout(this.#trimTimer);
    this.#trimTimer = undefined;
    if (this.#sessions.size > 0 || this.#closing) return;
    this.#trimTimer = setTimeout(() => {
      this.#trimTimer = undefined;
      if (this.#sessions.size === 0) trimMemory();
    }, TRIM_AFTER_IDLE_MS);
  }

  async #acceptLoop(): Promise<void> {
    let starved = false;
    while (!this.#closing) {
      let conn: TransportConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        // One connection reset in the queue (any peer can do it at will): the next is accepted.
        if (goneBeforeAccept(e)) continue;
        // Out of descriptors (the process's limit, or the system's): the connection waits in
        // the kernel's queue until a session ends and frees one. The server does not stop
        // (about 680 idle connections under a limit of 1024 ended it, exit 1).
        if (!outOfDescriptors(e)) throw e;
        if (!starved) {
          this.#log(`accept: no file descriptor left (${this.#sessions.size} sessions); waiting`);
        }
        starved = true;
        await new Promise((resolve) => setTimeout(resolve, DESCRIPTOR_WAIT_MS));
        continue;
      }
      if (starved) this.#log("accept: accepting again");
      starved = false;
      if (this.#closing) closeQuietly(conn);
      else this.#admit(conn);
    }
  }

  /** Starts a session for an accepted connection, or refuses it. */
  #admit(conn: TransportConn): void {
    const remote = peer(conn.remoteAddr);
    const host = clientHost(conn.remoteAddr);
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    const penalised = this.#options.tokens === undefined ? 0 : this.#penalties.refusedFor(host);
    const admitted = penalised > 0 ? penalised : this.#admission.tryAcquire(host);
    if (admitted !== "ok") {
      if (this.#refusing.size >= MAX_REFUSING) {
        // A flood: answering each one politely would itself exhaust descriptors.
        closeQuietly(conn);
        return;
      }
      const refused = this.#refuser.refuse(conn, remote, admitted).finally(() =>
        this.#refusing.delete(refused)
      );
      this.#refusing.add(refused);
      return;
    }
    clearTimeout(this.#trimTimer);
    const done = this.#serveOne(conn, remote, host).finally(() => {
      this.#sessions.delete(conn);
      this.#admission.release(host);
      this.#whenIdle();
    });
    this.#sessions.set(conn, done);
  }

  /** Runs one session under the handshake and idle timeouts. */
  async #serveOne(conn: TransportConn, remote: string, host: string): Promise<void> {
    const log = this.#log;
    const handshakeMs = this.#handshakeMs;
    const idleMs = this.#idleMs;
    let ready = false;
    const handshakeTimer = handshakeMs > 0
      ? setTimeout(() => {
        if (ready) return;
        log(`${remote} dropped: no complete handshake within ${handshakeMs / 1000}s`);
        closeQuietly(conn);
      }, handshakeMs)
      : undefined;
    const idle = new Watchdog(idleMs, () => {
      log(`${remote} dropped: idle for ${idleMs / 1000}s`);
      closeQuietly(conn);
    });
    idle.start();
    try {
      if (!(await this.#tlsHandshake(conn, remote))) return;
      const options = this.#options;
      await runSession(idle.watch(conn), {
        root: options.root,
        remote,
        log,
        quiet: options.log === undefined,
        requestTimeout: options.requestTimeout ?? 30,
        drop: (why) => {
          log(`${remote} dropped: ${why}`);
          closeQuietly(conn);
        },
        tokens: options.tokens,
        checksums: options.checksums,
        onWrongToken: () => this.#penalties.strike(host),
        refusedFor: () => this.#penalties.refusedFor(host),
        ...(options.authDelay === undefined ? {} : { authDelay: options.authDelay }),
        onReady: () => {
          ready = true;
          idle.touch();
          clearTimeout(handshakeTimer);
        },
      });
    } finally {
      clearTimeout(handshakeTimer);
      idle.stop();
      closeQuietly(conn);
    }
  }

  /** Completes a TLS connection's handshake; false (logged) when it fails. */
  async #tlsHandshake(conn: TransportConn, remote: string): Promise<boolean> {
    if (conn.handshake === undefined) return true;
    try {
      await conn.handshake();
      return true;
    } catch (e) {
      if (!this.#closing) {
        this.#log(`${remote} TLS handshake failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      return false;
    }
  }
}
