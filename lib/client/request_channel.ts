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
import {
  type ChecksumName,
  CHECKSUMS,
  MAX_PATH_BYTES,
  MAX_REQUEST_BYTES,
} from "../protocol/limits.ts";
import { encodeMessage, type OkReply, type Request } from "../protocol/messages.ts";
import { connectTransport } from "../transport/connect.ts";
import { closeQuietly } from "../transport/close.ts";
import type { ClientTlsOptions, TransportConn } from "../transport/types.ts";
import { Watchdog } from "../transport/watchdog.ts";
import { WriteBehind } from "../framing/write_behind.ts";
import { type Release, Turns } from "./turns.ts";

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
  /**
   * The body checksums to offer, in order of preference (`--checksum`
   * offers one); the server picks the first it speaks.
   *
   * @default {CHECKSUMS}
   */
  checksums?: readonly ChecksumName[] | undefined;
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

  /** Requests in flight: the watch is on while there is one. */
  #active = 0;

  /** Runs `fn` with the watch on (several may run at once: requests in flight). */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#timeout <= 0) return await fn();
    if (this.#active++ === 0) this.#dog.start();
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
      if (--this.#active === 0) this.#dog.stop();
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
  /** The write side: requests and bodies, sent from behind. */
  #out: WriteBehind;
  #closed = false;
  #broken = false;
  /** Turns to send and to read, taken in request order (see {@linkcode Turns}). */
  #sendTurns = new Turns();
  #recvTurns = new Turns();
  /** The next request's id (version 2). */
  #nextId = 1;
  /** The protocol version the server answered with: 2 pipelines requests. */
  readonly version: 1 | 2;
  /** What the server said in its hello (`server`, `readOnly`, `auth`). */
  readonly hello: OkReply;
  /** The session's body checksum: the server's choice (version 2), or SHA-256 (version 1). */
  readonly checksum: ChecksumName;
  /** Whether this session may only read: the server's setting or a read-only token. */
  readonly readOnly: boolean;

  private constructor(
    conn: TransportConn,
    channel: Channel,
    out: WriteBehind,
    hello: OkReply,
    readOnly: boolean,
    watch: StallWatch,
  ) {
    this.#conn = conn;
    this.#watch = watch;
    this.#channel = channel;
    this.#out = out;
    this.hello = hello;
    this.readOnly = readOnly;
    this.version = hello.version === 2 ? 2 : 1;
    // The handshake checked that a version 2 server chose one of the checksums offered.
    this.checksum = this.version === 2 ? hello.checksum as ChecksumName : "sha256";
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
      return new RequestChannel(conn, channel, out, hello, readOnly, watch);
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
   * Sends a request (refused first when too large to send) and reads its
   * reply. Several may be in flight at once (version 2, pipelining).
   *
   * @param req The request.
   * @returns Its OK reply.
   * @throws {RemoteError} When the server refuses it.
   */
  async request(req: Request): Promise<OkReply> {
    refuseLongPaths(req);
    return await this.#exchange(req, (reply) => Promise.resolve(reply));
  }

  /**
   * Sends a request with its body right behind it (an eager PUT), and reads
   * the one reply that comes after the body. Pipelined like
   * {@linkcode RequestChannel.request}; a failure while sending the body
   * leaves the stream out of step, and the session unusable.
   *
   * @param req The request.
   * @param send Writes the body.
   * @returns The reply.
   */
  async requestWithBody(
    req: Request,
    send: (writer: ByteWriter) => Promise<void>,
  ): Promise<OkReply> {
    refuseLongPaths(req);
    return await this.#exchange(
      req,
      (reply) => Promise.resolve(reply),
      () => this.#inStep(() => send(this.#out)),
    );
  }

  /**
   * Sends a request whose reply is followed by a body, reads the reply,
   * then runs `body` on the stream. Whatever fails in `body` before it asks
   * for the next reply leaves the stream out of step: the session is then
   * unusable. The caller refuses an over-long request first
   * ({@linkcode refuseLongPaths}). A GET is pipelined; `exclusive` (a PUT
   * that waits for `ready`) waits for the session to be idle and holds it.
   *
   * @param req The request (GET, PUT).
   * @param body Reads or writes the body, given the reply.
   * @param exclusive Run alone on the session (a request, a reply, a body, a reply).
   * @returns What `body` returns.
   */
  async withBody<T>(
    req: Request,
    body: (reply: OkReply, stream: BodyStream) => Promise<T>,
    exclusive = false,
  ): Promise<T> {
    const answer = async (reply: OkReply) => {
      let bodyOver = false;
      const stream: BodyStream = {
        reader: this.#channel.reader,
        writer: this.#out,
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
    };
    if (!exclusive) return await this.#exchange(req, answer);
    return await this.#exclusive(async () => {
      await this.#channel.send(req);
      return await answer(await this.#channel.expectOk());
    });
  }

  /**
   * One request and its answer. With a version 2 server it is pipelined:
   * it goes out once the requests made before it have gone out, and its
   * reply is read once theirs have been, so many may be in flight. With a
   * version 1 server it waits for the session to be idle.
   */
  async #exchange<T>(
    req: Request,
    answer: (reply: OkReply) => Promise<T>,
    body?: () => Promise<void>,
  ): Promise<T> {
    if (this.version < 2) {
      return await this.#exclusive(async () => {
        await this.#channel.send(req);
        await body?.();
        return await answer(await this.#channel.expectOk());
      });
    }
    const id = this.#nextId++;
    const sendTurn = this.#sendTurns.take();
    const recvTurn = this.#recvTurns.take();
    await this.#inTurn(sendTurn, async () => {
      await this.#channel.send({ ...req, id });
      await body?.();
    }).catch(async (e) => {
      // Never sent whole: the stream is out of step, and this request has no reply to read.
      this.#broken = true;
      (await recvTurn)();
      throw e;
    });
    return await this.#inTurn(recvTurn, async () => {
      const reply = await this.#channel.receiveReply();
      if (reply.id !== id) {
        this.#broken = true;
        const said = JSON.stringify(reply.id ?? null).slice(0, 24);
        throw new ProtocolError(
          `Malformed reply: it answers request ${said}, not ${id} (replies out of order)`,
        );
      }
      if (!reply.ok) throw new RemoteError(reply.code, reply.message);
      return await answer(reply);
    });
  }

  /** Runs `fn` when `turn` starts, under the guard, and ends the turn. */
  async #inTurn<T>(turn: Promise<Release>, fn: () => Promise<T>): Promise<T> {
    const release = await turn;
    try {
      return await this.#guard(fn);
    } finally {
      release();
    }
  }

  /** Runs `fn` alone: once every request before it is answered, before any after it goes out. */
  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const sendTurn = this.#sendTurns.take();
    const recvTurn = this.#recvTurns.take();
    const releaseSend = await sendTurn;
    try {
      return await this.#inTurn(recvTurn, fn);
    } finally {
      releaseSend();
    }
  }

  /** Runs `fn`, which moves a body: if it fails, the stream is out of step. */
  async #inStep<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      this.#broken = true;
      throw e;
    }
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
