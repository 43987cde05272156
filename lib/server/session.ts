/**
 * One client's session on a BFTP server: the handshake (with a token when
 * the server requires one), then requests answered one at a time, with the
 * session's own current folder. An error in a request is answered and the
 * session goes on; only a broken stream ends it.
 *
 * @module
 */

import { BftpError, ConnectionError, ProtocolError, RemoteError } from "../errors.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { BadRequestError, type HelloAccepted } from "../protocol/channel.ts";
import type { MputRequest, OkReply, PutRequest, Request } from "../protocol/messages.ts";
import type { GetReplyFields, ReplyFields } from "../protocol/replies.ts";
import { quotePath, resolveVirtual } from "../root/paths.ts";
import { fileOnly } from "./folder_form.ts";
import type { ServedRoot } from "../root/served_root.ts";
import type { UploadFolders } from "../root/upload_folders.ts";
import type { SessionOptions } from "./session_options.ts";

export type { SessionOptions } from "./session_options.ts";
import { isDisconnect } from "../transport/close.ts";
import { VERSION } from "../version.ts";
import { handleGet, handleMget } from "./get_handler.ts";
import { handleBlocks } from "./blocks_handler.ts";
import type { HandlerContext } from "./handler_context.ts";
import { discardBody, handlePut } from "./put_handler.ts";
import { handleNamespace, type NamespaceContext } from "./namespace_handlers.ts";
import { SessionAccess } from "./session_access.ts";
import { describeRequest } from "./describe_request.ts";
import { SessionWire } from "./session_wire.ts";

/** What a version 2 hello offers beyond the version itself (docs/PROTOCOL.md). */
const FEATURES = ["setstat", "mget", "mput", "blocks"];

/** What {@linkcode runSession} needs of a connection. */
export type SessionStream = ByteReader & ByteWriter;

/**
 * Serves one connection until the client quits or the stream breaks.
 * Never throws for anything the client does.
 *
 * @param stream The accepted connection (closed by the caller).
 * @param options The root, the client's address and the logger.
 *
 * @example
 * ```ts
 * import { runSession } from "./session.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const root = await ServedRoot.open(dir);
 * // A client that closes at once ends the session quietly.
 * const stream = { read: () => Promise.resolve(null), write: (p: Uint8Array) => Promise.resolve(p.byteLength) };
 * await runSession(stream, { root, remote: "test", log: () => {} });
 * await Deno.remove(dir);
 * ```
 */
export async function runSession(stream: SessionStream, options: SessionOptions): Promise<void> {
  await new ServerSession(stream, options).run();
}

/** A request of one operation. */
type RequestOf<O extends Request["op"]> = Extract<Request, { op: O }>;

/**
 * One client's session: its state (current folder, whether it has shown a
 * token, whether it may change anything) and one method per request.
 */
class ServerSession {
  readonly #options: SessionOptions;
  readonly #root: ServedRoot;
  /** The channel, the corked writer, the body buffer, the deadline and the commit group. */
  readonly #wire: SessionWire;
  #cwd = "/";
  /** Set while a body is on the wire: an error then cannot be answered in band. */
  #inBody = false;
  /** Whether a good token was shown (when one is required), and whether the session may change files. */
  readonly #access: SessionAccess;
  /** What the hello settled: the version (2: requests may be pipelined) and the checksum. */
  #hello: HelloAccepted = { version: 1, checksum: "sha256" };
  /**
   * Set while an eager PUT's body is still unread: an answer given before it
   * (a refusal) waits until the body has been read past, to stay in step.
   */
  #bodyPending: { size: number | null } | undefined;
  /** Set when the request being served joined the group: it is answered and logged later. */
  #deferred = false;

  constructor(stream: SessionStream, options: SessionOptions) {
    this.#options = options;
    this.#root = options.root;
    this.#wire = new SessionWire(stream, options, (line) => this.#log(line));
    this.#access = new SessionAccess(options);
  }

  /** Serves the connection until the client quits or the stream breaks; never throws for anything the client does. */
  async run(): Promise<void> {
    try {
      if (!(await this.#handshake())) return;
      while (await this.#next()) { /* one request at a time */ }
    } catch (e) {
      if (isDisconnect(e)) return;
      if (e instanceof ProtocolError || e instanceof ConnectionError) {
        this.#log(`session ended: ${e.message}`);
        return;
      }
      this.#log(`session ended by an internal error: ${e instanceof Error ? e.message : e}`);
    } finally {
      await this.#wire.end();
    }
  }

  #log(line: string): void {
    this.#options.log(`${this.#options.remote} ${line}`);
  }

  /** Reads the hello and answers it; false when the client left first. */
  async #handshake(): Promise<boolean> {
    const hello = await this.#wire.deadline.during(() =>
      this.#wire.channel.serverReadHello(this.#options.checksums)
    );
    if (!hello) return false;
    this.#hello = hello;
    await this.#wire.channel.send({
      ok: true,
      version: hello.version,
      ...(hello.version >= 2 ? { checksum: hello.checksum, features: FEATURES } : {}),
      server: `bftp ${VERSION}`,
      readOnly: this.#root.readOnly,
      ...(this.#options.tokens === undefined ? {} : { auth: "token" }),
    });
    if (this.#access.authenticated) this.#options.onReady?.();
    return true;
  }

  /** Reads one request and answers it; false when the session is over. */
  async #next(): Promise<boolean> {
    let req: Request | null;
    try {
      req = await this.#wire.deadline.during(() => this.#wire.channel.receiveRequest());
    } catch (e) {
      if (!(e instanceof BadRequestError)) throw e;
      this.#log(`BAD_REQUEST ${e.message}`);
      // An eager PUT's body follows even a request that is refused: read past it first.
      if (e.bodyFollows) await this.#discardPendingBody({ size: null });
      await this.#wire.send({ ok: false, code: "BAD_REQUEST", message: e.message });
      // A malformed MPUT's bodies cannot be counted, so cannot be read past: hang up.
      return !e.fatal;
    }
    if (req === null) return false;
    if (!this.#access.authenticated && req.op !== "QUIT") {
      return await this.#access.beforeAuth(req, {
        send: (reply) => this.#wire.send(reply),
        log: (line) => this.#log(line),
      });
    }
    return await this.#serve(req);
  }

  /** Handles one request, answers its error if it fails, and logs it; false after QUIT. */
  async #serve(req: Request): Promise<boolean> {
    const started = performance.now();
    this.#inBody = false;
    // A delta's body holds only the blocks not kept, whatever `size` (the new file's) says.
    this.#bodyPending = req.op === "PUT" && req.eager
      ? { size: req.base === undefined ? req.size : null }
      : undefined;
    this.#deferred = false;
    // A request sees what the ones before it did: the group lands first, unless this is an
    // eager PUT or an MPUT that may join it (one that must not replace a file checks what is
    // there now).
    const joins = (req.op === "PUT" && req.eager) || req.op === "MPUT";
    if ((!joins || !req.overwrite) && !this.#wire.group.idle) await this.#wire.group.commit();
    let outcome = "ok";
    let bytes = -1;
    try {
      const result = await this.#handle(req);
      if (typeof result === "number") bytes = result;
      return req.op !== "QUIT";
    } catch (e) {
      outcome = this.#outcomeOf(e);
      await this.#answer(e);
      return true;
    } finally {
      if (!this.#options.quiet) this.#logServed(req, outcome, bytes, started);
    }
  }

  /** Logs a request served; one that joined the commit group, when the group lands. */
  #logServed(req: Request, outcome: string, bytes: number, started: number): void {
    const ms = (performance.now() - started).toFixed(1);
    const line = `${describeRequest(req)} ${outcome}${bytes >= 0 ? ` ${bytes}B` : ""}`;
    if (this.#deferred) this.#wire.group.describeLast(line);
    else this.#log(`${line} ${ms}ms`);
  }

  /**
   * A refusal as the client is told it: a NOT_FOUND while the served folder
   * is gone from its path says so (else a PUT into it was "not found").
   */
  #told(e: RemoteError): RemoteError {
    if (e.code !== "NOT_FOUND" || !this.#root.removed()) return e;
    return new RemoteError(
      "NOT_FOUND",
      `${e.message}: the served folder was removed from under the server (restart it to serve what is there now)`,
    );
  }

  /** The code a failed request is logged with. */
  #outcomeOf(e: unknown): string {
    if (e instanceof RemoteError || e instanceof BftpError) return e.code;
    return isDisconnect(e) ? "CONNECTION" : "SERVER";
  }

  /** Answers a failed request, or rethrows when the stream is out of step or gone. */
  async #answer(e: unknown): Promise<void> {
    const answerable = e instanceof RemoteError ||
      !(e instanceof BftpError || isDisconnect(e) || this.#inBody);
    if (answerable && this.#bodyPending) await this.#discardPendingBody(this.#bodyPending);
    if (e instanceof RemoteError) {
      const { code, message } = this.#told(e);
      await this.#wire.send({ ok: false, code, message });
    } else if (e instanceof BftpError || isDisconnect(e)) {
      // The stream is out of step (a body cut short, a malformed body), or the client went
      // away in the middle of a request: there is no one, or no way, to answer.
      throw e;
    } else if (this.#inBody) {
      // A body was half sent or half read: the stream is out of step, so an error
      // frame would be taken for body bytes. Close instead; the client sees a cut.
      this.#log(`internal error in a body: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    } else {
      this.#log(`internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      await this.#wire.send({ ok: false, code: "SERVER", message: "Internal server error" });
    }
  }

  /** Reads past the body of an eager PUT that is answered without it (a refusal). */
  async #discardPendingBody(pending: { size: number | null }): Promise<void> {
    this.#bodyPending = undefined;
    this.#inBody = true;
    await discardBody(this.#wire.channel.reader, pending.size, this.#hello.checksum);
    this.#inBody = false;
  }

  async #reply(fields: ReplyFields): Promise<void> {
    await this.#wire.send({ ...fields, ok: true } as OkReply);
  }

  /** A path of a request, resolved against the current folder. */
  #resolve(path: string): string {
    return resolveVirtual(this.#cwd, path);
  }

  /** A path of a request that changes something: refused when this session's token is read-only. */
  #writable(path: string): string {
    const vpath = this.#resolve(path);
    if (this.#access.readOnly && !this.#root.readOnly) {
      throw new RemoteError("DENIED", `Cannot change ${quotePath(vpath)}: the token is read-only`);
    }
    return vpath;
  }

  /** A path of a request that takes a file: refused in a folder's form (`a/`). */
  #file(path: string): Promise<string> {
    return Promise.resolve(fileOnly(this.#root, path, this.#resolve(path)));
  }

  /** The same, for a request that changes the file (PUT, MPUT). */
  #writableFile(path: string): Promise<string> {
    return Promise.resolve(fileOnly(this.#root, path, this.#writable(path)));
  }

  /** Handles one request; returns the body bytes moved, if any. */
  #handle(req: Request): Promise<number | void> {
    switch (req.op) {
      case "AUTH":
        return this.#reply(this.#access.authAgain());
      case "PWD":
        return this.#reply({ cwd: this.#cwd });
      case "QUIT":
        return this.#reply({});
      case "GET":
        return this.#file(req.path).then((vpath) => handleGet(this.#context(), vpath, req));
      case "BLOCKS":
        return this.#file(req.path).then((vpath) => handleBlocks(this.#context(), vpath, req));
      case "MGET":
        return handleMget(req.paths, {
          context: (index) => this.#context(index),
          resolve: (path) => fileOnly(this.#root, path, this.#resolve(path)),
          refused: async (index, path, e) => {
            this.#log(`MGET ${quotePath(path)} ${e.code}`);
            const { code, message } = this.#told(e);
            await this.#wire.send({ ok: false, code, message, index });
          },
        });
      case "MPUT":
        return this.#mput(req);
      case "PUT":
        return this.#writableFile(req.path).then((vpath) => handlePut(this.#context(), vpath, req));
      default:
        return handleNamespace(this.#namespace(), req);
    }
  }

  /** This session as the namespace requests see it. */
  #namespace(): NamespaceContext {
    return {
      root: this.#root,
      resolve: (path) => this.#resolve(path),
      writable: (path) => this.#writable(path),
      reply: (fields) => this.#reply(fields),
      setCwd: (cwd) => {
        this.#cwd = cwd;
      },
    };
  }

  /**
   * MPUT: each file taken as its eager PUT would be, its body read (and
   * dropped when refused) and its answer marked with its index. One file's
   * refusal is its own; anything else ends the session, since the bodies
   * still to come could not be read in step.
   */
  async #mput(req: MputRequest): Promise<number> {
    using folders = this.#root.uploadFolders();
    let bytes = 0;
    for (const [index, path] of req.paths.entries()) {
      const size = req.sizes[index]!;
      const put: PutRequest = { op: "PUT", path, size, overwrite: req.overwrite, eager: true };
      const mtime = req.mtimes?.[index] ?? null;
      const mode = req.modes?.[index] ?? null;
      const newMode = req.newModes?.[index] ?? null;
      if (mtime !== null) put.mtime = mtime;
      if (mode !== null) put.mode = mode;
      if (newMode !== null) put.newMode = newMode;
      this.#bodyPending = { size };
      this.#deferred = false;
      try {
        const vpath = await this.#writableFile(path);
        const got = await handlePut(this.#context(index, folders), vpath, put);
        bytes += got;
        // Answered and logged with the commit group when it joined it.
        if (this.#deferred && !this.#options.quiet) {
          this.#wire.group.describeLast(`${describeRequest(put)} ok ${got}B`);
        }
      } catch (e) {
        if (!(e instanceof RemoteError)) {
          // Out of step, or the server's own failure: the session cannot read on.
          this.#inBody = true;
          throw e;
        }
        if (this.#bodyPending) await this.#discardPendingBody(this.#bodyPending);
        this.#log(`${describeRequest(put)} ${e.code}`);
        const { code, message } = this.#told(e);
        await this.#wire.send({ ok: false, code, message, index });
      }
    }
    this.#bodyPending = undefined;
    this.#deferred = false;
    return bytes;
  }

  /**
   * This session as the GET and PUT handlers see it; with an MGET or MPUT
   * path's `index`, in its replies, and an MPUT's upload folders.
   */
  #context(index?: number, folders?: UploadFolders): HandlerContext {
    return {
      root: this.#root,
      reader: this.#wire.channel.reader,
      writer: this.#wire.out,
      bodyBuffer: (size) => this.#wire.lend(size),
      // Only a GET's or a PUT's final reply is sent with an index (MGET's, MPUT's answers).
      reply: (fields) =>
        this.#reply(index === undefined ? fields : { ...fields as GetReplyFields, index }),
      log: (line) => this.#log(line),
      setInBody: (inBody) => {
        this.#inBody = inBody;
        // The handler reads the body itself from here on.
        if (inBody) this.#bodyPending = undefined;
      },
      version: this.#hello.version,
      // Committed when the pipeline pauses (before the next read that waits: SessionWire), or
      // before the next answer or a request whose effects must see it.
      commitLater: async (upload, attributes, reply) => {
        this.#deferred = await this.#wire.group.offer(
          { upload, attributes },
          index === undefined ? reply : { ...reply, index },
          this.#wire.channel.replyTo,
        );
        return this.#deferred;
      },
      checksum: this.#hello.checksum,
      folders,
    };
  }
}
