/**
 * The client's request plumbing: connect (TCP or TLS), the hello and the
 * token, then one request at a time, each sent and its reply read under a
 * stall watch. A failure that leaves the stream out of step (a cut, a
 * timeout, a protocol error, a body that stopped half-way) marks the
 * session unusable.
 *
 * This is the one module that sends requests and reads replies for
 * `BftpClient` (client.ts); the ops and the transfer loops are built on
 * {@linkcode RequestChannel.request} and {@linkcode RequestChannel.withBody}.
 *
 * @module
 */

import {
  BftpError,
  ConnectionError,
  ProtocolError,
  RemoteError,
  systemReason,
  TimeoutError,
} from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { Channel, type MessageObserver } from "../protocol/channel.ts";
import { MAX_PATH_BYTES, MAX_REQUEST_BYTES } from "../protocol/limits.ts";
import { encodeMessage, type OkReply, type Request } from "../protocol/messages.ts";
import { connectTransport } from "../transport/connect.ts";
import { closeQuietly } from "../transport/close.ts";
import type { ClientTlsOptions, TransportConn } from "../transport/types.ts";
import { Watchdog } from "../transport/watchdog.ts";

/** Options for `BftpClient.connect` and {@linkcode RequestChannel.open}. */
export interface ClientOptions {
  /** Server host name or address. */
  hostname: string;
  /** Server port. */
  port: number;
  /**
   * Seconds to wait for the connection.
   *
   * @default {30}
   */
  connectTimeout?: number;
  /** Speak TLS (a `bftps://` URL), trusting the server as these options say; absent: plain TCP. */
  tls?: ClientTlsOptions | undefined;
  /** The access token, sent (AUTH) only when the server asks for one. */
  token?: string | undefined;
  /**
   * Seconds a request may go without a byte moving either way before the
   * client gives up with a timeout (a stalled server); 0 waits for ever.
   *
   * @default {300}
   */
  stallTimeout?: number | undefined;
  /** Called with each message sent and received (`bftp -v`); bodies are not messages. */
  onMessage?: MessageObserver | undefined;
}

/** Seconds a request may stall before the client gives up. */
export const DEFAULT_STALL_TIMEOUT = 300;

/**
 * Refuses, before anything is sent, a request too large for any server to
 * read (a very long path): the server would drop the connection rather than
 * answer it. Paths up to that size go, and the server judges them.
 *
 * @example
 * ```ts
 * import { refuseLongPaths } from "./request_channel.ts";
 * import { throws } from "node:assert/strict";
 *
 * refuseLongPaths({ op: "STAT", path: "/a" });
 * throws(() => refuseLongPaths({ op: "STAT", path: "/" + "a".repeat(100_000) }));
 * ```
 *
 * @param req The request about to be sent.
 * @throws {BftpError} BAD_PATH when it is too large.
 */
export function refuseLongPaths(req: Request): void {
  const bytes = encodeMessage(req).byteLength;
  if (bytes <= MAX_REQUEST_BYTES) return;
  const path = Object.values(req).find((v): v is string => typeof v === "string" && v.length > 64);
  throw new BftpError(
    "BAD_PATH",
    `Refused path "${(path ?? "").slice(0, 40)}...": the request would be ${bytes} bytes, ` +
      `over the protocol's ${MAX_REQUEST_BYTES} (a path has at most ${MAX_PATH_BYTES})`,
  );
}

/**
 * Watches a connection for progress while a request is in flight: when no
 * byte has moved either way for `timeout` seconds, it closes the connection
 * and the request fails with a {@linkcode TimeoutError}.
 */
class StallWatch {
  /** The connection, with every read and write marking progress. */
  readonly stream: ByteReader & ByteWriter;
  #dog: Watchdog;
  #timeout: number;

  constructor(conn: TransportConn, timeout: number) {
    this.#timeout = timeout;
    this.#dog = new Watchdog(timeout * 1000, () => closeQuietly(conn));
    this.stream = this.#dog.watch(conn);
  }

  /** Runs `fn` with the watch on. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#timeout <= 0) return await fn();
    this.#dog.start();
    try {
      return await fn();
    } catch (e) {
      if (this.#dog.expired) {
        throw new TimeoutError(
          `The server sent nothing for ${this.#timeout} s: giving up (see --timeout)`,
        );
      }
      throw e;
    } finally {
      this.#dog.stop();
    }
  }
}

/** A reset, a broken pipe or a cut stream during the hello or AUTH: a {@link ConnectionError} (exit 4). */
function handshakeLoss(e: unknown): unknown {
  if (
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.UnexpectedEof
  ) {
    return new ConnectionError(
      `The server reset the connection during the BFTP hello: ${systemReason(e)}`,
      { cause: e },
    );
  }
  return e;
}

/** The stream around a body, for {@linkcode RequestChannel.withBody}. */
export interface BodyStream {
  /** Where a reply's body comes from (GET): the buffered reader replies are read from. */
  reader: BufferedReader;
  /** Where a request's body goes (PUT). */
  writer: ByteWriter;
  /**
   * Reads the reply that follows a request's body (PUT's confirmation).
   * Once asked for, the body is over: a failure from here on (a refusal)
   * leaves the stream in step.
   */
  nextReply(): Promise<OkReply>;
}

/**
 * A session's connection, one request at a time.
 *
 * @example
 * ```ts
 * import { RequestChannel } from "./request_channel.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const channel = await RequestChannel.open({ hostname: "127.0.0.1", port: server.addr.port });
 * try {
 *   equal((await channel.request({ op: "PWD" })).cwd, "/");
 * } finally {
 *   channel.close();
 *   await server.close();
 *   await Deno.remove(dir);
 * }
 * ```
 */
export class RequestChannel {
  #conn: TransportConn;
  #watch: StallWatch;
  #channel: Channel;
  #closed = false;
  #broken = false;
  /** What the server said in its hello (`server`, `readOnly`, `auth`). */
  readonly hello: OkReply;
  /** Whether this session may only read: the server's setting or a read-only token. */
  readonly readOnly: boolean;

  private constructor(
    conn: TransportConn,
    channel: Channel,
    hello: OkReply,
    readOnly: boolean,
    watch: StallWatch,
  ) {
    this.#conn = conn;
    this.#watch = watch;
    this.#channel = channel;
    this.hello = hello;
    this.readOnly = readOnly;
  }

  /**
   * Connects and opens a session: TLS first when asked, the hello, then
   * the token when the server requires one.
   *
   * @param options The server's address, TLS trust and token.
   * @returns The open channel.
   * @throws {RemoteError} DENIED when the server requires a token and none
   * was given, or the token is wrong.
   */
  static async open(options: ClientOptions): Promise<RequestChannel> {
    const stall = options.stallTimeout ?? DEFAULT_STALL_TIMEOUT;
    const connectTimeout = options.connectTimeout ?? 30;
    const conn = await connectTransport({
      hostname: options.hostname,
      port: options.port,
      // A TLS handshake that stalls is a stall too.
      timeout: stall > 0 ? Math.min(connectTimeout, stall) : connectTimeout,
      tls: options.tls,
    });
    const watch = new StallWatch(conn, stall);
    try {
      const channel = new Channel(watch.stream, options.onMessage);
      const hello = await watch.during(() => channel.clientHandshake());
      let readOnly = hello.readOnly === true;
      if (hello.auth === "token") {
        if (options.token === undefined) {
          throw new RemoteError(
            "DENIED",
            "The server requires an access token: give --token or set BFTP_TOKEN",
          );
        }
        const reply = await watch.during(async () => {
          await channel.send({ op: "AUTH", token: options.token! });
          return await channel.expectOk();
        });
        readOnly = reply.readOnly === true;
      }
      return new RequestChannel(conn, channel, hello, readOnly, watch);
    } catch (e) {
      // Closed already when the watch gave up on a silent server.
      closeQuietly(conn);
      throw handshakeLoss(e);
    }
  }

  /** The local port of the connection (how the server's log names this client). */
  get localPort(): number {
    return (this.#conn.localAddr as Deno.NetAddr).port;
  }

  /** Whether the connection has been closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether requests can still go on this session: not closed, and no
   * transfer has broken the stream (a cut, a timeout, a protocol error).
   */
  get usable(): boolean {
    return !this.#closed && !this.#broken;
  }

  /**
   * Sends a request (refused first when too large to send) and reads its reply.
   *
   * @param req The request.
   * @returns Its OK reply.
   * @throws {RemoteError} When the server refuses it.
   */
  async request(req: Request): Promise<OkReply> {
    refuseLongPaths(req);
    return await this.#guard(async () => {
      await this.#channel.send(req);
      return await this.#channel.expectOk();
    });
  }

  /**
   * Sends a request whose reply is followed by a body, reads the reply,
   * then runs `body` on the stream. Whatever fails in `body` before it asks
   * for the next reply leaves the stream out of step: the session is then
   * unusable. The caller refuses an over-long request first
   * ({@linkcode refuseLongPaths}).
   *
   * @param req The request (GET, PUT).
   * @param body Reads or writes the body, given the reply.
   * @returns What `body` returns.
   */
  async withBody<T>(
    req: Request,
    body: (reply: OkReply, stream: BodyStream) => Promise<T>,
  ): Promise<T> {
    return await this.#guard(async () => {
      await this.#channel.send(req);
      const reply = await this.#channel.expectOk();
      let bodyOver = false;
      const stream: BodyStream = {
        reader: this.#channel.reader,
        writer: this.#watch.stream,
        nextReply: () => {
          bodyOver = true;
          return this.#channel.expectOk();
        },
      };
      try {
        return await body(reply, stream);
      } catch (e) {
        if (!bodyOver) this.#broken = true;
        throw e;
      }
    });
  }

  /** Runs `fn` under the stall watch and marks the session unusable if the stream broke in it. */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed || this.#broken) {
      throw new ConnectionError("The session is closed");
    }
    try {
      return await this.#watch.during(fn);
    } catch (e) {
      if (e instanceof TimeoutError) this.#broken = true;
      if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
        this.#broken = true;
        throw new ConnectionError("Connection closed", { cause: e });
      }
      if (
        e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
        e instanceof Deno.errors.ConnectionAborted
      ) {
        this.#broken = true;
        throw new ConnectionError("Connection lost", { cause: e });
      }
      if (e instanceof ProtocolError || e instanceof ConnectionError) this.#broken = true;
      throw e;
    }
  }

  /** Closes the connection at once (safe to call twice). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#conn);
  }
}
