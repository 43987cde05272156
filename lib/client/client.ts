/**
 * The BFTP client: one persistent session (over TCP or TLS, with a token
 * when the server asks for one), one request at a time, each answered with
 * a typed result or a thrown {@linkcode RemoteError}.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import {
  BftpError,
  ConnectionError,
  ProtocolError,
  RemoteError,
  systemReason,
  TimeoutError,
} from "../errors.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { WriteBehind } from "../framing/write_behind.ts";
import { Channel, type MessageObserver } from "../protocol/channel.ts";
import { MAX_PATH_BYTES, MAX_REQUEST_BYTES } from "../protocol/limits.ts";
import {
  encodeMessage,
  type Entry,
  type FileVersion,
  type OkReply,
  type PutRequest,
  type Request,
} from "../protocol/messages.ts";
import {
  checkCwdReply,
  checkGetReply,
  checkHashReply,
  checkListReply,
  checkPutReadyReply,
  checkStatReply,
  type GetReply,
} from "../protocol/replies.ts";
import { type BodyResult, receiveBody, sendBody } from "../transfer/body.ts";
import { ONE_TRANSFER_THREAD_FROM } from "../transfer/stream_hash.ts";
import { connectTransport } from "../transport/connect.ts";
import { closeQuietly } from "../transport/close.ts";
import type { ClientTlsOptions, TransportConn } from "../transport/types.ts";
import { Watchdog } from "../transport/watchdog.ts";
import { type Release, Turns } from "./turns.ts";

/** Options for {@linkcode BftpClient.connect}. */
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

/**
 * Refuses, before anything is sent, a request too large for any server to
 * read (a very long path): the server would drop the connection rather than
 * answer it. Paths up to that size go, and the server judges them.
 */
function refuseLongPaths(req: Request): void {
  const bytes = encodeMessage(req).byteLength;
  if (bytes <= MAX_REQUEST_BYTES) return;
  const path = Object.values(req).find((v): v is string => typeof v === "string" && v.length > 64);
  throw new BftpError(
    "BAD_PATH",
    `Refused path "${(path ?? "").slice(0, 40)}...": the request would be ${bytes} bytes, ` +
      `over the protocol's ${MAX_REQUEST_BYTES} (a path has at most ${MAX_PATH_BYTES})`,
  );
}

/** Options for {@linkcode BftpClient.get}. */
export interface GetOptions extends TransferOptions {
  /**
   * Continue a download: ask for the bytes from `offset` on, of the file
   * version `expect` (the server refuses with CHANGED when the file is no
   * longer that version). `hash` is a SHA-256 already fed with the `offset`
   * bytes the caller has: the body's trailer, the whole file's hash, is
   * checked against it. When the server answers from offset 0 instead, a
   * fresh hash is used and `onReply` tells the caller to start over.
   */
  resume?: { offset: number; expect: FileVersion; hash: Hash } | undefined;
  /** Told what the reply said, before the body's first byte goes to the sink. */
  onReply?: ((reply: GetReply) => void | Promise<void>) | undefined;
}

/** Options for {@linkcode BftpClient.get} and {@linkcode BftpClient.put}. */
export interface TransferOptions {
  /** Called with each chunk's length as it moves. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Called once the size is known (GET), before the body moves. */
  onStart?: ((size: number | null) => void) | undefined;
}

/** Options for {@linkcode BftpClient.put}. */
export interface PutOptions extends TransferOptions {
  /** The body's size, or `null` to stream until `source` ends (stdin). */
  size: number | null;
  /**
   * Replace an existing file.
   *
   * @default {true}
   */
  overwrite?: boolean;
  /**
   * Make the upload resumable: `sha256` is the whole source's hash (it
   * names the upload on the server with the path and size); the server
   * answers how many bytes it has from an earlier attempt, `seek` moves the
   * source there, and only the rest is sent. Needs a known `size`.
   */
  resume?: { sha256: string; seek(offset: number): Promise<void> } | undefined;
  /** Ask the server to give the file this modification time (ms since the epoch): `put -p`. */
  mtime?: number | undefined;
  /** Ask the server to give the file these permission bits: `put -p`. */
  mode?: number | undefined;
}

/**
 * The largest upload sent eagerly (the body right behind the request, no
 * `ready` awaited): past it, a refusal would waste the body's bytes, and
 * one round trip is small beside the transfer.
 */
export const EAGER_PUT_MAX = 8 * 1024 * 1024;

/** Seconds a request may stall before the client gives up. */
export const DEFAULT_STALL_TIMEOUT = 300;

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

/**
 * A session with a BFTP server.
 *
 * @example
 * ```ts
 * import { BftpClient } from "./client.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * try {
 *   deepEqual(await client.pwd(), "/");
 * } finally {
 *   await client.quit();
 *   await server.close();
 *   await Deno.remove(dir);
 * }
 * ```
 */
export class BftpClient {
  #conn: TransportConn;
  #watch: StallWatch;
  #channel: Channel;
  /** The write side: requests and bodies, sent from behind. */
  #out: WriteBehind;
  #closed = false;
  #broken = false;
  /** The protocol version the server answered with: 2 pipelines requests. */
  #version: number;
  /** Turns to send and to read, taken in request order (see {@linkcode Turns}). */
  #sendTurns = new Turns();
  #recvTurns = new Turns();
  /** The next request's id (version 2). */
  #nextId = 1;
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
    this.#version = hello.version === 2 ? 2 : 1;
  }

  /**
   * Connects and opens a session: TLS first when asked, the hello, then
   * the token when the server requires one.
   *
   * @param options The server's address, TLS trust and token.
   * @returns The client.
   * @throws {RemoteError} DENIED when the server requires a token and none
   * was given, or the token is wrong.
   */
  static async connect(options: ClientOptions): Promise<BftpClient> {
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
      return new BftpClient(conn, channel, out, hello, readOnly, watch);
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

  /**
   * Whether requests can still go on this session: not closed, and no
   * transfer has broken the stream (a cut, a timeout, a protocol error).
   */
  get usable(): boolean {
    return !this.#closed && !this.#broken;
  }

  /** Runs `fn` and marks the session unusable if the stream broke in it. */
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

  async #request(req: Request): Promise<OkReply> {
    return await this.#exchange(req, (reply) => Promise.resolve(reply));
  }

  /**
   * One request and its answer. With a version 2 server it is pipelined:
   * it goes out as soon as the requests made before it have gone out, and
   * its reply is read once theirs have been, so many may be in flight. With
   * a version 1 server it waits for the session to be idle.
   *
   * @param req The request.
   * @param answer Reads what follows a success reply (a GET's body), in turn.
   * @param body Sends what follows the request (an eager PUT's body), in turn.
   */
  async #exchange<T>(
    req: Request,
    answer: (reply: OkReply) => Promise<T>,
    body?: () => Promise<void>,
  ): Promise<T> {
    refuseLongPaths(req);
    if (this.#version < 2) {
      return await this.#exclusive(async () => {
        await this.#channel.send(req);
        if (body) await this.#inStep(body);
        return await answer(await this.#channel.expectOk());
      });
    }
    const id = this.#nextId++;
    const sendTurn = this.#sendTurns.take();
    const recvTurn = this.#recvTurns.take();
    await this.#inTurn(sendTurn, async () => {
      await this.#channel.send({ ...req, id });
      if (body) await this.#inStep(body);
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
        throw new ProtocolError(
          `Malformed reply: it answers request ${
            JSON.stringify(reply.id ?? null).slice(0, 24)
          }, not ${id} (replies out of order)`,
        );
      }
      if (!reply.ok) throw new RemoteError(reply.code, reply.message);
      return await answer(reply);
    });
  }

  /** Runs `fn` when `turn` starts, with the stall watch on, and ends the turn. */
  async #inTurn<T>(turn: Promise<Release>, fn: () => Promise<T>): Promise<T> {
    const release = await turn;
    try {
      return await this.#guard(fn);
    } finally {
      release();
    }
  }

  /** Runs `fn` alone on the session: once every request before it is answered, before any after it goes out. */
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

  /** @returns The session's current folder. */
  async pwd(): Promise<string> {
    return checkCwdReply(await this.#request({ op: "PWD" })).cwd;
  }

  /**
   * Changes the session's current folder.
   *
   * @param path Relative or absolute.
   * @returns The new current folder.
   */
  async cd(path: string): Promise<string> {
    return checkCwdReply(await this.#request({ op: "CD", path })).cwd;
  }

  /**
   * Lists a folder.
   *
   * @param path The folder.
   * @returns Its entries, sorted by name.
   */
  async list(path: string): Promise<Entry[]> {
    return checkListReply(await this.#request({ op: "LIST", path })).entries;
  }

  /**
   * Tells whether `path` is an existing folder (a STAT; NOT_FOUND is `false`).
   *
   * @param path The path.
   * @returns `true` for a folder; `false` for a file or nothing there.
   */
  async isFolder(path: string): Promise<boolean> {
    try {
      return (await this.stat(path)).type === "dir";
    } catch (e) {
      if (e instanceof RemoteError && e.code === "NOT_FOUND") return false;
      throw e;
    }
  }

  /**
   * Describes a file or folder.
   *
   * @param path The path.
   * @returns The entry.
   */
  async stat(path: string): Promise<Entry> {
    return checkStatReply(await this.#request({ op: "STAT", path })).entry;
  }

  /**
   * Asks the server for a file's SHA-256.
   *
   * @param path The file.
   * @returns Size and hash.
   */
  async hash(path: string): Promise<BodyResult> {
    const { size, sha256 } = checkHashReply(await this.#request({ op: "HASH", path }));
    return { size, sha256 };
  }

  /**
   * Removes a file.
   *
   * @param path The file.
   */
  async delete(path: string): Promise<void> {
    await this.#request({ op: "DELETE", path });
  }

  /**
   * Makes a folder.
   *
   * @param path The folder.
   * @param parents Make parents too, and accept an existing folder.
   */
  async mkdir(path: string, parents = false): Promise<void> {
    await this.#request({ op: "MKDIR", path, parents });
  }

  /**
   * Removes an empty folder.
   *
   * @param path The folder.
   */
  async rmdir(path: string): Promise<void> {
    await this.#request({ op: "RMDIR", path });
  }

  /**
   * Renames or moves within the served root.
   *
   * @param from The current path.
   * @param to The new path.
   */
  async rename(from: string, to: string): Promise<void> {
    await this.#request({ op: "RENAME", from, to });
  }

  /**
   * Downloads a file into `sink`, verifying its SHA-256 as it arrives; or,
   * with `resume`, the rest of it, verifying the whole file's SHA-256.
   *
   * @param path The remote file.
   * @param sink Where the bytes go (from the reply's offset on).
   * @param options Progress callbacks, resume.
   * @returns The size of the body and the verified hash (of the whole file).
   * @throws {IntegrityError} When the hash does not match.
   * @throws {RemoteError} CHANGED when resuming a file that is no longer the expected version.
   */
  async get(path: string, sink: ByteWriter, options: GetOptions = {}): Promise<BodyResult> {
    const resume = options.resume;
    const req: Request = resume
      ? { op: "GET", path, offset: resume.offset, expect: resume.expect }
      : { op: "GET", path };
    return await this.#exchange(req, async (reply) => {
      // Whatever fails from here on, the body that follows cannot be read in step.
      const got = await this.#inStep(() => Promise.resolve(checkGetReply(reply)));
      if (got.offset !== 0 && got.offset !== resume?.offset) {
        this.#broken = true;
        throw new ProtocolError(`Malformed reply: offset ${got.offset} was not asked for`);
      }
      const { size, offset } = got;
      return await this.#inStep(async () => {
        await options.onReply?.(got);
        options.onStart?.(size - offset);
        return await receiveBody(this.#channel.reader, sink, {
          expectedSize: size - offset,
          // Never more than the reply announced, even in a chunked body; a local write
          // failure ends the download at once (the session is closed after it anyway).
          maxSize: size - offset,
          stopOnSinkError: true,
          label: path,
          onProgress: options.onProgress,
          hash: offset > 0 ? resume?.hash : undefined,
          hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
        });
      });
    });
  }

  /**
   * Uploads from `source`; the server stores it atomically once the hash
   * checks out.
   *
   * @param path The remote file.
   * @param source Where the bytes come from.
   * @param options Size (or `null` for a stream), overwrite, progress.
   * @returns Size and hash, as the server confirmed them.
   */
  async put(path: string, source: ByteReader, options: PutOptions): Promise<BodyResult> {
    const resume = options.resume;
    if (resume && options.size === null) {
      throw new TypeError("A resumable upload needs a known size");
    }
    const req: PutRequest = {
      op: "PUT",
      path,
      size: options.size,
      overwrite: options.overwrite ?? true,
      ...(resume ? { resume: true, sha256: resume.sha256 } as const : {}),
      ...(options.mtime === undefined ? {} : { mtime: options.mtime }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    };
    let sent: BodyResult | undefined;
    const send = async (offset: number) => {
      options.onStart?.(options.size === null ? null : options.size - offset);
      // Resumed: the trailer is the whole file's hash, which the request named already.
      sent = await sendBody(this.#out, source, {
        size: options.size === null ? null : options.size - offset,
        sha256: offset > 0 ? resume?.sha256 : undefined,
        label: path,
        onProgress: options.onProgress,
        hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
      });
    };
    const confirm = (reply: OkReply): BodyResult => {
      const { size, sha256 } = checkHashReply(reply);
      if (sha256 !== sent?.sha256 || (resume && sha256 !== resume.sha256)) {
        throw new ProtocolError(`Server confirmed hash ${sha256}, but ${sent?.sha256} was sent`);
      }
      return { size, sha256 };
    };
    if (this.#version >= 2 && !resume && options.size !== null && options.size <= EAGER_PUT_MAX) {
      // Pipelined: the body follows the request at once, and one reply comes after it.
      return await this.#exchange(
        { ...req, eager: true },
        (r) => Promise.resolve(confirm(r)),
        () => send(0),
      );
    }
    refuseLongPaths(req);
    return await this.#exclusive(async () => {
      await this.#channel.send(req);
      const ready = await this.#channel.expectOk();
      await this.#inStep(async () => {
        const offset = resume ? checkPutReadyReply(ready, options.size).offset ?? 0 : 0;
        if (resume) await resume.seek(offset);
        await send(offset);
      });
      return confirm(await this.#channel.expectOk());
    });
  }

  /** Ends the session politely and closes the connection. */
  async quit(): Promise<void> {
    if (this.#closed) return;
    if (!this.#broken) {
      try {
        await this.#request({ op: "QUIT" });
      } catch {
        // Closing anyway.
      }
    }
    this.close();
  }

  /** Closes the connection at once (safe to call twice). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#conn);
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }
}
