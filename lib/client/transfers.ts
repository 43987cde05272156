/**
 * The client's two transfers over a {@linkcode RequestChannel}: GET (the
 * reply, then the file's body into a sink, verified as it arrives) and PUT
 * (the ready reply, the body from a source, then the server's confirmed
 * hash), each plain or resumed. `BftpClient.get` and `BftpClient.put` are
 * these.
 *
 * @module
 */

import type { RunningHash } from "../checksum.ts";
import { LocalIoError, ProtocolError } from "../errors.ts";
import { hashPrefix } from "../file_hash.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import type { FileVersion, OkReply, PutRequest, Request } from "../protocol/messages.ts";
import type { ChecksumName } from "../protocol/limits.ts";
import {
  checkGetReply,
  checkPutDoneReply,
  checkPutReadyReply,
  type GetReply,
} from "../protocol/replies.ts";
import { type BodyResult, receiveBody, sendBody } from "../transfer/body.ts";
import { ONE_TRANSFER_THREAD_FROM } from "../transfer/stream_hash.ts";
import type { RequestChannel } from "./request_channel.ts";

/** Options for `BftpClient.get` and `BftpClient.put`. */
export interface TransferOptions {
  /** Called with each chunk's length as it moves. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Called once the size is known (GET), before the body moves. */
  onStart?: ((size: number | null) => void) | undefined;
  /**
   * Called by the caller once the transfer is over, for a body whose size
   * was not known (stdin): nothing else tells its progress it is done.
   */
  onEnd?: (() => void) | undefined;
}

/** Options for `BftpClient.get`. */
export interface GetOptions extends TransferOptions {
  /**
   * Continue a download: ask for the bytes from `offset` on, of the file
   * version `expect` (the server refuses with CHANGED when the file is no
   * longer that version). `hash` is a hash in the session's checksum
   * already fed with the `offset` bytes the caller has: the body's trailer,
   * the whole file's hash, is checked against it. When the server answers
   * from offset 0 instead, a fresh hash is used and `onReply` tells the
   * caller to start over.
   */
  resume?: { offset: number; expect: FileVersion; hash: RunningHash } | undefined;
  /** Told what the reply said, before the body's first byte goes to the sink. */
  onReply?: ((reply: GetReply) => void | Promise<void>) | undefined;
}

/** Options for `BftpClient.put`. */
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
   * Make the upload resumable: `sha256` is the whole source's SHA-256 (it
   * names the upload on the server with the path and size, whatever the
   * session's checksum); the server answers how many bytes it has from an
   * earlier attempt, `seek` moves the source there, and only the rest is
   * sent. Needs a known `size`.
   */
  resume?: { sha256: string; seek(offset: number): Promise<void> } | undefined;
  /** Ask the server to give the file this modification time (ms since the epoch): `put -p`. */
  mtime?: number | undefined;
  /** Ask the server to give the file these permission bits: `put -p`. */
  mode?: number | undefined;
  /**
   * The source's bits, for a file the server creates (less its umask; a
   * file it replaces keeps its own, and `mode` wins), as scp gives them.
   */
  newMode?: number | undefined;
  /**
   * Asked once the source is read, before the trailer: `false` when it
   * changed meanwhile; the server then refuses the body (INTEGRITY) and
   * nothing lands (see `sendBody`).
   */
  sourceIntact?: (() => boolean) | undefined;
  /**
   * Send the body right behind the request whatever its size, no `ready`
   * awaited (a version 2 server, a known size, not resumed): the uploads of
   * a tree or a sync then follow each other on the session, each one's
   * flush on the server overlapping the next one's transfer, where a PUT
   * that waits for `ready` holds the session until its final reply. A
   * refusal costs the body's bytes.
   *
   * @default {size <= EAGER_PUT_MAX}
   */
  eager?: boolean | undefined;
}

/**
 * Runs a GET: downloads `path` into `sink`, verifying its hash (in the
 * session's checksum) as it arrives; or, with `resume`, the rest of it,
 * verifying the whole file's hash.
 *
 * @example
 * ```ts
 * import { RequestChannel } from "./request_channel.ts";
 * import { runGet } from "./transfers.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const channel = await RequestChannel.open({ hostname: "127.0.0.1", port: server.addr.port });
 * try {
 *   const chunks: Uint8Array[] = [];
 *   const sink = { write: (p: Uint8Array) => Promise.resolve(chunks.push(p.slice()) && p.length) };
 *   equal((await runGet(channel, "/a.txt", sink)).size, 2);
 * } finally {
 *   channel.close();
 *   await server.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param channel The session.
 * @param path The remote file.
 * @param sink Where the bytes go (from the reply's offset on).
 * @param options Progress callbacks, resume.
 * @returns The size of the body and the verified hash (of the whole file).
 * @throws {IntegrityError} When the hash does not match.
 * @throws {RemoteError} CHANGED when resuming a file that is no longer the expected version.
 */
export async function runGet(
  channel: RequestChannel,
  path: string,
  sink: ByteWriter,
  options: GetOptions = {},
): Promise<BodyResult> {
  const resume = options.resume;
  const req: Request = resume
    ? { op: "GET", path, offset: resume.offset, expect: resume.expect }
    : { op: "GET", path };
  // Whatever fails once the reply is in, the body that follows cannot be read in step.
  return await channel.withBody(req, async (reply, stream) => {
    const got = checkGetReply(reply);
    if (got.offset !== 0 && got.offset !== resume?.offset) {
      throw new ProtocolError(`Malformed reply: offset ${got.offset} was not asked for`);
    }
    const { size, offset } = got;
    await options.onReply?.(got);
    options.onStart?.(size - offset);
    return await receiveBody(stream.reader, sink, {
      expectedSize: size - offset,
      // Never more than the reply announced, even in a chunked body; a local write
      // failure ends the download at once (the session is closed after it anyway).
      maxSize: size - offset,
      stopOnSinkError: true,
      label: path,
      onProgress: options.onProgress,
      checksum: channel.checksum,
      hash: offset > 0 ? resume?.hash : undefined,
      hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
    });
  });
}

/**
 * Runs a PUT: uploads from `source`; the server stores it atomically once
 * the hash checks out.
 *
 * @example
 * ```ts
 * import { RequestChannel } from "./request_channel.ts";
 * import { runPut } from "./transfers.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const channel = await RequestChannel.open({ hostname: "127.0.0.1", port: server.addr.port });
 * try {
 *   await Deno.writeTextFile(`${dir}/local.txt`, "hi");
 *   using source = await Deno.open(`${dir}/local.txt`);
 *   await runPut(channel, "/a.txt", source, { size: 2 });
 *   equal(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * } finally {
 *   channel.close();
 *   await server.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param channel The session.
 * @param path The remote file.
 * @param source Where the bytes come from.
 * @param options Size (or `null` for a stream), overwrite, progress.
 * @returns Size and hash, as the server confirmed them.
 */
export async function runPut(
  channel: RequestChannel,
  path: string,
  source: ByteReader,
  options: PutOptions,
): Promise<BodyResult> {
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
    ...(options.newMode === undefined ? {} : { newMode: options.newMode }),
  };
  const eager = options.size !== null && (options.eager ?? options.size <= EAGER_PUT_MAX);
  if (channel.version >= 2 && !resume && eager) {
    // Pipelined: the body follows the request at once, and one reply comes after it.
    let sent: BodyResult | undefined;
    const reply = await channel.requestWithBody({ ...req, eager: true }, async (writer) => {
      options.onStart?.(options.size);
      sent = await sendBody(writer, source, {
        size: options.size,
        checksum: channel.checksum,
        label: path,
        onProgress: options.onProgress,
        hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
        sourceIntact: options.sourceIntact,
      });
    });
    return confirmed(reply, sent!, undefined);
  }
  return await channel.withBody(req, async (ready, stream) => {
    const offset = resume ? checkPutReadyReply(ready, options.size).offset ?? 0 : 0;
    const prefix = resume ? await resumeAt(resume, source, offset, channel.checksum) : {};
    options.onStart?.(options.size === null ? null : options.size - offset);
    const sent = await sendBody(stream.writer, source, {
      size: options.size === null ? null : options.size - offset,
      checksum: channel.checksum,
      ...prefix,
      label: path,
      onProgress: options.onProgress,
      hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
      sourceIntact: options.sourceIntact,
    });
    // In a SHA-256 session the hash sent is the one the request announced.
    const announced = channel.checksum === "sha256" ? resume?.sha256 : undefined;
    return confirmed(await stream.nextReply(), sent, announced);
  }, true);
}

/**
 * Moves a resumable upload's source to `offset`, and says how its trailer,
 * the whole file's hash, is made: under SHA-256 it is the hash the request
 * announced (`known`); under another checksum the bytes before the offset
 * are hashed again on the way there (`hash`).
 */
async function resumeAt(
  resume: NonNullable<PutOptions["resume"]>,
  source: ByteReader,
  offset: number,
  checksum: ChecksumName,
): Promise<{ known?: string; hash?: RunningHash }> {
  if (offset === 0 || checksum === "sha256") {
    await resume.seek(offset);
    return offset === 0 ? {} : { known: resume.sha256 };
  }
  await resume.seek(0);
  const { hash, bytes } = await hashPrefix(source, offset, checksum);
  if (bytes < offset) throw new LocalIoError("Cannot resume the upload: the source shrank");
  return { hash };
}

/** The final reply of a PUT, checked against the hash that was sent (and, resumed, announced). */
function confirmed(reply: OkReply, sent: BodyResult, announced: string | undefined): BodyResult {
  const { size, hash } = checkPutDoneReply(reply, sent.checksum);
  if (hash !== sent.hash || (announced !== undefined && hash !== announced)) {
    throw new ProtocolError(`Server confirmed hash ${hash}, but ${sent.hash} was sent`);
  }
  return { size, checksum: sent.checksum, hash };
}

/**
 * The largest upload sent eagerly (the body right behind the request, no
 * `ready` awaited): past it, a refusal would waste the body's bytes, and
 * one round trip is small beside the transfer.
 */
export const EAGER_PUT_MAX = 8 * 1024 * 1024;
