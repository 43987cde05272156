/**
 * One client's session on a BFTP server: the handshake, then requests
 * answered one at a time, with the session's own current folder. An error
 * in a request is answered and the session goes on; only a broken stream
 * ends it.
 *
 * @module
 */

import { BftpError, ConnectionError, ProtocolError, RemoteError } from "../errors.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { BadRequestError, Channel } from "../protocol/channel.ts";
import type { OkReply, Request } from "../protocol/messages.ts";
import { quotePath, resolveVirtual } from "../root/paths.ts";
import type { ServedRoot } from "../root/served_root.ts";
import { receiveBody, sendBody } from "../transfer/body.ts";
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
}

/** What {@linkcode runSession} needs of a connection. */
export type SessionStream = ByteReader & ByteWriter;

function describe(req: Request): string {
  switch (req.op) {
    case "PWD":
    case "QUIT":
      return req.op;
    case "RENAME":
      return `RENAME ${quotePath(req.from)} ${quotePath(req.to)}`;
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
  const channel = new Channel({
    read: async (p: Uint8Array) => {
      const n = await stream.read(p);
      if (awaiting && deadline === undefined && deadlineMs > 0 && n !== null && n > 0) {
        deadline = setTimeout(
          () => options.drop?.(`request not complete ${deadlineMs / 1000}s after its first byte`),
          deadlineMs,
        );
      }
      return n;
    },
    write: (p: Uint8Array) => stream.write(p),
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
  try {
    const hello = await underDeadline(() => channel.serverReadHello());
    if (!hello) return;
    await channel.send({
      ok: true,
      version: 1,
      server: `bftp ${VERSION}`,
      readOnly: root.readOnly,
    });
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
  }

  async function reply(fields: Record<string, unknown>): Promise<void> {
    await channel.send({ ...fields, ok: true } as OkReply);
  }

  /** Handles one request; returns the body bytes moved, if any. */
  async function handle(req: Request): Promise<number | void> {
    switch (req.op) {
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
        return root.remove(resolveVirtual(cwd, req.path)).then(() => reply({}));
      case "MKDIR":
        return root.mkdir(resolveVirtual(cwd, req.path), req.parents).then(() => reply({}));
      case "RMDIR":
        return root.rmdir(resolveVirtual(cwd, req.path)).then(() => reply({}));
      case "RENAME":
        return root.rename(resolveVirtual(cwd, req.from), resolveVirtual(cwd, req.to))
          .then(() => reply({}));
      case "GET": {
        const vpath = resolveVirtual(cwd, req.path);
        const opened = await root.openRead(vpath);
        try {
          await reply({ size: opened.size, mtime: opened.mtime });
          inBody = true;
          const sent = await sendBody(stream, opened.file, {
            size: opened.size,
            sha256: opened.sha256,
            label: vpath,
          });
          inBody = false;
          if (opened.sha256 === undefined) opened.remember(sent.sha256);
          return sent.size;
        } finally {
          opened.file.close();
        }
      }
      case "PUT": {
        const vpath = resolveVirtual(cwd, req.path);
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
          await upload.commit(got.sha256);
          committed = true;
          await reply({ size: got.size, sha256: got.sha256 });
          return got.size;
        } catch (e) {
          // An integrity failure consumed the whole body: the session can go on.
          if (e instanceof BftpError && e.code === "INTEGRITY") {
            throw new RemoteError("INTEGRITY", e.message);
          }
          throw e;
        } finally {
          if (!committed) await upload.abort();
        }
      }
    }
  }
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.UnexpectedEof;
}
