/**
 * The client's side of the disk: downloads land in a temporary file beside
 * the destination and are renamed only once verified; uploads read local
 * files and folder trees. Names that come from the server are checked
 * before they are used: the client writes only under the destination it
 * was given.
 *
 * @module
 */

import { TaskWindow } from "./window.ts";
import { fileReader } from "../framing/file_reader.ts";
import { basename, dirname, join } from "node:path";
import { LocalIoError, localIoError, ProtocolError, UsageError } from "../errors.ts";
import type { BodyResult } from "../transfer/body.ts";
import type { BftpClient, TransferOptions } from "./client.ts";
import type { GetReply } from "../protocol/replies.ts";
import { applyServerAttributes } from "./attributes.ts";
import { checkTreeDepth } from "./tree_depth.ts";
import { joinRemote } from "./url.ts";
import {
  AtomicFile,
  InPlaceFile,
  isSpecialDestination,
  LOCAL_TEMP_NAME,
  removeStaleTemporaries,
} from "../local_file/mod.ts";
import { discardPartialSync, downloadResumable, partialPaths, resumableSource } from "./resume.ts";
import type { LocalTransferOptions } from "./local_options.ts";

export type { LocalTransferOptions } from "./local_options.ts";

/**
 * Checks a single name the server sent (from a LIST) before it becomes a
 * local file name.
 *
 * @param name The name.
 * @returns The name, unchanged.
 * @throws {ProtocolError} When it is empty, `.` or `..`, or holds a slash,
 * a backslash, a drive letter or a control character.
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
  if (
    name === "" || name === "." || name === ".." || /[\/\\\x00-\x1f\x7f-\x9f]/.test(name) ||
    /^[A-Za-z]:/.test(name) || LOCAL_TEMP_NAME.test(name)
  ) {
    throw new ProtocolError(
      `Refused a name from the server: "${
        name.replace(/[\x00-\x1f\x7f-\x9f]/g, "?").slice(0, 100)
      }"`,
    );
  }
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
  return await downloadToRegularFile(client, remote, dest, options, true);
}

/**
 * Downloads to a regular-file (or not yet existing) `dest`: resumably with
 * `options.resume` (see `resume.ts`), atomically otherwise. `cleanFirst`
 * removes stale temporaries beside `dest` first (a tree's walk removes
 * them once per folder instead). `present`, the names in DEST's folder from
 * a listing just made (a tree), spares a look for what is not there.
 */
async function downloadToRegularFile(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions,
  cleanFirst: boolean,
  present?: ReadonlySet<string>,
): Promise<BodyResult> {
  if (options.resume) return await downloadResumable(client, remote, dest, options);
  if (cleanFirst) {
    try {
      await removeStaleTemporaries(dirname(dest), basename(dest));
    } catch (e) {
      throw localIoError("write", dest, e);
    }
  }
  const name = basename(dest);
  const out = await AtomicFile.create(dest, {
    absent: present !== undefined && !present.has(name),
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
    await out.commit((temp) => {
      if (options.preserve && reply !== undefined) applyServerAttributes(temp, reply);
    });
    done = true;
    // A partial file left by an earlier "get --resume" is stale now.
    const { partial, state } = partialPaths(dest);
    if (present === undefined || present.has(basename(partial)) || present.has(basename(state))) {
      discardPartialSync(dest);
    }
    options.onFile?.(remote, dest, result);
    return result;
  } finally {
    if (!done) await out.discard().catch(() => {});
  }
}

/**
 * Uploads one local file.
 *
 * @param client A connected client.
 * @param source The local file.
 * @param remote The remote path.
 * @param options Progress and per-file callbacks.
 * @returns Size and hash, as the server confirmed them.
 */
export async function uploadFile(
  client: BftpClient,
  source: string,
  remote: string,
  options: LocalTransferOptions = {},
): Promise<BodyResult> {
  let file: Deno.FsFile;
  let size: number | null;
  const attributes: { mtime?: number; mode?: number } = {};
  try {
    file = await Deno.open(source, { read: true });
  } catch (e) {
    throw localIoError("read", source, e);
  }
  try {
    try {
      const info = await file.stat();
      if (info.isDirectory) throw new Deno.errors.IsADirectory();
      // A FIFO or a device (`<(cmd)`, /dev/stdin) has no size: it streams, as stdin does.
      size = info.isFile ? info.size : null;
      if (options.preserve) {
        if (info.mtime !== null) attributes.mtime = info.mtime.getTime();
        if (info.mode !== null && Deno.build.os !== "windows") attributes.mode = info.mode & 0o777;
      }
    } catch (e) {
      throw localIoError("read", source, e);
    }
    if (size === null && options.resume) {
      throw new UsageError(`Cannot resume an upload from "${source}": it is not a regular file`);
    }
    const resume = options.resume && size !== null
      ? await resumableSource(file, size, source)
      : undefined;
    const transfer = options.progress?.(basename(source), size) ?? {};
    const result = await client.put(remote, resume ? file : fileReader(file, size), {
      size,
      ...transfer,
      resume,
      ...attributes,
    });
    options.onFile?.(remote, source, result);
    return result;
  } finally {
    file.close();
  }
}

/**
 * Downloads a remote folder tree into `dest` (created if missing). Every
 * name from the server is checked with {@linkcode safeLocalName}; symlinks
 * and special files on the server are skipped; a local symbolic link in
 * `dest` where a remote folder should go is refused, never followed (files
 * replace a link in their place rather than write through it).
 *
 * @param client A connected client.
 * @param remote The remote folder.
 * @param dest The local folder.
 * @param options Progress and per-file callbacks.
 * @returns How many files and bytes arrived.
 */
export async function downloadTree(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions = {},
): Promise<{ files: number; bytes: number }> {
  const totals = { files: 0, bytes: 0 };
  // Folders this download made, so that a refused tree leaves none of them empty behind.
  const made: string[] = [];
  const walk = async (rdir: string, ldir: string, depth: number) => {
    checkTreeDepth(depth, rdir);
    const entries = await client.list(rdir);
    // Every name is checked before any is used: a hostile listing creates nothing.
    for (const entry of entries) safeLocalName(entry.name);
    try {
      if (!(await Deno.lstat(ldir).then(() => true, () => false))) made.push(ldir);
      await Deno.mkdir(ldir, { recursive: true });
    } catch (e) {
      throw localIoError("create folder", ldir, e);
    }
    await removeStaleTemporaries(ldir);
    const present = new Set(await Array.fromAsync(Deno.readDir(ldir), (d) => d.name));
    for (const entry of entries) {
      const r = joinRemote(rdir, entry.name);
      const l = join(ldir, entry.name);
      if (entry.type === "dir") {
        // A symbolic link already in DEST under a remote folder's name would lead the files
        // of that folder wherever it points: never follow one (the top DEST is the user's).
        const there = await Deno.lstat(l).catch((e) => {
          if (e instanceof Deno.errors.NotFound) return null;
          throw localIoError("create folder", l, e);
        });
        if (there?.isSymlink) {
          throw new LocalIoError(`Cannot write into "${l}": it is a symbolic link`);
        }
        await walk(r, l, depth + 1);
      } else if (entry.type === "file") {
        // Pipelined: up to a window of downloads in flight on the one session.
        await window.add(async () => {
          const result = await downloadToRegularFile(client, r, l, options, false, present);
          totals.files++;
          totals.bytes += result.size;
        });
      } else {
        options.onSkip?.(r, "not a regular file or folder");
      }
    }
  };
  const window = new TaskWindow({ limit: options.window });
  try {
    await walk(remote, dest, 0);
    await window.drain();
  } catch (e) {
    await window.settle();
    // Only empty folders go: a non-recursive remove leaves any that hold a file.
    for (const dir of made.reverse()) await Deno.remove(dir).catch(() => {});
    throw e;
  }
  return totals;
}

/**
 * Uploads a local folder tree into the remote folder `remote` (created if
 * missing). Symlinks to files are followed; symlinked folders are not
 * entered (no loops).
 *
 * @param client A connected client.
 * @param source The local folder.
 * @param remote The remote folder.
 * @param options Progress and per-file callbacks.
 * @returns How many files and bytes were sent.
 */
export async function uploadTree(
  client: BftpClient,
  source: string,
  remote: string,
  options: LocalTransferOptions = {},
): Promise<{ files: number; bytes: number }> {
  const totals = { files: 0, bytes: 0 };
  const walk = async (ldir: string, rdir: string) => {
    // Not awaited alone: the uploads into it are requested after it, so the server makes it first.
    await window.add(() => client.mkdir(rdir, true));
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(ldir));
    } catch (e) {
      throw localIoError("read folder", ldir, e);
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const d of entries) {
      const l = join(ldir, d.name);
      const r = joinRemote(rdir, d.name);
      if (d.isDirectory) {
        await walk(l, r);
        continue;
      }
      const target = d.isSymlink ? await Deno.stat(l).catch(() => null) : null;
      if (d.isFile || target?.isFile) {
        // Pipelined: up to a window of uploads in flight on the one session.
        await window.add(async () => {
          const result = await uploadFile(client, l, r, options);
          totals.files++;
          totals.bytes += result.size;
        });
      } else {
        options.onSkip?.(
          l,
          !d.isSymlink
            ? "not a regular file"
            : target === null
            ? "a symbolic link to nothing"
            : "a symbolic link to a folder",
        );
      }
    }
  };
  const window = new TaskWindow({ limit: options.window });
  try {
    await walk(source, remote);
  } finally {
    await window.settle();
  }
  await window.drain();
  return totals;
}
