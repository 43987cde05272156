/**
 * The client's side of the disk: downloads land in a temporary file beside
 * the destination and are renamed only once verified; uploads read local
 * files. Names that come from the server are checked before they are used
 * ({@linkcode safeLocalName}): the client writes only under the
 * destination it was given. Folder trees are in `tree_plan.ts` and
 * `tree_transfer.ts`, one file at a time through here.
 *
 * @module
 */

import { basename, dirname } from "../local_path.ts";
import { IntegrityError, localIoError, ProtocolError, RemoteError, UsageError } from "../errors.ts";
import type { BodyResult } from "../transfer/body.ts";
import type { BftpClient, TransferOptions } from "./client.ts";
import type { GetReply } from "../protocol/replies.ts";
import {
  InPlaceFile,
  isSpecialDestination,
  type Lander,
  LandingFile,
  LOCAL_TEMP_NAME,
  type LocalTree,
  removeStaleTemporaries,
} from "../local_file/mod.ts";
import {
  discardPartialSync,
  downloadResumable,
  PARTIAL_STATE_SUFFIX,
  PARTIAL_SUFFIX,
  partialName,
  resumableSource,
} from "./resume.ts";
import type { LocalTransferOptions } from "./local_options.ts";
import { openSourceFile, type SourceFile } from "./source_file.ts";
import { MAX_NAME_BYTES } from "../protocol/limits.ts";
import { visibleShort } from "./tree_depth.ts";
import { TEMP_PREFIX } from "../root/paths.ts";

export type { LocalTransferOptions } from "./local_options.ts";

const encoder = new TextEncoder();

/** Whether `name` takes more bytes than a name may here (UTF-8; three bytes at most a unit). */
function longerThanAName(name: string): boolean {
  return name.length * 3 > MAX_NAME_BYTES && encoder.encode(name).length > MAX_NAME_BYTES;
}

/**
 * Whether `name` cannot be a name in a folder at all: empty, `.`, `..`, or
 * holding a slash or NUL, or longer than a name may be (255 bytes). A
 * listing that names one is not a folder's: a tree's listing pass refuses
 * it whole.
 *
 * @param name A name the server listed.
 * @returns Whether no folder can hold it.
 *
 * @example
 * ```ts
 * import { impossibleName } from "./local.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([impossibleName("../x"), impossibleName("Icon\r")], [true, false]);
 * ```
 */
export function impossibleName(name: string): boolean {
  return name === "" || name === "." || name === ".." || /[\/\x00]/.test(name) ||
    longerThanAName(name);
}

/**
 * Refuses a name from a listing that no folder can hold
 * ({@linkcode impossibleName}): such a listing is not a folder's.
 *
 * @param name A name the server listed.
 * @throws {ProtocolError} When it is an {@linkcode impossibleName}.
 *
 * @example
 * ```ts
 * import { checkListedName } from "./local.ts";
 * import { throws } from "node:assert/strict";
 *
 * checkListedName("Icon\r");
 * throws(() => checkListedName("../x"), /Refused a name from the server: "..\/x"/);
 * ```
 */
export function checkListedName(name: string): void {
  if (impossibleName(name)) throw refusedName(name);
}

/** The refusal of a name from the server. */
function refusedName(name: string): ProtocolError {
  return new ProtocolError(`Refused a name from the server: "${visibleShort(name)}"`);
}

/**
 * Why a name a folder may well hold (macOS puts `Icon\r` in a folder with
 * a custom icon) cannot be fetched as a file of its own here, or `null`
 * when it can: a request's path carries no control character, backslash
 * or drive letter or the server's temporary prefix (the server refuses
 * such a path), and this client creates no name with a C1 control or in
 * the form of its own temporary or partial download files. A tree's
 * listing pass leaves such an entry out, told as a failure.
 *
 * @param name A name the server listed (not an {@linkcode impossibleName}).
 * @returns Why not, or `null`.
 *
 * @example
 * ```ts
 * import { unfetchableName } from "./local.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(unfetchableName("a.txt"), null);
 * deepEqual(unfetchableName("Icon\r"), "a name with a control character cannot be asked for");
 * deepEqual(unfetchableName(".a.txt.bftp-partial"), "the name is one of bftp's own partial download files");
 * ```
 */
export function unfetchableName(name: string): string | null {
  // One test for the common name, which passes every one below.
  if (!/[\x00-\x1f\x7f-\x9f\\]|^[A-Za-z]:|^\./.test(name)) return null;
  const refused = refusedInRequests(name, "asked for");
  if (refused !== null) return refused;
  if (/[\x80-\x9f]/.test(name)) return "a name with a C1 control character is not made here";
  if (LOCAL_TEMP_NAME.test(name)) return "the name is one of bftp's own temporary files";
  if (name.endsWith(PARTIAL_SUFFIX) || name.endsWith(PARTIAL_STATE_SUFFIX)) {
    return "the name is one of bftp's own partial download files";
  }
  return null;
}

/** Why no request's path can carry `name` (the server refuses it), or `null`. */
function refusedInRequests(name: string, verb: string): string | null {
  if (/[\x00-\x1f\x7f]/.test(name)) return `a name with a control character cannot be ${verb}`;
  if (name.includes("\\")) return `a name with a backslash cannot be ${verb}`;
  if (/^[A-Za-z]:/.test(name)) return `a name that starts with a drive letter cannot be ${verb}`;
  if (name.startsWith(TEMP_PREFIX)) {
    return `the server keeps names that start with "${TEMP_PREFIX}"`;
  }
  return null;
}

/**
 * Why a local file or folder cannot be sent under its own name, or `null`
 * when it can: the server refuses a path with a control character, a
 * backslash, a drive letter or its temporary files' prefix. An upload's
 * listing pass (`put -r`, a sync's push, its dry run) leaves such an entry
 * out, told as a failure, rather than have the server refuse it.
 *
 * @param name A local name.
 * @returns Why not, or `null`.
 *
 * @example
 * ```ts
 * import { unsendableName } from "./local.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(unsendableName("a.txt"), null);
 * deepEqual(unsendableName("del\x7f"), "a name with a control character cannot be sent");
 * deepEqual(unsendableName(".bftp-tmp-x"), "the server keeps names that start with \".bftp-tmp-\"");
 * ```
 */
export function unsendableName(name: string): string | null {
  if (!/[\x00-\x1f\x7f\\]|^[A-Za-z]:|^\./.test(name)) return null;
  return refusedInRequests(name, "sent");
}

/**
 * Checks a single name the server sent (from a LIST) before it becomes a
 * local file name.
 *
 * @param name The name.
 * @returns The name, unchanged.
 * @throws {ProtocolError} When it is an {@linkcode impossibleName}, or one
 * that cannot be fetched ({@linkcode unfetchableName}): refused before
 * anything is created.
 *
 * @example
 * ```ts
 * import { safeLocalName } from "./local.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(safeLocalName("a.txt"), "a.txt");
 * throws(() => safeLocalName("../evil"));
 * ```
 */
export function safeLocalName(name: string): string {
  if (impossibleName(name) || unfetchableName(name) !== null) throw refusedName(name);
  return name;
}

/** Downloads into a device, FIFO or socket `path`, in place (no temporary can stand in). */
async function downloadInPlace(
  client: BftpClient,
  remote: string,
  path: string,
  options: LocalTransferOptions,
): Promise<BodyResult> {
  const file = await InPlaceFile.open(path);
  try {
    let transfer: TransferOptions = {};
    const result = await client.get(remote, file, {
      onStart: (size) => {
        transfer = options.progress?.(basename(path), size) ?? {};
        transfer.onStart?.(size);
      },
      onProgress: (n) => transfer.onProgress?.(n),
    });
    options.onFile?.(remote, path, result);
    return result;
  } finally {
    await file.commit();
  }
}

/**
 * Downloads one remote file to `dest`, atomically: into a temporary file in
 * the same folder, renamed over `dest` only when the whole body has arrived
 * and its hash checked out. On any failure no `dest` is created and an
 * existing one is left as it was. A symbolic link at `dest` is replaced,
 * never written through; a FIFO, device or socket `dest` (`/dev/null`,
 * `/dev/stdout`) is written into, in place.
 *
 * @param client A connected client.
 * @param remote The remote path.
 * @param dest The local file to create or replace.
 * @param options Progress and per-file callbacks.
 * @returns Size and verified hash.
 * @throws {UsageError} When asked to resume into a FIFO, device or socket.
 *
 * @example
 * ```ts
 * import { downloadFile } from "./local.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/served/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await Deno.writeTextFile(`${dir}/a.txt`, "old");
 * deepEqual((await downloadFile(client, "/a.txt", `${dir}/a.txt`)).size, 2);
 * deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * // Nothing else is left beside it.
 * deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.txt", "served"]);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function downloadFile(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions = {},
): Promise<BodyResult> {
  if (await isSpecialDestination(dest)) {
    if (options.resume) {
      throw new UsageError(`Cannot resume into "${dest}": it is not a regular file`);
    }
    return await downloadInPlace(client, remote, dest, options);
  }
  return await downloadToRegularFile(client, remote, dest, options);
}

/**
 * Downloads one file of a tree (see `tree_transfer.ts`) to a regular-file
 * (or not yet existing) `dest`, as {@linkcode downloadFile} does, but with
 * its folder already made and cleaned of stale temporaries.
 *
 * @param client A connected client.
 * @param remote The remote path.
 * @param dest The local file to create or replace.
 * @param options Progress and per-file callbacks.
 * @param present The names in `dest`'s folder from a listing just made,
 *   which spares a look for what is not there (`undefined`: look).
 * @returns Size and verified hash.
 *
 * @example
 * ```ts
 * import { downloadTreeFile } from "./local.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/served/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * deepEqual((await downloadTreeFile(client, "/a.txt", `${dir}/a.txt`, {}, new Set())).size, 2);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function downloadTreeFile(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions,
  present: ReadonlySet<string> | undefined,
  lander?: Lander,
): Promise<BodyResult> {
  return downloadToRegularFile(client, remote, dest, options, present, lander);
}

/**
 * Downloads to a regular-file (or not yet existing) `dest`: resumably with
 * `options.resume` (see `resume.ts`), atomically otherwise. `present`, the
 * names in DEST's folder from a listing just made (a tree, whose folders
 * were cleaned of stale temporaries then), spares a look for what is not
 * there; without it, the stale temporaries beside `dest` are removed first.
 */
async function downloadToRegularFile(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions,
  present?: ReadonlySet<string>,
  lander?: Lander,
): Promise<BodyResult> {
  if (options.resume) return await downloadResumable(client, remote, dest, options);
  if (present === undefined) {
    try {
      removeStaleTemporaries(dirname(dest), basename(dest));
    } catch (e) {
      throw localIoError("write", dest, e);
    }
  }
  const name = basename(dest);
  const out = await LandingFile.open(dest, {
    absent: present !== undefined && !present.has(name),
    lander,
    tree: options.tree,
  });
  let done = false;
  try {
    let transfer: TransferOptions = {};
    let reply: GetReply | undefined;
    const result = await client.get(remote, out, {
      onReply: (r) => {
        reply = r;
      },
      onStart: (size) => {
        transfer = options.progress?.(basename(dest), size) ?? {};
        transfer.onStart?.(size);
      },
      onProgress: (n) => transfer.onProgress?.(n),
    });
    if (reply !== undefined) await options.beforeCommit?.(reply);
    await out.commit(options.preserve && reply !== undefined ? reply : null, reply?.mode);
    done = true;
    dropStalePartial(dest, present, options.tree);
    options.onFile?.(remote, dest, result);
    return result;
  } finally {
    if (!done) await out.discard().catch(() => {});
  }
}

/**
 * Removes the partial file an earlier `get --resume` left beside `dest`,
 * stale once `dest` has landed whole. `present`, the names in its folder
 * from a listing just made, spares a look when none is there.
 *
 * @param dest The file that landed.
 * @param present The names in its folder, when listed.
 * @param tree The download's tree `dest` is in, if held.
 *
 * @example
 * ```ts
 * import { dropStalePartial } from "./local.ts";
 *
 * // Nothing listed beside it: no look at the disk.
 * dropStalePartial("/nowhere/a.txt", new Set());
 * ```
 */
export function dropStalePartial(
  dest: string,
  present: ReadonlySet<string> | undefined,
  tree?: LocalTree,
): void {
  if (present !== undefined) {
    // A folder this download made, or an empty one: nothing to look for.
    if (present.size === 0) return;
    // Names, not paths: one look at `dest`'s name a file of a tree (path functions cost a few us).
    const partial = partialName(basename(dest));
    if (!present.has(partial) && !present.has(`${partial}.json`)) return;
  }
  discardPartialSync(dest, tree);
}

/**
 * Whether the file being sent is as it was when opened (size, modification
 * and change times): one written to while it is uploaded would land as a
 * mix of old and new bytes, so its trailer is spoiled and the server keeps
 * nothing.
 */
function unchangedSince(opened: SourceFile): { check: () => boolean; changed: boolean } {
  const state = {
    changed: false,
    check: () => {
      state.changed = !opened.unchanged();
      return !state.changed;
    },
  };
  return state;
}

/**
 * Uploads one local file.
 *
 * @param client A connected client.
 * @param source The local file.
 * @param remote The remote path.
 * @param options Progress and per-file callbacks.
 * @returns Size and hash, as the server confirmed them.
 * @throws {LocalIoError} When the source cannot be read (or is a folder).
 * @throws {IntegrityError} When the source changed while it was sent.
 * @throws {UsageError} When asked to resume from what is not a regular file.
 *
 * @example
 * ```ts
 * import { uploadFile } from "./local.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello");
 * await Deno.utime(`${dir}/a.txt`, new Date(), new Date(1_000_000_000_000));
 * const result = await uploadFile(client, `${dir}/a.txt`, "/b.txt", { preserve: true });
 * deepEqual(result.size, 5);
 * deepEqual(await Deno.readTextFile(`${dir}/served/b.txt`), "hello");
 * deepEqual((await Deno.stat(`${dir}/served/b.txt`)).mtime?.getTime(), 1_000_000_000_000);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function uploadFile(
  client: BftpClient,
  source: string,
  remote: string,
  options: LocalTransferOptions = {},
): Promise<BodyResult> {
  let opened: SourceFile;
  let size: number | null;
  const attributes: { mtime?: number; mode?: number; newMode?: number } = {};
  try {
    opened = await openSourceFile(source, options.resume, options.listed, options.noLink);
  } catch (e) {
    throw localIoError("read", source, e);
  }
  try {
    const { facts } = opened;
    if (facts.type === "dir") throw localIoError("read", source, new Deno.errors.IsADirectory());
    // A FIFO or a device (`<(cmd)`, /dev/stdin) has no size: it streams, as stdin does.
    size = facts.type === "file" ? facts.size : null;
    if (options.preserve) {
      if (facts.mtime !== null) attributes.mtime = facts.mtime;
      if (facts.mode !== null) attributes.mode = facts.mode;
    } else if (facts.mode !== null && facts.type === "file") {
      // A new file on the server gets the source's bits (less its umask), as scp gives them.
      attributes.newMode = facts.mode;
    }
    if (size === null && options.resume) {
      throw new UsageError(`Cannot resume an upload from "${source}": it is not a regular file`);
    }
    const file = opened.file;
    const resume = options.resume && size !== null && file !== null
      ? await resumableSource(file, size, source, () => !client.usable)
      : undefined;
    const transfer = options.progress?.(basename(source), size) ?? {};
    const intact = size === null ? undefined : unchangedSince(opened);
    let result: BodyResult;
    try {
      result = await client.put(remote, resume && file ? file : opened.reader(), {
        size,
        ...transfer,
        resume,
        ...attributes,
        sourceIntact: intact?.check,
        eager: options.eager,
      });
    } catch (e) {
      if (intact?.changed && e instanceof RemoteError && e.code === "INTEGRITY") {
        throw new IntegrityError(
          `"${source}" changed while it was sent: the server kept nothing; send it again`,
        );
      }
      if (resume && e instanceof RemoteError && e.code === "INTEGRITY") {
        throw new IntegrityError(
          `${e.message}: the server dropped the part it had kept; "put --resume" again sends ` +
            `the file whole`,
        );
      }
      throw e;
    }
    options.onFile?.(remote, source, result);
    return result;
  } finally {
    opened.close();
  }
}
