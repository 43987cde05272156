/**
 * Many whole files in one request, on the wire: MGET (feature `"mget"`)
 * downloads them, MPUT (feature `"mput"`) uploads them, each file answered
 * in order with its index as its own GET or eager PUT would be. One file's
 * refusal is its own; a stream out of step breaks the session. The callers
 * (`many_downloads.ts`, `many_uploads.ts`) land and read the files.
 *
 * @module
 */

import { digestOf } from "../checksum.ts";
import { CorkedWriter } from "../framing/corked_writer.ts";
import { LocalIoError, ProtocolError, RemoteError } from "../errors.ts";
import { writeAll } from "../framing/write_all.ts";
import type { ByteWriter } from "../framing/types.ts";
import type { MputRequest, Reply } from "../protocol/messages.ts";
import { MAX_MGET_PATHS, MAX_REQUEST_BYTES } from "../protocol/limits.ts";
import { encodeBodyHeader, encodeTrailer } from "../protocol/body_format.ts";
import { checkGetReply, checkPutDoneReply, type GetReply } from "../protocol/replies.ts";
import { type BodyResult, receiveBody } from "../transfer/body.ts";
import { receiveWhole, receiveWholeBuffered } from "../transfer/receive_whole.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { RequestChannel } from "./request_channel.ts";

/** The most files one MGET or MPUT of a tree names. */
export const MANY_BATCH = 64;

/** The largest file a tree moves by MGET or MPUT (as listed); larger ones go one to a request. */
export const MANY_FILE_MAX = 256 << 10;

/** The blocks an MPUT's bodies go out in (one file's frame larger than a block goes as it is). */
const CORKED_BYTES = 256 << 10;

/**
 * Blocks of {@linkcode CORKED_BYTES} that MPUTs sent whole gave back, for
 * the next: a push of 5,000 small files sends about 80 batches, and a
 * block each (grown from 4 KiB) was 40 MB allocated, a tenth of its
 * garbage.
 */
const spareBlocks: Uint8Array<ArrayBuffer>[] = [];

/**
 * Splits `items` into batches for MGET or MPUT: at most `most`, and
 * requests well within the protocol's size (a path takes at most 6 bytes
 * a character in JSON). A path too long for any request is a batch of its
 * own, which the client refuses as it would refuse its GET or PUT.
 *
 * @param items The files.
 * @param pathOf Each file's remote path.
 * @param most The most files in a batch.
 * @returns The batches, in order.
 *
 * @example
 * ```ts
 * import { batchesOf } from "./many_transfers.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(batchesOf(["/a", "/b", "/c"], (p) => p, 2), [["/a", "/b"], ["/c"]]);
 * ```
 */
export function batchesOf<T>(
  items: readonly T[],
  pathOf: (item: T) => string,
  most: number = MANY_BATCH,
): T[][] {
  const limit = Math.min(most, MAX_MGET_PATHS);
  const out: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const cost = pathOf(item).length * 6 + 3;
    if (batch.length >= limit || (batch.length > 0 && bytes + cost > MAX_REQUEST_BYTES - 1024)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += cost;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** What {@linkcode runGetMany} asks of its caller for each file. */
export interface ManyGetHandler {
  /**
   * Where a file's body goes, given its reply; a sink whose writes fail
   * has the rest of the body read and dropped (the stream stays in step),
   * and the file fails with the sink's error.
   */
  open(index: number, reply: GetReply): Promise<ByteWriter>;
  /**
   * A buffer of the reply's size to read a small file's body into, whole
   * (no sink, no copy), or `null` to have it go to {@linkcode open}'s sink.
   */
  hold?(index: number, reply: GetReply): Uint8Array | null;
  /**
   * Told each file's outcome, in order: its body verified and written, or
   * why it failed (the server's refusal, or its sink's error). What it has
   * to finish before the next file, it returns as a promise.
   */
  done(index: number, outcome: BodyResult | RemoteError | LocalIoError): Promise<void> | void;
}

/**
 * Runs an MGET (feature `"mget"`): downloads the whole files `paths` with
 * one request, each verified as a GET's is. One file's refusal, or a sink
 * that fails, is that file's outcome and the others go on; a body that
 * cannot be read whole and verified breaks the session, as a GET's does.
 *
 * @example
 * ```ts
 * import { RequestChannel } from "./request_channel.ts";
 * import { runGetMany } from "./many_transfers.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const channel = await RequestChannel.open({ hostname: "127.0.0.1", port: server.addr.port });
 * try {
 *   const outcomes: unknown[] = [];
 *   await runGetMany(channel, ["/a.txt", "/none"], {
 *     open: () => Promise.resolve({ write: (p) => Promise.resolve(p.length) }),
 *     done: (i, outcome) => Promise.resolve(void (outcomes[i] = "size" in outcome ? outcome.size : outcome.code)),
 *   });
 *   deepEqual(outcomes, [2, "NOT_FOUND"]);
 * } finally {
 *   channel.close();
 *   await server.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param channel The session (version 2, whose server offers `"mget"`).
 * @param paths The remote files, 1 to `MAX_MGET_PATHS`.
 * @param handler Where each body goes, and what became of each file.
 * @throws {RemoteError} When the server refuses the request as a whole.
 */
export async function runGetMany(
  channel: RequestChannel,
  paths: readonly string[],
  handler: ManyGetHandler,
): Promise<void> {
  // A small body buffered whole is taken at once: no promise between it and the next file.
  const each = (i: number, reply: Reply, reader: BufferedReader): Promise<void> | void => {
    if (!reply.ok) return handler.done(i, new RemoteError(reply.code, reply.message));
    const got = checkGetReply(reply);
    if (got.offset !== 0) {
      throw new ProtocolError(`Malformed reply: offset ${got.offset} was not asked for`);
    }
    const held = handler.hold?.(i, got) ?? null;
    const done = (outcome: BodyResult | LocalIoError) => handler.done(i, outcome);
    if (held === null) {
      const open = (reply: GetReply) => handler.open(i, reply);
      return streamGot(channel, paths[i]!, got, reader, open).then(done);
    }
    const now = receiveWholeBuffered(reader, held, paths[i]!, channel.checksum);
    if (now !== null) return done(now);
    return receiveWhole(reader, held, paths[i]!, channel.checksum).then(done);
  };
  await channel.requestMany({ op: "MGET", paths: [...paths] }, paths.length, each);
}

/**
 * Reads one MGET file's body through the sink `open` gives; a sink that
 * fails (or cannot be opened) is the file's outcome, its body still read
 * whole, in step.
 */
async function streamGot(
  channel: RequestChannel,
  path: string,
  got: GetReply,
  reader: BufferedReader,
  open: (reply: GetReply) => Promise<ByteWriter>,
): Promise<BodyResult | LocalIoError> {
  const failed: { error?: LocalIoError } = {};
  const drop = (e: unknown) => {
    failed.error ??= e instanceof LocalIoError ? e : new LocalIoError(String(e));
  };
  const sink = await open(got).catch((e) => {
    drop(e);
    return undefined;
  });
  const writer: ByteWriter = {
    write: async (p) => {
      if (failed.error === undefined) await writeAll(sink!, p).catch(drop);
      return p.byteLength;
    },
  };
  const result = await receiveBody(reader, writer, {
    expectedSize: got.size,
    maxSize: got.size,
    label: path,
    checksum: channel.checksum,
  });
  return failed.error ?? result;
}

/** A file for {@linkcode runPutMany}: where it goes, its whole content, and what `-p` keeps. */
export interface ManyPutFile {
  /** The remote path. */
  path: string;
  /** The whole content, read already. */
  data: Uint8Array;
  /** The modification time to give it (ms since the epoch), or `null`. */
  mtime: number | null;
  /** The permission bits to give it, or `null`. */
  mode: number | null;
  /** The source's bits, for when the server creates it (PUT's `newMode`), if known. */
  newMode?: number | null | undefined;
}

/**
 * Runs an MPUT (feature `"mput"`): uploads whole files held in memory with
 * one request, their bodies right behind it, and tells each file's outcome
 * in order: its size and hash as the server confirmed them, or the
 * server's refusal (that file only).
 *
 * @example
 * ```ts
 * import { RequestChannel } from "./request_channel.ts";
 * import { runPutMany } from "./many_transfers.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const channel = await RequestChannel.open({ hostname: "127.0.0.1", port: server.addr.port });
 * try {
 *   const data = new TextEncoder().encode("hi");
 *   const outcomes: unknown[] = [];
 *   await runPutMany(channel, [
 *     { path: "/a.txt", data, mtime: null, mode: null },
 *     { path: "/no/such/b.txt", data, mtime: null, mode: null },
 *   ], true, (i, outcome) => void (outcomes[i] = "size" in outcome ? outcome.size : outcome.code));
 *   deepEqual(outcomes, [2, "NOT_FOUND"]);
 *   equal(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * } finally {
 *   channel.close();
 *   await server.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param channel The session (version 2, whose server offers `"mput"`).
 * @param files The files, 1 to `MAX_MGET_PATHS`.
 * @param overwrite Replace existing files.
 * @param done Told each file's outcome, in order.
 * @throws {RemoteError} When the server refuses the request as a whole.
 * @throws {ProtocolError} When a confirmed hash is not the one sent.
 */
export async function runPutMany(
  channel: RequestChannel,
  files: readonly ManyPutFile[],
  overwrite: boolean,
  done: (index: number, outcome: BodyResult | RemoteError) => void,
): Promise<void> {
  const req: MputRequest = {
    op: "MPUT",
    paths: files.map((f) => f.path),
    sizes: files.map((f) => f.data.byteLength),
    overwrite,
  };
  if (files.some((f) => f.mtime !== null)) req.mtimes = files.map((f) => f.mtime);
  if (files.some((f) => f.mode !== null)) req.modes = files.map((f) => f.mode);
  if (files.some((f) => (f.newMode ?? null) !== null)) {
    req.newModes = files.map((f) => f.newMode ?? null);
  }
  const { checksum } = channel;
  const hashes: string[] = [];
  const send = async (writer: ByteWriter) => {
    // The frames gathered into blocks that go out whole: written one piece at a time, each
    // piece was copied twice (taken, then joined) and its write awaited.
    const block = spareBlocks.pop() ?? new Uint8Array(CORKED_BYTES);
    const corked = new CorkedWriter(writer, { buffer: block });
    for (const { data } of files) {
      const now = digestOf(checksum, data);
      const digest = typeof now === "string" ? now : await now;
      hashes.push(digest);
      // Taken at once where they fit: a small file's pieces wait on no promise.
      for (const piece of [encodeBodyHeader(data.byteLength), data, encodeTrailer(digest)]) {
        if (!corked.take(piece)) await corked.write(piece);
      }
    }
    await corked.flush();
    // Sent whole: nothing holds the block now (a failed write's is left to the collector).
    if (spareBlocks.length < 2) spareBlocks.push(block);
  };
  await channel.requestMany(req, files.length, (i, reply) => {
    if (!reply.ok) return done(i, new RemoteError(reply.code, reply.message));
    const { size, hash } = checkPutDoneReply(reply, checksum);
    if (hash !== hashes[i] || size !== files[i]!.data.byteLength) {
      throw new ProtocolError(`Server confirmed hash ${hash}, but ${hashes[i]} was sent`);
    }
    done(i, { size, checksum, hash });
  }, send);
}
