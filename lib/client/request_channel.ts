/**
 * The client's request plumbing: connect (TCP or TLS), the hello and the
 * token, then requests, each sent and its reply read under a stall watch.
 * With a version 2 server requests are pipelined: each takes a turn to send
 * and a turn to read when it is made, carries an id that its reply must
 * echo, and many may be in flight; with a version 1 server they go one at a
 * time. A failure that leaves the stream out of step (a cut, a timeout, a
 * protocol error, a reply out of order, a body that stopped half-way) marks
 * the session unusable, and the requests in flight fail with it.
 *
 * This is the one module that sends requests and reads replies for
 * `BftpClient` (client.ts); the ops and the transfer loops are built on
 * {@linkcode RequestChannel.request} and {@linkcode RequestChannel.withBody}.
 *
 * @module
 */

import {
  ConnectionError,
  IntegrityError,
  ProtocolError,
  RemoteError,
  TimeoutError,
} from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteWriter } from "../framing/types.ts";
import { Channel } from "../protocol/channel.ts";
import type { OkReply, Reply, Request } from "../protocol/messages.ts";
import type { ChecksumName } from "../protocol/limits.ts";
import { closeQuietly } from "../transport/close.ts";
import type { TransportConn } from "../transport/types.ts";
import type { WriteBehind } from "../framing/write_behind.ts";
import { type Release, Turns } from "./turns.ts";
import { openSession } from "./open_session.ts";
import {
  type ClientOptions,
  connectionLoss,
  refuseLongPaths,
  type StallWatch,
} from "./session_options.ts";

export { type ClientOptions, DEFAULT_STALL_TIMEOUT, refuseLongPaths } from "./session_options.ts";

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
  /** What broke the stream, once something has: every later request fails with it. */
  #brokenBy: unknown;
  /** The sequence number of the first request made after the stream broke. */
  #brokenBefore = 0;
  /** Turns to send and to read, taken in request order (see {@linkcode Turns}). */
  #sendTurns = new Turns();
  #recvTurns = new Turns();
  /** The next request's id (version 2), which also numbers requests in version 1. */
  #nextId = 1;
  /** The protocol version the server answered with: 2 pipelines requests. */
  readonly version: 1 | 2;
  /** The session's body checksum: the server's choice (version 2), or SHA-256 (version 1). */
  readonly checksum: ChecksumName;
  /** What the server said in its hello (`server`, `readOnly`, `auth`). */
  readonly hello: OkReply;
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
    const s = await openSession(options);
    return new RequestChannel(s.conn, s.channel, s.out, s.hello, s.readOnly, s.watch);
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
    return !this.#closed && this.#brokenBy === undefined;
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
    return await this.#exchange(req, (reply) => Promise.resolve(reply), () => send(this.#out));
  }

  /**
   * Sends a request whose reply is followed by a body, reads the reply,
   * then runs `body` on the stream. Whatever fails in `body` before it asks
   * for the next reply leaves the stream out of step: the session is then
   * unusable. A GET is pipelined; `exclusive` (a PUT that waits for
   * `ready`) waits for the session to be idle and holds it.
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
        // A body read whole whose checksum did not match (or that its sender withdrew) leaves
        // the stream in step: that transfer fails, the session goes on.
        const inStep = e instanceof IntegrityError && e.bodyRead;
        if (!bodyOver && !inStep) this.#break(e);
        throw e;
      }
    };
    return await this.#exchange(req, answer, undefined, exclusive);
  }

  /**
   * Sends a request answered by one reply for each of `count` items (MGET),
   * each marked with its `index` in order, and runs `each` on every one,
   * error replies included; a success reply's body, if any, is `each`'s to
   * read from the stream: at once when it is buffered (`each` then returns
   * nothing, and the next item's reply, buffered too, is taken without a
   * promise between them), else by the promise `each` returns. An error
   * reply without an `index` ends the answer early: it is thrown, after the
   * items answered before it. Pipelined like
   * {@linkcode RequestChannel.request} (version 2 only); whatever fails in
   * `each`, or in sending `body`, leaves the stream out of step.
   *
   * @param req The request.
   * @param count How many items it names.
   * @param each Takes one item's reply (and reads its body).
   * @param body Writes what follows the request (MPUT's bodies).
   * @throws {RemoteError} When the request as a whole is refused.
   */
  async requestMany(
    req: Request,
    count: number,
    each: (index: number, reply: Reply, reader: BufferedReader) => Promise<void> | void,
    body?: (writer: ByteWriter) => Promise<void>,
  ): Promise<void> {
    refuseLongPaths(req);
    if (this.version < 2) throw new ProtocolError(`A version 1 session has no ${req.op}`);
    const send = body && (() => body(this.#out));
    await this.#pipelined(req, send, async (id) => {
      for (let index = 0; index < count; index++) {
        const buffered = this.#channel.receiveReplyBuffered();
        const reply = buffered === null ? await this.#replyTo(id) : this.#answering(buffered, id);
        if (reply.index === undefined && !reply.ok) {
          throw new RemoteError(reply.code, reply.message);
        }
        if (reply.index !== index) {
          const said = JSON.stringify(reply.index ?? null).slice(0, 24);
          throw this.#break(
            new ProtocolError(`Malformed reply: it answers item ${said}, not ${index}`),
          );
        }
        let step: Promise<void> | void;
        try {
          step = each(index, reply, this.#channel.reader);
        } catch (e) {
          throw this.#break(e);
        }
        if (step !== undefined) await this.#inStep(() => step);
      }
    });
  }

  /**
   * One request and its answer. With a version 2 server it is pipelined:
   * it goes out once the requests made before it have gone out, and its
   * reply is read once theirs have been, so many may be in flight. With a
   * version 1 server, or `exclusive`, it waits for the session to be idle.
   * A request too large to send is refused first; a `body` that fails
   * leaves the stream out of step.
   */
  async #exchange<T>(
    req: Request,
    answer: (reply: OkReply) => Promise<T>,
    body?: () => Promise<void>,
    exclusive = false,
  ): Promise<T> {
    refuseLongPaths(req);
    if (exclusive || this.version < 2) {
      return await this.#exclusive(async () => {
        await this.#channel.send(req);
        if (body) await this.#inStep(body);
        return await answer(await this.#channel.expectOk());
      });
    }
    return await this.#pipelined(req, body, async (id) => {
      const reply = await this.#replyTo(id);
      if (!reply.ok) throw new RemoteError(reply.code, reply.message);
      return await answer(reply);
    });
  }

  /**
   * Sends `req` (and its body) once the requests made before it have gone
   * out, then runs `read` with its id once their answers have been read.
   */
  async #pipelined<T>(
    req: Request,
    body: (() => Promise<void>) | undefined,
    read: (id: number) => Promise<T>,
  ): Promise<T> {
    const id = this.#nextId++;
    const sendTurn = this.#sendTurns.take();
    const recvTurn = this.#recvTurns.take();
    await this.#inTurn(sendTurn, id, async () => {
      await this.#channel.send({ ...req, id });
      await body?.();
    }).catch(async (e) => {
      // Never sent whole: the stream is out of step, and this request has no reply to read.
      this.#break(e);
      (await recvTurn)();
      throw e;
    });
    return await this.#inTurn(recvTurn, id, () => read(id));
  }

  /** Reads the next reply, which must answer request `id`. */
  async #replyTo(id: number): Promise<Reply> {
    return this.#answering(await this.#channel.receiveReply(), id);
  }

  /** `reply`, which must answer request `id`. */
  #answering(reply: Reply, id: number): Reply {
    if (reply.id !== id) {
      const said = JSON.stringify(reply.id ?? null).slice(0, 24);
      throw this.#break(
        new ProtocolError(
          `Malformed reply: it answers request ${said}, not ${id} (replies out of order)`,
        ),
      );
    }
    return reply;
  }

  /** Runs `fn` of request `seq` when `turn` starts, under the guard, and ends the turn. */
  async #inTurn<T>(turn: Promise<Release>, seq: number, fn: () => Promise<T>): Promise<T> {
    const release = await turn;
    try {
      return await this.#guard(seq, fn);
    } finally {
      release();
    }
  }

  /** Runs `fn` alone: once every request before it is answered, before any after it goes out. */
  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const seq = this.#nextId++;
    const sendTurn = this.#sendTurns.take();
    const recvTurn = this.#recvTurns.take();
    const releaseSend = await sendTurn;
    try {
      return await this.#inTurn(recvTurn, seq, fn);
    } finally {
      releaseSend();
    }
  }

  /** Runs `fn`, which moves a body: if it fails, the stream is out of step. */
  async #inStep<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.#break(e);
    }
  }

  /** Marks the stream out of step because of `e` (the first cause is kept); returns `e`. */
  #break(e: unknown): unknown {
    if (this.#brokenBy === undefined) {
      this.#brokenBy = e;
      this.#brokenBefore = this.#nextId;
    }
    return e;
  }

  /** Runs `fn` under the stall watch and marks the session unusable if the stream broke in it. */
  async #guard<T>(seq: number, fn: () => Promise<T>): Promise<T> {
    // Requests already made when the stream broke fail with what broke it; later ones, closed.
    if (this.#brokenBy !== undefined && seq < this.#brokenBefore) throw this.#brokenBy;
    if (this.#closed || this.#brokenBy !== undefined) {
      throw new ConnectionError("The session is closed");
    }
    try {
      return await this.#watch.during(fn);
    } catch (e) {
      const mapped = connectionLoss(e);
      // A cause recorded before it was worded (a reset inside a body, or the read a stall
      // cancelled, which the watch words as a timeout) is kept as worded: the requests still in
      // flight fail with it too, never with the bare cause (an internal error, exit 1).
      const cause = e instanceof Error ? e.cause : undefined;
      if (this.#brokenBy === e || (cause !== undefined && this.#brokenBy === cause)) {
        this.#brokenBy = mapped;
      }
      const fatal = mapped instanceof TimeoutError || mapped instanceof ProtocolError ||
        mapped instanceof ConnectionError;
      if (fatal) this.#break(mapped);
      throw mapped;
    }
  }

  /** Closes the connection at once (safe to call twice). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch.close();
    closeQuietly(this.#conn);
  }
}
