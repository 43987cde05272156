/**
 * The BFTP listener: accepts connections (plain or TLS), runs a session for
 * each one at the same time, enforces the connection limits, the handshake
 * timeout and the idle timeout, and stops cleanly.
 *
 * @module
 */

import { encodeSized } from "../framing/size_header.ts";
import { writeAll } from "../framing/write_all.ts";
import { encodeMessage } from "../protocol/messages.ts";
import type { ServedRoot } from "../root/served_root.ts";
import { clientHost, formatHostPort } from "../transport/address.ts";
import { closeQuietly } from "../transport/close.ts";
import { listenTransport } from "../transport/listen.ts";
import type { ServerTlsOptions, TransportConn } from "../transport/types.ts";
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
import { trimMemory } from "../root/libc.ts";

/** Milliseconds without a session before the server gives free memory back. */
const TRIM_AFTER_IDLE_MS = 2000;

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
  const log = options.log ?? (() => {});
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const maxPerClient = options.maxPerClient ?? DEFAULT_MAX_PER_CLIENT;
  const idleMs = (options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT) * 1000;
  const handshakeMs = (options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT) * 1000;
  const listener = listenTransport({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 2121,
    reusePort: options.reusePort ?? false,
    tls: options.tls,
  });
  const sessions = new Map<TransportConn, Promise<void>>();
  const refusing = new Set<Promise<void>>();
  const admission: Admission = options.admission ??
    localAdmission({ maxConnections, maxPerClient });
  let closing = false;
  const penalties = options.penalties ?? new SourcePenalties();
  /** Set while the server has no session: gives memory back once the load has gone. */
  let trimTimer: ReturnType<typeof setTimeout> | undefined;
  const whenIdle = () => {
    clearTimeout(trimTimer);
    trimTimer = undefined;
    if (sessions.size > 0 || closing) return;
    trimTimer = setTimeout(() => {
      trimTimer = undefined;
      if (sessions.size === 0) trimMemory();
    }, TRIM_AFTER_IDLE_MS);
  };

  // Encoded once: a refusal costs one write of a few bytes.
  const busyFrame = (message: string) =>
    encodeSized(encodeMessage({ ok: false, code: "BUSY", message }));
  const busyFrames = {
    "full": busyFrame(
      `Server busy: the limit of ${maxConnections} connection(s) is reached, try again later`,
    ),
    "client-full": busyFrame(
      `Server busy: the limit of ${maxPerClient} connection(s) from one address is reached, ` +
        `try again later`,
    ),
  };

  const penaltyFrame = (ms: number) =>
    encodeSized(encodeMessage({
      ok: false,
      code: "DENIED",
      message: `Too many wrong tokens from this address: try again in ${Math.ceil(ms / 1000)} s`,
    }));

  const refuseBusy = async (
    conn: TransportConn,
    remote: string,
    why: "full" | "client-full" | number,
  ) => {
    log(
      typeof why === "number"
        ? `${remote} refused: DENIED (too many wrong tokens from this address)`
        : `${remote} refused: BUSY (limit of ${
          why === "full" ? `${maxConnections} connections` : `${maxPerClient} per client address`
        })`,
    );
    const deadline = setTimeout(() => closeQuietly(conn), 1000 + handshakeMs);
    try {
      await writeAll(conn, typeof why === "number" ? penaltyFrame(why) : busyFrames[why]);
      await conn.closeWrite();
      // Let the client's hello arrive, so closing does not reset the connection
      // before it has read the answer.
      clearTimeout(deadline);
      const drain = setTimeout(() => closeQuietly(conn), 1000);
      const buf = new Uint8Array(256);
      try {
        while ((await conn.read(buf)) !== null) { /* discard */ }
      } finally {
        clearTimeout(drain);
      }
    } catch { // the client is gone: nothing to tell it
    } finally {
      clearTimeout(deadline);
      closeQuietly(conn);
    }
  };

  const serveOne = async (conn: TransportConn, remote: string, host: string) => {
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
      if (conn.handshake !== undefined) {
        try {
          await conn.handshake();
        } catch (e) {
          if (!closing) {
            log(`${remote} TLS handshake failed: ${e instanceof Error ? e.message : String(e)}`);
          }
          return;
        }
      }
      await runSession(idle.watch(conn), {
        root: options.root,
        remote,
        log,
        requestTimeout: options.requestTimeout ?? 30,
        drop: (why) => {
          log(`${remote} dropped: ${why}`);
          closeQuietly(conn);
        },
        tokens: options.tokens,
        onWrongToken: () => penalties.strike(host),
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
  };

  const acceptLoop = async () => {
    try {
      for await (const conn of listener) {
        if (closing) {
          closeQuietly(conn);
          continue;
        }
        const remote = peer(conn.remoteAddr);
        const host = clientHost(conn.remoteAddr);
        if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
        const penalised = options.tokens === undefined ? 0 : penalties.refusedFor(host);
        const admitted = penalised > 0 ? penalised : admission.tryAcquire(host);
        if (admitted !== "ok") {
          if (refusing.size >= MAX_REFUSING) {
            // A flood: answering each one politely would itself exhaust descriptors.
            closeQuietly(conn);
            continue;
          }
          const refused = refuseBusy(conn, remote, admitted).finally(() =>
            refusing.delete(refused)
          );
          refusing.add(refused);
          continue;
        }
        clearTimeout(trimTimer);
        const done = serveOne(conn, remote, host).finally(() => {
          sessions.delete(conn);
          admission.release(host);
          whenIdle();
        });
        sessions.set(conn, done);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted)) {
        throw e;
      }
    }
  };
  const accepting = acceptLoop();

  let finished: Promise<void> | undefined;
  const close = () => {
    if (!finished) {
      closing = true;
      clearTimeout(trimTimer);
      closeQuietly(listener);
      for (const conn of sessions.keys()) closeQuietly(conn);
      finished = accepting
        .then(() => Promise.all([...sessions.values(), ...refusing]))
        .then(() => {});
    }
    return finished;
  };

  return {
    addr: listener.addr,
    get connections() {
      return sessions.size;
    },
    close,
    get finished() {
      return accepting.then(() => close());
    },
  };
}
