/**
 * The server's side of GET: checks a resumed download's version and offset,
 * answers with the file's size and attributes, then sends the body with its
 * hash trailer.
 *
 * @module
 */

import type { Hash } from "node:crypto";
import { IntegrityError, RemoteError } from "../errors.ts";
import type { FileVersion, GetRequest } from "../protocol/messages.ts";
import { quotePath } from "../root/paths.ts";
import type { OpenedFile } from "../root/served_root.ts";
import { hashPrefix } from "../file_hash.ts";
import { sendBody } from "../transfer/body.ts";
import { fileReader } from "../framing/file_reader.ts";
import type { HandlerContext } from "./handler_context.ts";

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
 * Refuses a resumed GET whose file is not the expected version or is
 * shorter than the offset; positions the file at the offset and returns
 * the hash of the bytes before it when the file's hash is not known (a
 * resumed GET's trailer is the whole file's hash).
 */
async function seekToOffset(
  opened: OpenedFile,
  vpath: string,
  req: GetRequest,
): Promise<Hash | undefined> {
  const { size, mtime, sha256 } = opened;
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
  if (offset === 0) return undefined;
  if (sha256 !== undefined) {
    await opened.file.seek(offset, Deno.SeekMode.Start);
    return undefined;
  }
  // The bytes before the offset are read once here, and not sent.
  const prefix = await hashPrefix(opened.file, offset);
  if (prefix.bytes < offset) {
    throw new RemoteError("CHANGED", `${quotePath(vpath)} has changed: it shrank`);
  }
  return prefix.hash;
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
    const { size, mtime, mode, sha256 } = opened;
    const offset = req.offset ?? 0;
    const hash = await seekToOffset(opened, vpath, req);
    await context.reply({
      size,
      mtime,
      ...(mode === null ? {} : { mode }),
      ...(offset > 0 ? { offset } : {}),
      ...(sha256 === undefined ? {} : { sha256 }),
    });
    context.setInBody(true);
    const sent = await sendBody(context.writer, fileReader(opened.file, size - offset), {
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
    context.setInBody(false);
    if (sha256 === undefined) opened.remember(sent.sha256);
    return sent.size;
  } finally {
    opened.close();
  }
}
