/**
 * The client's side of the disk: downloads land in a temporary file beside
 * the destination and are renamed only once verified; uploads read local
 * files and folder trees. Names that come from the server are checked
 * before they are used: the client writes only under the destination it
 * was given.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { LocalIoError, localIoError, ProtocolError, UsageError } from "../errors.ts";
import type { BodyResult } from "../transfer/body.ts";
import type { BftpClient, TransferOptions } from "./client.ts";
import type { GetReply } from "../protocol/replies.ts";
import { applyServerAttributes } from "./attributes.ts";
import { sideStem } from "./side_names.ts";
import { checkTreeDepth } from "./tree_depth.ts";
import { joinRemote } from "./url.ts";
import { discardPartialSync, downloadResumable, resumableSource } from "./resume.ts";

/** The infix of a download's temporary file name. */
export const LOCAL_TEMP_INFIX = ".bftp-tmp-";

/** Options for {@linkcode downloadFile} and the other local transfers. */
export interface LocalTransferOptions {
  /**
   * Makes progress callbacks for one file (its label, its whole size, and
   * for a resumed download the offset it resumes at).
   */
  progress?: ((label: string, size: number | null, offset?: number) => TransferOptions) | undefined;
  /** Told about each file as it is done. */
  onFile?: ((remote: string, local: string, result: BodyResult) => void) | undefined;
  /**
   * Resumable transfers (see `resume.ts`): a download continues the partial
   * file a cut one left; an upload continues what the server kept.
   *
   * @default {false}
   */
  resume?: boolean | undefined;
  /**
   * Told about each entry of a tree that is left out (a FIFO, a device, a
   * link to a folder or to nothing; on the server, whatever is not a plain
   * file or folder), with why, as rsync says "skipping non-regular file".
   */
  onSkip?: ((path: string, why: string) => void) | undefined;
  /**
   * Keep the source's modification time and permission bits (`-p`, as with
   * scp): a download takes the server's, an upload asks the server to set
   * the local file's.
   *
   * @default {false}
   */
  preserve?: boolean | undefined;
}

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
    /^[A-Za-z]:/.test(name) || TEMP_NAME.test(name)
  ) {
    throw new ProtocolError(
      `Refused a name from the server: "${
        name.replace(/[\x00-\x1f\x7f-\x9f]/g, "?").slice(0, 100)
      }"`,
    );
  }
  return name;
}

/** A download's temporary file: `.NAME.bftp-tmp-UUID`. */
const TEMP_NAME = /^\..+\.bftp-tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Removes the temporary files that downloads into `dir` left when they were
 * killed (SIGKILL, a power cut): a running download holds an exclusive lock
 * on its temporary file, so a file that can be locked has no owner left.
 *
 * @param dir The local folder.
 * @param name Only the temporaries of this destination name; all when absent.
 * @returns How many were removed.
 *
 * @example
 * ```ts
 * import { removeStaleDownloads } from "./local.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/.a.txt.bftp-tmp-${crypto.randomUUID()}`, "half");
 * deepEqual(await removeStaleDownloads(dir, "a.txt"), 1);
 * deepEqual([...Deno.readDirSync(dir)].length, 0);
 * await Deno.remove(dir);
 * ```
 */
export async function removeStaleDownloads(dir: string, name?: string): Promise<number> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return 0;
    throw e;
  }
  const prefix = name === undefined ? "." : `${sideStem(name)}${LOCAL_TEMP_INFIX}`;
  let removed = 0;
  for (const d of entries) {
    if (!d.isFile || !d.name.startsWith(prefix) || !TEMP_NAME.test(d.name)) continue;
    const path = join(dir, d.name);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) continue;
      throw e;
    }
    try {
      if (await file.tryLock(true)) {
        await Deno.remove(path);
        removed++;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    } finally {
      file.close();
    }
  }
  return removed;
}

/**
 * Creates a download's temporary file beside `dest`, locked for as long as
 * it stays open (see {@linkcode removeStaleDownloads}).
 */
function createTemporary(dest: string): { temp: string; file: Deno.FsFile } {
  // Synchronous calls: each is a few microseconds on a local disk, where Deno's asynchronous
  // ones hop to its I/O pool and back, which dominates a tree of many small files.
  for (let attempt = 1;; attempt++) {
    const temp = join(
      dirname(dest),
      `${sideStem(basename(dest))}${LOCAL_TEMP_INFIX}${crypto.randomUUID()}`,
    );
    const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o644 });
    try {
      // A fresh file nobody else holds: the lock is granted at once.
      file.lockSync(true);
      // Between the open and the lock another download's clean-up may have found it
      // unlocked and removed it: then start again with a new name.
      const mine = file.statSync();
      let there: Deno.FileInfo | null = null;
      try {
        there = Deno.lstatSync(temp);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (there !== null && there.ino === mine.ino && there.dev === mine.dev) return { temp, file };
    } catch (e) {
      file.close();
      throw e;
    }
    file.close();
    if (attempt >= 3) throw new Deno.errors.NotFound("The temporary file keeps disappearing");
  }
}

/**
 * Where a download the user named should go. A FIFO, a device or a socket
 * (`/dev/null`; `/dev/stdout`, whatever it leads to) is written into,
 * in place, since it cannot be replaced; anything else, a symbolic link to
 * a regular file included, is replaced atomically: a link planted where a
 * download lands never redirects it onto another file.
 *
 * @param dest The destination the user gave.
 * @returns Whether `dest` is such a special file.
 *
 * @example
 * ```ts
 * import { isSpecialDestination } from "./local.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(await isSpecialDestination("/dev/null"), true);
 * deepEqual(await isSpecialDestination("/nonexistent/new.bin"), false);
 * ```
 */
export async function isSpecialDestination(dest: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dest);
  } catch (e) {
    // Nothing there, or a link to nothing: a new file takes its place.
    if (e instanceof Deno.errors.NotFound) return false;
    throw localIoError("write", dest, e);
  }
  // /dev/stdout and its kin lead through /proc to whatever the descriptor is, a file too.
  if (/^\/dev\/(stdout|stderr|fd\/)/.test(dest)) return true;
  return !info.isFile && !info.isDirectory;
}

/** The permission bits of an existing regular file at `path`, or `null`. */
function modeOf(path: string): number | null {
  try {
    const info = Deno.lstatSync(path);
    return info.isFile && info.mode !== null ? info.mode & 0o7777 : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/** Streams a download into a device, FIFO or socket, in place (no temporary can stand in). */
async function downloadInto(
  client: BftpClient,
  remote: string,
  path: string,
  options: LocalTransferOptions,
): Promise<BodyResult> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true });
  } catch (e) {
    throw localIoError("write", path, e);
  }
  try {
    let transfer: TransferOptions = {};
    const result = await client.get(remote, {
      write: async (p) => {
        try {
          return await file.write(p);
        } catch (e) {
          throw localIoError("write", path, e);
        }
      },
    }, {
      onStart: (size) => {
        transfer = options.progress?.(basename(path), size) ?? {};
        transfer.onStart?.(size);
      },
      onProgress: (n) => transfer.onProgress?.(n),
    });
    options.onFile?.(remote, path, result);
    return result;
  } finally {
    file.close();
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
    return await downloadInto(client, remote, dest, options);
  }
  return await downloadOne(client, remote, dest, options, true);
}

async function downloadOne(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions,
  cleanFirst: boolean,
): Promise<BodyResult> {
  if (options.resume) return await downloadResumable(client, remote, dest, options);
  let temp: string;
  let file: Deno.FsFile;
  let keepMode: number | null;
  try {
    if (cleanFirst) await removeStaleDownloads(dirname(dest), basename(dest));
    keepMode = modeOf(dest);
    ({ temp, file } = createTemporary(dest));
  } catch (e) {
    throw localIoError("write", dest, e);
  }
  let done = false;
  try {
    let transfer: TransferOptions = {};
    let reply: GetReply | undefined;
    const result = await client.get(remote, {
      write: (p) => {
        try {
          return Promise.resolve(file.writeSync(p));
        } catch (e) {
          return Promise.reject(localIoError("write", dest, e));
        }
      },
    }, {
      onReply: (r) => {
        reply = r;
      },
      onStart: (size) => {
        transfer = options.progress?.(basename(dest), size) ?? {};
        transfer.onStart?.(size);
      },
      onProgress: (n) => transfer.onProgress?.(n),
    });
    try {
      // Renamed while still open (and locked), so no clean-up can take it for a dead one's;
      // Windows cannot rename an open file.
      if (Deno.build.os === "windows") file.close();
      // A replaced file keeps its permissions: a private file stays private.
      else if (keepMode !== null) Deno.chmodSync(temp, keepMode);
      if (options.preserve && reply !== undefined) applyServerAttributes(temp, reply);
      Deno.renameSync(temp, dest);
    } catch (e) {
      throw localIoError("write", dest, e);
    }
    done = true;
    file.close();
    // A partial file left by an earlier "get --resume" is stale now.
    discardPartialSync(dest);
    options.onFile?.(remote, dest, result);
    return result;
  } finally {
    if (!done) {
      try {
        file.close();
      } catch {
        // Already closed before the rename failed.
      }
      await Deno.remove(temp).catch(() => {});
    }
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
    const result = await client.put(remote, file, { size, ...transfer, resume, ...attributes });
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
    await removeStaleDownloads(ldir);
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
        const result = await downloadOne(client, r, l, options, false);
        totals.files++;
        totals.bytes += result.size;
      } else {
        options.onSkip?.(r, "not a regular file or folder");
      }
    }
  };
  try {
    await walk(remote, dest, 0);
  } catch (e) {
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
    await client.mkdir(rdir, true);
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
        const result = await uploadFile(client, l, r, options);
        totals.files++;
        totals.bytes += result.size;
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
  await walk(source, remote);
  return totals;
}
