/**
 * The server's side of GET: checks a resumed download's version and offset,
 * answers with the file's size and attributes (and its SHA-256 when known),
 * then sends the body with its hash trailer in the session's checksum.
 *
 * @module
 */

import { digestOf, type RunningHash } from "../checksum.ts";
import { fillNow } from "../framing/read_exact.ts";
import { writeAll } from "../framing/write_all.ts";
import { encodeBodyHeader, encodeTrailer } from "../protocol/body_format.ts";
import { RemoteError } from "../errors.ts";
import type { GetRequest } from "../protocol/messages.ts";
import type { GetReplyFields } from "../protocol/replies.ts";
import { quotePath } from "../root/paths.ts";
import type { OpenedFile } from "../root/served_root.ts";
import { hashPrefix } from "../file_hash.ts";
import { sendBody } from "../transfer/body.ts";
import { fileReader } from "../framing/file_reader.ts";
import type { HandlerContext } from "./handler_context.ts";
import { checkVersion } from "./file_version.ts";

/**
 * Refuses a resumed GET whose file is not the expected version or is
 * shorter than the offset; positions the file at the offset and returns
 * the hash of the bytes before it when the file's hash in the session's
 * checksum (`known`) is not known (a resumed GET's trailer is the whole
 * file's hash).
 */
async function seekToOffset(
  opened: OpenedFile,
  vpath: string,
  req: GetRequest,
  known: string | undefined,
  checksum: HandlerContext["checksum"],
): Promise<RunningHash | undefined> {
  const { size } = opened;
  const offset = req.offset ?? 0;
  checkVersion(req.expect, opened, vpath, "the version being resumed");
  if (offset > size) {
    throw new RemoteError(
      "BAD_REQUEST",
      `Offset ${offset} is beyond the end of ${quotePath(vpath)} (${size} bytes)`,
    );
  }
  if (offset === 0) return undefined;
  if (known !== undefined) {
    await opened.file.seek(offset, Deno.SeekMode.Start);
    return undefined;
  }
  // The bytes before the offset are read once here, and not sent.
  const prefix = await hashPrefix(opened.file, offset, checksum);
  if (prefix.bytes < offset) {
    throw new RemoteError("CHANGED", `${quotePath(vpath)} has changed: it shrank`);
  }
  return prefix.hash;
}

/**
 * A GET with `length` (feature `"blocks"`): that many bytes from `offset`,
 * whose trailer is their checksum alone (a delta's block, not a resume).
 */
async function sendRange(
  context: HandlerContext,
  vpath: string,
  req: GetRequest,
  length: number,
  opened: OpenedFile,
): Promise<number> {
  const { size, mtime } = opened;
  const offset = req.offset ?? 0;
  checkVersion(req.expect, opened, vpath, "the version asked");
  if (offset + length > size) {
    throw new RemoteError(
      "BAD_REQUEST",
      `Bytes ${offset} to ${offset + length} are beyond the end of ${
        quotePath(vpath)
      } (${size} bytes)`,
    );
  }
  await opened.file.seek(offset, Deno.SeekMode.Start);
  await context.reply({ size, mtime, offset, length });
  context.setInBody(true);
  const sent = await sendBody(context.writer, fileReader(opened.file, length), {
    size: length,
    checksum: context.checksum,
    label: vpath,
  });
  context.setInBody(false);
  return sent.size;
}

/**
 * Answers a GET of `vpath` (already resolved against the session's folder)
 * and sends its body.
 *
 * @param context The session.
 * @param vpath The file, as a virtual path.
 * @param req The request (its offset and expected version).
 * @returns The body bytes sent.
 *
 * @example
 * ```ts ignore
 * const sent = await handleGet(context, "/a.txt", { op: "GET", path: "a.txt" });
 * ```
 */
export async function handleGet(
  context: HandlerContext,
  vpath: string,
  req: GetRequest,
): Promise<number> {
  const opened = await context.root.openRead(vpath);
  try {
    if (req.length !== undefined) return await sendRange(context, vpath, req, req.length, opened);
    const whole = req.offset ? undefined : context.bodyBuffer?.(opened.size);
    if (whole !== undefined) return await sendWhole(context, vpath, req, opened, whole);
    const { size } = opened;
    const offset = req.offset ?? 0;
    const { checksum } = context;
    // The trailer's hash, when remembered: the file is then sent without hashing it.
    const known = opened.known(checksum);
    const hash = await seekToOffset(opened, vpath, req, known, checksum);
    await context.reply(replyFields(opened, offset));
    context.setInBody(true);
    // A file written to while it is sent (in place, as cp and dd write; or cut shorter) is sent
    // with a trailer that cannot match: the client refuses the bytes, which may mix two
    // versions, and the session goes on (its other files too). A remembered hash vouches only
    // for the version it was made of; a hash made while reading, for whatever was read.
    let stillMatches = true;
    const sent = await sendBody(context.writer, fileReader(opened.file, size - offset), {
      size: size - offset,
      buffer: context.bodyBuffer?.(size - offset),
      checksum,
      known,
      hash,
      label: vpath,
      beforeTrailer: known === undefined ? undefined : async () => {
        stillMatches = await opened.stillMatches(known, checksum);
      },
      sourceIntact: () => stillMatches && (known !== undefined || !opened.changed()),
    });
    context.setInBody(false);
    if (known === undefined) opened.remember(sent.hash, checksum);
    return sent.size;
  } finally {
    opened.close();
  }
}

/** A GET's success reply for `opened`, sent from `offset`. */
function replyFields(opened: OpenedFile, offset: number): GetReplyFields {
  const { size, mtime, mode, sha256 } = opened;
  return {
    size,
    mtime,
    ...(mode === null ? {} : { mode }),
    ...(offset > 0 ? { offset } : {}),
    ...(sha256 === undefined ? {} : { sha256 }),
  };
}

/**
 * A whole small file (one the session lends its body buffer to): read
 * before its reply, so a file that shrank since it was opened is refused
 * in band (`CHANGED`) and the session goes on; then hashed, and its reply,
 * body and trailer written together. A small GET or MGET path went through
 * the streaming path's promise for each step (the hash, each read and
 * write); this one has three writes into the corked writer.
 */
async function sendWhole(
  context: HandlerContext,
  vpath: string,
  req: GetRequest,
  opened: OpenedFile,
  buffer: Uint8Array,
): Promise<number> {
  const { size } = opened;
  checkVersion(req.expect, opened, vpath, "the version being resumed");
  const data = buffer.subarray(0, size);
  if (fillNow(opened.file, data) < size) {
    throw new RemoteError("CHANGED", `${quotePath(vpath)} has changed: it shrank`);
  }
  const { checksum } = context;
  // A remembered SHA-256 vouches for these bytes when the file did not change since it was
  // opened (one look); else they are hashed, unless written to while they were read (in place):
  // then they may be of two versions. XXH3-128 of a small body is not remembered.
  const cached = checksum === "sha256";
  const known = cached ? opened.known(checksum) : undefined;
  let digest: string;
  if (known !== undefined && opened.unchanged()) digest = known;
  else if (opened.changed()) {
    throw new RemoteError("CHANGED", `${quotePath(vpath)} changed while it was read`);
  } else digest = await digestOf(checksum, data);
  await context.reply(replyFields(opened, 0));
  context.setInBody(true);
  await writeAll(context.writer, encodeBodyHeader(size));
  await writeAll(context.writer, data);
  await writeAll(context.writer, encodeTrailer(digest));
  context.setInBody(false);
  // Not when a remembered one was there: the file changed since, and the key is of before.
  if (cached && known === undefined) opened.remember(digest, checksum);
  return size;
}

/** What {@linkcode handleMget} asks of its session for each path. */
export interface MgetSession {
  /** The handler context of the path at `index` (its replies marked with it). */
  context(index: number): HandlerContext;
  /** A path of the request, resolved against the current folder (refused: a RemoteError). */
  resolve(path: string): string | Promise<string>;
  /** Logs and answers one path's refusal. */
  refused(index: number, path: string, e: RemoteError): Promise<void>;
}

/**
 * MGET: each path answered as its GET would be, its replies marked with
 * its index. One path's refusal is its own error reply, and the others go
 * on; anything else ends the answer as it would end a GET's.
 *
 * @param paths The request's paths.
 * @param session The session's context, resolution and refusals.
 * @returns The body bytes sent.
 *
 * @example
 * ```ts
 * import { handleMget } from "./get_handler.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { RemoteError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const root = await ServedRoot.open(dir);
 * const refused: string[] = [];
 * const bytes = await handleMget(["/none"], {
 *   context: () => ({}) as never, // nothing is sent: the one path is refused
 *   resolve: (path) => {
 *     throw new RemoteError("NOT_FOUND", `No ${path}`);
 *   },
 *   refused: (index, path, e) => (refused.push(`${index} ${path} ${e.code}`), Promise.resolve()),
 * });
 * deepEqual([bytes, refused], [0, ["0 /none NOT_FOUND"]]);
 * root.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function handleMget(paths: readonly string[], session: MgetSession): Promise<number> {
  let bytes = 0;
  for (const [index, path] of paths.entries()) {
    try {
      const get: GetRequest = { op: "GET", path };
      const resolved = session.resolve(path);
      const vpath = typeof resolved === "string" ? resolved : await resolved;
      bytes += await handleGet(session.context(index), vpath, get);
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      await session.refused(index, path, e);
    }
  }
  return bytes;
}
