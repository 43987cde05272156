/**
 * One client's session on a BFTP server: the handshake (with a token when
 * the server requires one), then requests answered one at a time, with the
 * session's own current folder. An error in a request is answered and the
 * session goes on; only a broken stream ends it.
 *
 * @module
 */

import {
  BftpError,
  ConnectionError,
  IntegrityError,
  ProtocolError,
  RemoteError,
} from "../errors.ts";
import { CorkedWriter } from "../framing/corked_writer.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { BadRequestError, Channel } from "../protocol/channel.ts";
import type { FileVersion, OkReply, PutRequest, Request } from "../protocol/messages.ts";
import type { ReplyFields } from "../protocol/replies.ts";
import { quotePath, resolveVirtual } from "../root/paths.ts";
import type { ServedRoot } from "../root/served_root.ts";
import { isDisconnect } from "../transport/close.ts";
import type { Hash } from "node:crypto";
import { hashPrefix } from "../file_hash.ts";
import { receiveBody, sendBody } from "../transfer/body.ts";
import type { TokenSet } from "./auth.ts";
import { DEFAULT_AUTH_DELAY_MS, MAX_AUTH_FAILURES } from "./limits.ts";
import { VERSION } from "../version.ts";

/** Options for {@linkcode runSession}. */
export interface SessionOptions {
  /** The served folder. */
  root: ServedRoot;
  /** Who the client is, for the log (`HOST:PORT`). */
  remote: string;
  /** Receives one line per request. */
  log: (line: string) => void;
  /**
   * Seconds a client has to send the whole of its hello line, or of a
   * request frame, counted from the first byte of it that the session reads.
   * A client that drips a request slower than that (a "slowloris") is
   * dropped through `drop`, even though each byte resets the idle timeout.
   * 0 disables the deadline.
   *
   * @default {0}
   */
  requestTimeout?: number;
  /** Ends the connection at once (the server closes it), with the reason for the log. */
  drop?: (why: string) => void;
  /**
   * The tokens that open the session: when given, every request but AUTH
   * and QUIT is refused with DENIED until an AUTH carries one of them.
   */
  tokens?: TokenSet | undefined;
  /**
   * Milliseconds to wait before answering a wrong token.
   *
   * @default {1000}
   */
  authDelay?: number;
  /**
   * Told once the handshake is complete: after the hello, or after a good
   * AUTH when tokens are required.
   */
  onReady?: () => void;
  /** Told of each wrong token (the server counts them by address). */
  onWrongToken?: () => void;
}

/** Whether a file is still the version a resumed GET expects. */
function sameVersion(
  expect: FileVersion,
  size: number,
  mtime: number | null,
  sha256: string | undefined,
): boolean {
  return expect.size === size &&
    (expect.mtime === null || mtime === null || expect.mtime === mtime) &&
    (expect.sha256 === undefined || sha256 === undefined || expect.sha256 === sha256);
}

/**
 * An error of an upload's body, as the session answers it: an integrity
 * failure consumed the whole body, so it becomes an answer (INTEGRITY) and
 * the session goes on; anything else is unchanged.
 */
function answerable(e: unknown): unknown {
  return e instanceof BftpError && e.code === "INTEGRITY"
    ? new RemoteError("INTEGRITY", e.message)
    : e;
}

/** What {@linkcode runSession} needs of a connection. */
export type SessionStream = ByteReader & ByteWriter;

function describe(req: Request): string {
  switch (req.op) {
    case "PWD":
    case "QUIT":
    case "AUTH": // never the token
      return req.op;
    case "RENAME":
      return `RENAME ${quotePath(req.from)} ${quotePath(req.to)}`;
    case "GET":
      return `GET ${quotePath(req.path)}${req.offset ? ` from ${req.offset}` : ""}`;
    case "PUT":
      return `PUT ${quotePath(req.path)}${req.resume ? " (resumable)" : ""}`;
    default:
      return `${req.op} ${quotePath(req.path)}`;
  }
}

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
  const { root, remote, log } = options;
  const deadlineMs = (options.requestTimeout ?? 0) * 1000;
  /** Set while the session waits for a hello or a request: the deadline runs from its first byte. */
  let awaiting = false;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  // The pieces of an answer go out in one write; whatever is held is sent before every read.
  const out = new CorkedWriter(stream);
  const channel = new Channel({
    read: async (p: Uint8Array) => {
      await out.flush();
      const n = await stream.read(p);
      if (awaiting && deadline === undefined && deadlineMs > 0 && n !== null && n > 0) {
        deadline = setTimeout(
          () => options.drop?.(`request not complete ${deadlineMs / 1000}s after its first byte`),
          deadlineMs,
        );
      }
      return n;
    },
    write: (p: Uint8Array) => out.write(p),
  });
  /** Runs one read of a hello or a request under the request deadline. */
  const underDeadline = async <T>(read: () => Promise<T>): Promise<T> => {
    awaiting = true;
    try {
      return await read();
    } finally {
      awaiting = false;
      clearTimeout(deadline);
      deadline = undefined;
    }
  };
  let cwd = "/";
  /** Set while a body is on the wire: an error then cannot be answered in band. */
  let inBody = false;
  const tokens = options.tokens;
  let authenticated = tokens === undefined;
  /** Read-only for this session: the server's setting, or a read-only token. */
  let readOnly = root.readOnly;
  let wrongTokens = 0;
  try {
    const hello = await underDeadline(() => channel.serverReadHello());
    if (!hello) return;
    await channel.send({
      ok: true,
      version: 1,
      server: `bftp ${VERSION}`,
      readOnly: root.readOnly,
      ...(tokens === undefined ? {} : { auth: "token" }),
    });
    if (authenticated) options.onReady?.();
    while (true) {
      let req: Request | null;
      try {
        req = await underDeadline(() => channel.receiveRequest());
      } catch (e) {
        if (!(e instanceof BadRequestError)) throw e;
        log(`${remote} BAD_REQUEST ${e.message}`);
        await channel.send({ ok: false, code: "BAD_REQUEST", message: e.message });
        continue;
      }
      if (req === null) return;
      if (!authenticated && req.op !== "QUIT") {
        if (req.op !== "AUTH") {
          log(`${remote} ${describe(req)} DENIED (no token yet)`);
          await channel.send({
            ok: false,
            code: "DENIED",
            message: "This server requires a token: send AUTH first",
          });
          continue;
        }
        const access = tokens!.check(req.token);
        if (access !== null) {
          authenticated = true;
          readOnly ||= access === "ro";
          log(`${remote} AUTH ok (${access === "ro" ? "read-only" : "read-write"})`);
          options.onReady?.();
          await reply({ readOnly });
          continue;
        }
        wrongTokens++;
        options.onWrongToken?.();
        // Slows down guessing; the constant-time check already hides how close a guess was.
        await new Promise((resolve) =>
          setTimeout(resolve, options.authDelay ?? DEFAULT_AUTH_DELAY_MS)
        );
        log(`${remote} AUTH DENIED (wrong token, ${wrongTokens} of ${MAX_AUTH_FAILURES})`);
        await channel.send({ ok: false, code: "DENIED", message: "Wrong token" });
        if (wrongTokens >= MAX_AUTH_FAILURES) {
          log(`${remote} closed after ${MAX_AUTH_FAILURES} wrong tokens`);
          return;
        }
        continue;
      }
      const started = performance.now();
      inBody = false;
      let outcome = "ok";
      let bytes = -1;
      try {
        const result = await handle(req);
        if (typeof result === "number") bytes = result;
        if (req.op === "QUIT") return;
      } catch (e) {
        if (e instanceof RemoteError) {
          outcome = e.code;
          await channel.send({ ok: false, code: e.code, message: e.message });
        } else if (e instanceof BftpError) {
          // The stream is out of step (a body cut short, a malformed body): end the session.
          outcome = e.code;
          throw e;
        } else if (isDisconnect(e)) {
          // The client went away in the middle of a request (a reset while a body was being
          // sent to it): not a server fault, and there is no one left to answer.
          outcome = "CONNECTION";
          throw e;
        } else if (inBody) {
          // A body was half sent or half read: the stream is out of step, so an error
          // frame would be taken for body bytes. Close instead; the client sees a cut.
          outcome = "SERVER";
          log(`${remote} internal error in a body: ${e instanceof Error ? e.message : String(e)}`);
          throw e;
        } else {
          outcome = "SERVER";
          log(`${remote} internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
          await channel.send({ ok: false, code: "SERVER", message: "Internal server error" });
        }
      } finally {
        const ms = (performance.now() - started).toFixed(1);
        log(`${remote} ${describe(req)} ${outcome}${bytes >= 0 ? ` ${bytes}B` : ""} ${ms}ms`);
      }
    }
  } catch (e) {
    if (isDisconnect(e)) return;
    if (e instanceof ProtocolError || e instanceof ConnectionError) {
      log(`${remote} session ended: ${e.message}`);
      return;
    }
    log(`${remote} session ended by an internal error: ${e instanceof Error ? e.message : e}`);
  } finally {
    // The last answer (QUIT's, the third wrong token's) may still be held.
    await out.flush().catch((e) => {
      if (!isDisconnect(e) && !(e instanceof ConnectionError)) throw e;
    });
  }

  async function reply(fields: ReplyFields): Promise<void> {
    await channel.send({ ...fields, ok: true } as OkReply);
  }

  /** Refuses a change when this session's token is read-only. */
  function writable(vpath: string): string {
    if (readOnly && !root.readOnly) {
      throw new RemoteError("DENIED", `Cannot change ${quotePath(vpath)}: the token is read-only`);
    }
    return vpath;
  }

  /** Handles one request; returns the body bytes moved, if any. */
  async function handle(req: Request): Promise<number | void> {
    switch (req.op) {
      case "AUTH":
        // A session's access is set once, by its first good token: a second AUTH is refused
        // (so a read-only session stays read-only). Without tokens it changes nothing.
        if (tokens !== undefined) {
          throw new RemoteError(
            "BAD_REQUEST",
            "Already authenticated: the session keeps the access of its first token",
          );
        }
        return reply({ readOnly });
      case "PWD":
        return reply({ cwd });
      case "QUIT":
        return reply({});
      case "CD": {
        const target = resolveVirtual(cwd, req.path);
        const entry = await root.stat(target);
        if (entry.type !== "dir") {
          throw new RemoteError("NOT_DIR", `${quotePath(target)} is not a folder`);
        }
        cwd = target;
        return reply({ cwd });
      }
      case "STAT":
        return reply({ entry: await root.stat(resolveVirtual(cwd, req.path)) });
      case "LIST":
        return reply({ entries: await root.list(resolveVirtual(cwd, req.path)) });
      case "HASH":
        return reply(await root.hash(resolveVirtual(cwd, req.path)));
      case "DELETE":
        return root.remove(writable(resolveVirtual(cwd, req.path))).then(() => reply({}));
      case "MKDIR":
        return root.mkdir(writable(resolveVirtual(cwd, req.path)), req.parents).then(() =>
          reply({})
        );
      case "RMDIR":
        return root.rmdir(writable(resolveVirtual(cwd, req.path))).then(() => reply({}));
      case "RENAME":
        return root.rename(
          writable(resolveVirtual(cwd, req.from)),
          writable(resolveVirtual(cwd, req.to)),
        ).then(() => reply({}));
      case "GET": {
        const vpath = resolveVirtual(cwd, req.path);
        const opened = await root.openRead(vpath);
        try {
          const { size, mtime, mode, sha256 } = opened;
          const offset = req.offset ?? 0;
          if (req.expect && !sameVersion(req.expect, size, mtime, sha256)) {
            throw new RemoteError(
              "CHANGED",
              `${quotePath(vpath)} has changed: it is not the version being resumed`,
            );
          }
          if (offset > size) {
            throw new RemoteError(
              "BAD_REQUEST",
              `Offset ${offset} is beyond the end of ${quotePath(vpath)} (${size} bytes)`,
            );
          }
          // A resumed GET's trailer is the whole file's hash: known, or fed with the
          // bytes before the offset here (they are read once, and not sent).
          let hash: Hash | undefined;
          if (offset > 0 && sha256 !== undefined) {
            await opened.file.seek(offset, Deno.SeekMode.Start);
          } else if (offset > 0) {
            const prefix = await hashPrefix(opened.file, offset);
            if (prefix.bytes < offset) {
              throw new RemoteError("CHANGED", `${quotePath(vpath)} has changed: it shrank`);
            }
            hash = prefix.hash;
          }
          await reply({
            size,
            mtime,
            ...(mode === null ? {} : { mode }),
            ...(offset > 0 ? { offset } : {}),
            ...(sha256 === undefined ? {} : { sha256 }),
          });
          inBody = true;
          const sent = await sendBody(out, opened.file, {
            size: size - offset,
            sha256,
            hash,
            label: vpath,
            // A remembered hash vouches only for the version it was made of: a file rewritten
            // in place while it was read would get a trailer that does not match its bytes.
            beforeTrailer: sha256 === undefined ? undefined : async () => {
              if (!(await opened.stillMatches(sha256))) {
                throw new IntegrityError(`${quotePath(vpath)} changed while it was sent`);
              }
            },
          });
          inBody = false;
          if (sha256 === undefined) opened.remember(sent.sha256);
          return sent.size;
        } finally {
          opened.close();
        }
      }
      case "PUT": {
        const vpath = writable(resolveVirtual(cwd, req.path));
        if (req.resume) return await putResumable(vpath, req);
        const upload = await root.beginUpload(vpath, req.overwrite);
        let committed = false;
        try {
          await reply({ ready: true });
          inBody = true;
          const got = await receiveBody(channel.reader, upload.sink, {
            expectedSize: req.size,
            label: vpath,
          });
          // receiveBody read the whole body even when the sink failed: back in step.
          inBody = false;
          await upload.commit({ mtime: req.mtime, mode: req.mode });
          committed = true;
          await reply({ size: got.size, sha256: got.sha256 });
          return got.size;
        } catch (e) {
          throw answerable(e);
        } finally {
          if (!committed) await upload.abort();
        }
      }
    }
  }

  /**
   * A resumable PUT: continues what earlier attempts left; if the stream
   * breaks, what arrived is kept for the next attempt. The body's trailer,
   * and the request's `sha256`, are the whole file's hash.
   */
  async function putResumable(vpath: string, req: PutRequest): Promise<number> {
    const size = req.size!;
    const upload = await root.beginResumableUpload(vpath, size, req.sha256!, req.overwrite);
    let outcome: "kept" | "discarded" | "committed" = "kept";
    try {
      if (upload.offset > 0) {
        log(`${remote} PUT ${quotePath(vpath)} resuming at ${upload.offset} of ${size} bytes`);
      }
      await reply({ ready: true, offset: upload.offset });
      inBody = true;
      const got = await receiveBody(channel.reader, upload.sink, {
        expectedSize: size - upload.offset,
        label: vpath,
        hash: upload.hash,
      });
      inBody = false;
      if (got.sha256 !== req.sha256) {
        throw new RemoteError(
          "INTEGRITY",
          `Checksum mismatch for ${quotePath(vpath)}: announced ${req.sha256}, ` +
            `the bytes hash to ${got.sha256}`,
        );
      }
      await upload.commit({ mtime: req.mtime, mode: req.mode });
      outcome = "committed";
      await reply({ size, sha256: got.sha256, offset: upload.offset });
      return got.size;
    } catch (e) {
      const err = answerable(e);
      // What arrived is worth keeping only when the stream broke; a refused or corrupt
      // upload starts over.
      if (err instanceof RemoteError) outcome = "discarded";
      throw err;
    } finally {
      if (outcome === "kept") await upload.keep();
      else if (outcome === "discarded") await upload.abort();
    }
  }
}
