/**
 * The server's side of PUT: a plain upload, written beside its target and
 * renamed over it once whole, or a resumable one, which keeps what arrived
 * when the stream breaks so that the next attempt continues from there.
 *
 * @module
 */

import { BftpError, IntegrityError, RemoteError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteWriter } from "../framing/types.ts";
import type { ChecksumName } from "../protocol/limits.ts";
import type { PutRequest } from "../protocol/messages.ts";
import { putDoneFields } from "../protocol/replies.ts";
import { quotePath } from "../root/paths.ts";
import { type BodyResult, receiveBody } from "../transfer/body.ts";
import { receiveWhole, WHOLE_BODY_MAX } from "../transfer/receive_whole.ts";
import { writeAll } from "../framing/write_all.ts";
import type { HandlerContext } from "./handler_context.ts";
import { openDelta } from "./put_delta.ts";

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

/**
 * Answers a PUT to `vpath` (already resolved, and checked writable) and
 * receives its body.
 *
 * @param context The session.
 * @param vpath The file, as a virtual path.
 * @param req The request.
 * @returns The body bytes received.
 *
 * @example
 * ```ts ignore
 * const got = await handlePut(context, "/a.txt", { op: "PUT", path: "a.txt", size: 5, overwrite: false });
 * ```
 */
export async function handlePut(
  context: HandlerContext,
  vpath: string,
  req: PutRequest,
): Promise<number> {
  if (req.resume) return await putResumable(context, vpath, req);
  if (req.base) {
    using delta = await openDelta(context, vpath, req);
    return await storeUpload(context, vpath, req, (sink) => delta.receive(sink));
  }
  return await storeUpload(context, vpath, req, async (sink) => {
    const got = await receiveUpload(context, sink, vpath, req.size);
    return { bytes: got.size, stored: got };
  });
}

/**
 * An upload's life: its temporary made beside the target, `ready` (unless
 * eager), its body received by `receive` into the temporary, then the
 * file committed (with its group, or at once) and answered; if anything
 * fails, the temporary is removed and the target stays as it was.
 */
async function storeUpload(
  context: HandlerContext,
  vpath: string,
  req: PutRequest,
  receive: (sink: ByteWriter) => Promise<{ bytes: number; stored: BodyResult }>,
): Promise<number> {
  // Without -p's bits, a new file lands with its source's (newMode; 0644 when not sent).
  const newMode = req.mode === undefined ? req.newMode ?? null : undefined;
  const upload = await context.root.beginUpload(
    vpath,
    req.overwrite,
    context.folders,
    req.eager,
    newMode,
  );
  let committed = false;
  try {
    // An eager PUT's body is on its way already: no `ready` to wait for.
    if (!req.eager) await context.reply({ ready: true });
    context.setInBody(true);
    const { bytes, stored } = await receive(upload.sink);
    // The whole body was read even when the sink failed: back in step.
    context.setInBody(false);
    const attributes = { mtime: req.mtime, mode: req.mode, newMode: req.newMode };
    const reply = putDoneFields(stored.size, stored.checksum, stored.hash);
    if (req.eager && await context.commitLater(upload, attributes, reply)) {
      committed = true; // the session's now: it commits and answers it with its group
      return bytes;
    }
    await upload.commit(attributes);
    committed = true;
    await context.reply(reply);
    return bytes;
  } catch (e) {
    throw answerable(e);
  } finally {
    if (!committed) await upload.abort();
  }
}

/**
 * Receives a PUT's body into `sink`. A small sized one (an MPUT's file, say)
 * is read whole, then written in one go: one copy and one hash; a larger
 * or chunked one streams through. A sink that fails (disk full) fails the
 * upload once the body has been read, either way.
 */
async function receiveUpload(
  context: HandlerContext,
  sink: ByteWriter,
  vpath: string,
  size: number | null,
): Promise<BodyResult> {
  if (size === null || size > WHOLE_BODY_MAX) {
    return await receiveBody(context.reader, sink, {
      expectedSize: size,
      checksum: context.checksum,
      label: vpath,
    });
  }
  // The session's lent buffer where the body fits (the sink writes it out at once, before the
  // next body is read): no allocation a file of an MPUT.
  const data = context.bodyBuffer?.(size)?.subarray(0, size) ?? new Uint8Array(size);
  const got = await receiveWhole(context.reader, data, vpath, context.checksum);
  context.setInBody(false);
  await writeAll(sink, data);
  return got;
}

/**
 * Reads past a PUT body that will not be stored (an eager PUT that was
 * refused before its body): sized or chunked, whatever `size` said. Its
 * trailer is not checked: the answer is the refusal.
 *
 * @param reader The session's read side, at the body's first byte.
 * @param size The request's `size`, when known (a sized body must match it).
 * @param checksum The session's checksum (the trailer's length).
 * @throws {ProtocolError} When the body is broken: the stream is out of step.
 *
 * @example
 * ```ts
 * import { discardBody } from "./put_handler.ts";
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { equal } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("0000000000000002hi" + "0".repeat(64) + "next");
 * let at = 0;
 * const reader = new BufferedReader({
 *   read: (p: Uint8Array) => {
 *     const n = Math.min(p.length, bytes.length - at);
 *     p.set(bytes.subarray(at, at + n));
 *     at += n;
 *     return Promise.resolve(n === 0 ? null : n);
 *   },
 * });
 * await discardBody(reader, 2);
 * const rest = new Uint8Array(4);
 * equal(await reader.read(rest), 4);
 * equal(new TextDecoder().decode(rest), "next");
 * ```
 */
export async function discardBody(
  reader: BufferedReader,
  size: number | null,
  checksum: ChecksumName = "sha256",
): Promise<void> {
  try {
    await receiveBody(reader, DISCARD, {
      expectedSize: size,
      checksum,
      label: "a refused upload",
    });
  } catch (e) {
    // Read whole, but its trailer does not match: no matter, nothing is stored.
    if (!(e instanceof IntegrityError)) throw e;
  }
}

/** A sink that drops what it is given. */
const DISCARD: ByteWriter = { write: (p: Uint8Array) => Promise.resolve(p.byteLength) };

/**
 * A resumable PUT: continues what earlier attempts left; if the stream
 * breaks, what arrived is kept for the next attempt. The request's `sha256`
 * (the whole file's SHA-256) names the upload; the body's trailer is the
 * whole file's hash in the session's checksum. In a SHA-256 session the two
 * must agree; in an XXH3-128 one the server has no SHA-256 of the bytes to
 * hold the name against, and the trailer alone vouches for them.
 */
async function putResumable(
  context: HandlerContext,
  vpath: string,
  req: PutRequest,
): Promise<number> {
  const size = req.size!;
  const { checksum } = context;
  const upload = await context.root.beginResumableUpload(
    vpath,
    size,
    req.sha256!,
    req.overwrite,
    checksum,
  );
  let outcome: "kept" | "discarded" | "committed" = "kept";
  try {
    if (upload.offset > 0) {
      context.log(`PUT ${quotePath(vpath)} resuming at ${upload.offset} of ${size} bytes`);
    }
    await context.reply({ ready: true, offset: upload.offset });
    context.setInBody(true);
    const got = await receiveBody(context.reader, upload.sink, {
      expectedSize: size - upload.offset,
      label: vpath,
      hash: upload.hash,
    });
    context.setInBody(false);
    if (checksum === "sha256" && got.hash !== req.sha256) {
      throw new RemoteError(
        "INTEGRITY",
        `Checksum mismatch for ${quotePath(vpath)}: announced ${req.sha256}, ` +
          `the bytes hash to ${got.hash}`,
      );
    }
    await upload.commit({ mtime: req.mtime, mode: req.mode, newMode: req.newMode });
    outcome = "committed";
    await context.reply(putDoneFields(size, checksum, got.hash, upload.offset));
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
