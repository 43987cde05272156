/**
 * The BFTP listener: accepts connections, runs a session for each one at
 * the same time, enforces the connection limit and the idle timeout, and
 * stops cleanly.
 *
 * @module
 */

import { encodeSized } from "../framing/size_header.ts";
import { writeAll } from "../framing/write_all.ts";
import { encodeMessage } from "../protocol/messages.ts";
import type { ServedRoot } from "../root/served_root.ts";
import { runSession } from "./session.ts";

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
   * Decides whether a new connection may have a session, and is told when
   * that session ends. Workers of one server share one so the limit holds
   * across all of them; the default counts this server's sessions against
   * `maxConnections`.
   */
  admission?: Admission;
  /**
   * Listen with SO_REUSEPORT, so several workers can share the port.
   *
   * @default {false}
   */
  reusePort?: boolean;
}

/** A connection counter shared by the servers that enforce one limit together. */
export interface Admission {
  /** Takes a place for a new session; `false` when the limit is reached. */
  tryAcquire(): boolean;
  /** Gives a place back when a session ends. */
  release(): void;
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

function peer(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** A connection whose reads and writes mark it as active. */
function watched(conn: Deno.Conn, touch: () => void) {
  return {
    read: async (p: Uint8Array) => {
      const n = await conn.read(p);
      touch();
      return n;
    },
    write: async (p: Uint8Array) => {
      const n = await conn.write(p);
      touch();
      return n;
    },
  };
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
  const maxConnections = options.maxConnections ?? 1000;
  const idleMs = (options.idleTimeout ?? 300) * 1000;
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 2121,
    ...(options.reusePort ? { reusePort: true } : {}),
  });
  const sessions = new Map<Deno.Conn, Promise<void>>();
  const refusing = new Set<Promise<void>>();
  const admission: Admission = options.admission ?? {
    tryAcquire: () => sessions.size < maxConnections,
    release: () => {},
  };
  let closing = false;

  const closeConn = (conn: Deno.Conn) => {
    try {
      conn.close();
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  };

  const refuseBusy = async (conn: Deno.Conn, remote: string) => {
    log(`${remote} refused: BUSY (limit of ${maxConnections} connections)`);
    try {
      const message =
        `Server busy: the limit of ${maxConnections} connection(s) is reached, try again later`;
      await writeAll(conn, encodeSized(encodeMessage({ ok: false, code: "BUSY", message })));
      await conn.closeWrite();
      // Let the client's hello arrive, so closing does not reset the connection
      // before it has read the answer.
      const buf = new Uint8Array(256);
      const deadline = setTimeout(() => closeConn(conn), 1000);
      try {
        while ((await conn.read(buf)) !== null) { /* discard */ }
      } finally {
        clearTimeout(deadline);
      }
    } catch { // the client is gone: nothing to tell it
    } finally {
      closeConn(conn);
    }
  };

  const serveOne = async (conn: Deno.Conn) => {
    const remote = peer(conn.remoteAddr);
    let last = Date.now();
    const timer = idleMs > 0
      ? setInterval(() => {
        if (Date.now() - last > idleMs) {
          log(`${remote} dropped: idle for ${idleMs / 1000}s`);
          closeConn(conn);
        }
      }, Math.min(1000, idleMs))
      : undefined;
    try {
      await runSession(watched(conn, () => last = Date.now()), {
        root: options.root,
        remote,
        log,
        requestTimeout: options.requestTimeout ?? 30,
        drop: (why) => {
          log(`${remote} dropped: ${why}`);
          closeConn(conn);
        },
      });
    } finally {
      clearInterval(timer);
      closeConn(conn);
    }
  };

  const acceptLoop = async () => {
    try {
      for await (const conn of listener) {
        if (closing) {
          closeConn(conn);
          continue;
        }
        const remote = peer(conn.remoteAddr);
        conn.setNoDelay(true);
        if (!admission.tryAcquire()) {
          if (refusing.size >= 64) {
            // A flood: answering each one politely would itself exhaust descriptors.
            closeConn(conn);
            continue;
          }
          const refused = refuseBusy(conn, remote).finally(() => refusing.delete(refused));
          refusing.add(refused);
          continue;
        }
        const done = serveOne(conn).finally(() => {
          sessions.delete(conn);
          admission.release();
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
      try {
        listener.close();
      } catch (e) {
        if (!(e instanceof Deno.errors.BadResource)) throw e;
      }
      for (const conn of sessions.keys()) closeConn(conn);
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
