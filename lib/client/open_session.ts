/**
 * Opening a session: the connection (TCP, or TLS first when asked), the
 * hello with the checksums offered, then the token when the server
 * requires one, all within the connect timeout (or the stall timeout, when
 * shorter): a server that accepts and then says nothing is given up on.
 *
 * @module
 */

import { RemoteError, TimeoutError } from "../errors.ts";
import { WriteBehind } from "../framing/write_behind.ts";
import { Channel } from "../protocol/channel.ts";
import type { OkReply } from "../protocol/messages.ts";
import { CHECKSUMS } from "../protocol/limits.ts";
import { closeQuietly } from "../transport/close.ts";
import { connectTransport } from "../transport/connect.ts";
import { formatHostPort } from "../transport/address.ts";
import { limitRate } from "../transport/rate_limit.ts";
import type { TransportConn } from "../transport/types.ts";
import {
  type ClientOptions,
  DEFAULT_STALL_TIMEOUT,
  handshakeLoss,
  StallWatch,
} from "./session_options.ts";

/** A session just opened: its connection, its channel and what the server said. */
export interface OpenedSession {
  /** The connection. */
  conn: TransportConn;
  /** Frames over it, read through the stall watch. */
  channel: Channel;
  /** The write side, written from behind. */
  out: WriteBehind;
  /** The server's hello. */
  hello: OkReply;
  /** Whether the session may only read: the server's setting or a read-only token. */
  readOnly: boolean;
  /** The watch that gives up on a stalled stream. */
  watch: StallWatch;
}

/**
 * Connects and opens a session: TLS first when asked, the hello, then the
 * token when the server requires one.
 *
 * @param options The server's address, TLS trust and token.
 * @returns The open session.
 * @throws {RemoteError} DENIED when the server requires a token and none
 * was given, or the token is wrong.
 * @throws {TimeoutError} When the server sends no hello in time.
 *
 * @example
 * ```ts
 * import { openSession } from "./open_session.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const session = await openSession({ hostname: "127.0.0.1", port: server.addr.port });
 * equal(session.hello.version, 2);
 * session.watch.close();
 * session.conn.close();
 * await server.close();
 * await Deno.remove(dir);
 * ```
 */
export async function openSession(options: ClientOptions): Promise<OpenedSession> {
  const stall = options.stallTimeout ?? DEFAULT_STALL_TIMEOUT;
  const connectTimeout = options.connectTimeout ?? 30;
  // A TLS handshake that stalls is a stall too.
  const timeout = stall > 0 ? Math.min(connectTimeout, stall) : connectTimeout;
  const started = Date.now();
  const connected = await connectTransport({
    hostname: options.hostname,
    port: options.port,
    timeout,
    tls: options.tls,
  });
  const { limitRate: rate } = options;
  const conn = rate === undefined ? connected : limitRate(connected, rate);
  const watch = new StallWatch(conn, stall);
  // The hello and the token are part of connecting: a server that accepts and then says
  // nothing (a frozen head) is given up on within the same time (the stall watch does it
  // when the stall timeout is the shorter).
  let late = false;
  const deadline = timeout > 0 && timeout !== stall
    ? setTimeout(() => {
      late = true;
      closeQuietly(conn);
    }, Math.max(timeout * 1000 - (Date.now() - started), 1))
    : undefined;
  try {
    // Requests and small bodies are written from behind: many in flight, few system calls.
    const out = new WriteBehind(watch.stream);
    const channel = new Channel(
      { read: (p) => watch.stream.read(p), write: (p) => out.write(p) },
      options.onMessage,
    );
    const offer = options.checksums ?? CHECKSUMS;
    const hello = await watch.during(() => channel.clientHandshake(offer));
    let readOnly = hello.readOnly === true;
    if (hello.auth === "token") {
      // Named: of a volume's several servers, or a command's several URLs, the one that refused.
      const server = `"${formatHostPort(options.hostname, options.port)}"`;
      if (options.token === undefined) {
        throw new RemoteError(
          "DENIED",
          `The server ${server} requires an access token: give --token or set BFTP_TOKEN`,
        );
      }
      const reply = await watch.during(async () => {
        await channel.send({ op: "AUTH", token: options.token! });
        return await channel.expectOk();
      }).catch((e) => {
        if (!(e instanceof RemoteError && e.code === "DENIED")) throw e;
        throw new RemoteError("DENIED", `The server ${server} refused the token: ${e.message}`);
      });
      readOnly = reply.readOnly === true;
    }
    return { conn, channel, out, hello, readOnly, watch };
  } catch (e) {
    // Closed already when the watch gave up on a silent server.
    watch.close();
    closeQuietly(conn);
    if (late && !(e instanceof TimeoutError)) {
      throw new TimeoutError(
        `The server sent no BFTP hello within ${timeout} s: giving up (see --timeout)`,
      );
    }
    throw handshakeLoss(e);
  } finally {
    clearTimeout(deadline);
  }
}
