/**
 * The client's two transfers over a {@linkcode RequestChannel}: GET (the
 * reply, then the file's body into a sink, verified as it arrives) and PUT
 * (the ready reply, the body from a source, then the server's confirmed
 * hash), each plain or resumed. `BftpClient.get` and `BftpClient.put` are
 * these.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import { ProtocolError } from "../errors.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import type { FileVersion, OkReply, PutRequest, Request } from "../protocol/messages.ts";
import {
  checkGetReply,
  checkHashReply,
  checkPutReadyReply,
  type GetReply,
} from "../protocol/replies.ts";
import { type BodyResult, receiveBody, sendBody } from "../transfer/body.ts";
import { ONE_TRANSFER_THREAD_FROM } from "../transfer/stream_hash.ts";
import { refuseLongPaths, type RequestChannel } from "./request_channel.ts";

/** Options for `BftpClient.get` and `BftpClient.put`. */
export interface TransferOptions {
  /** Called with each chunk's length as it moves. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Called once the size is known (GET), before the body moves. */
  onStart?: ((size: number | null) => void) | undefined;
}

/** Options for `BftpClient.get`. */
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
 * Runs a GET: downloads `path` into `sink`, verifying its SHA-256 as it
 * arrives; or, with `resume`, the rest of it, verifying the whole file's
 * SHA-256.
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
  refuseLongPaths({ op: "GET", path });
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
  refuseLongPaths({ op: "PUT", path, size: options.size, overwrite: true });
  const req: PutRequest = {
    op: "PUT",
    path,
    size: options.size,
    overwrite: options.overwrite ?? true,
    ...(resume ? { resume: true, sha256: resume.sha256 } as const : {}),
    ...(options.mtime === undefined ? {} : { mtime: options.mtime }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
  };
  if (channel.version >= 2 && !resume && options.size !== null && options.size <= EAGER_PUT_MAX) {
    // Pipelined: the body follows the request at once, and one reply comes after it.
    let sent: BodyResult | undefined;
    const reply = await channel.requestWithBody({ ...req, eager: true }, async (writer) => {
      options.onStart?.(options.size);
      sent = await sendBody(writer, source, {
        size: options.size,
        label: path,
        onProgress: options.onProgress,
        hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
      });
    });
    return confirmed(reply, sent!.sha256, undefined);
  }
  return await channel.withBody(req, async (ready, stream) => {
    const offset = resume ? checkPutReadyReply(ready, options.size).offset ?? 0 : 0;
    if (resume) await resume.seek(offset);
    options.onStart?.(options.size === null ? null : options.size - offset);
    // Resumed: the trailer is the whole file's hash, which the request named already.
    const sent = await sendBody(stream.writer, source, {
      size: options.size === null ? null : options.size - offset,
      sha256: offset > 0 ? resume?.sha256 : undefined,
      label: path,
      onProgress: options.onProgress,
      hashThreadFrom: ONE_TRANSFER_THREAD_FROM,
    });
    return confirmed(await stream.nextReply(), sent.sha256, resume?.sha256);
  }, true);
}

/** The final reply of a PUT, checked against the hash that was sent (and, resumed, announced). */
function confirmed(reply: OkReply, sent: string, announced: string | undefined): BodyResult {
  const { size, sha256 } = checkHashReply(reply);
  if (sha256 !== sent || (announced !== undefined && sha256 !== announced)) {
    throw new ProtocolError(`Server confirmed hash ${sha256}, but ${sent} was sent`);
  }
  return { size, sha256 };
}

/**
 * The largest upload sent eagerly (the body right behind the request, no
 * `ready` awaited): past it, a refusal would waste the body's bytes, and
 * one round trip is small beside the transfer.
 */
export const EAGER_PUT_MAX = 8 * 1024 * 1024;
