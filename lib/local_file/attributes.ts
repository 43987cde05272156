/**
 * What `-p` keeps of a file, as scp does: its modification time and its
 * permission bits, applied to a downloaded file from what the server said,
 * or to a file or folder in place, never through a link.
 *
 * @module
 */

import { Libc } from "../libc/libc.ts";
import { FdFile } from "../libc/fd_file.ts";
import { O } from "../libc/flags.ts";
import { byPath, type EntryAt } from "./local_tree.ts";

/** What the server said of a file's time and bits (a GET reply, a listing entry). */
export interface ServerAttributes {
  /** Modification time, ms since the epoch, or `null`. */
  mtime: number | null;
  /** Permission bits, or `null`. */
  mode: number | null;
}

/**
 * Gives a downloaded file the modification time and permission bits the
 * server reported (`-p`).
 *
 * @param path The file (its temporary name, before the rename).
 * @param reply What the server said about the file.
 * @example
 * ```ts
 * import { applyServerAttributes } from "./attributes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * applyServerAttributes(path, { mtime: 1_000_000_000_000, mode: 0o640 });
 * const info = await Deno.stat(path);
 * deepEqual([info.mtime?.getTime(), info.mode! & 0o777], [1_000_000_000_000, 0o640]);
 * await Deno.remove(path);
 * ```
 */
export function applyServerAttributes(path: string, reply: ServerAttributes): void {
  if (reply.mode !== null && Deno.build.os !== "windows") Deno.chmodSync(path, reply.mode);
  if (reply.mtime !== null) Deno.utimeSync(path, new Date(), new Date(reply.mtime));
}

/** The process's umask, once read (`null`: not yet). */
let umask: number | null = null;

/**
 * The permission bits a downloaded file gets when it replaces no file and
 * `-p` is not given: the server's (`0o644` when it does not say), less the
 * umask, as scp, sftp and rsync give them: a private file stays private.
 *
 * @param serverMode The bits the server reported, if any.
 * @returns The bits to give the new file.
 *
 * @example
 * ```ts
 * import { newFileMode } from "./attributes.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(newFileMode(0o600), 0o600);
 * equal(newFileMode(0o4755) & 0o7000, 0);
 * ```
 */
export function newFileMode(serverMode: number | null | undefined): number {
  umask ??= readUmask();
  return (serverMode ?? 0o644) & 0o777 & ~umask;
}

/**
 * The bits a copy's new folder is made with, before the umask of the side
 * that makes it: its source's, with its owner's read, write and search
 * added, as the files go in next (as scp makes them); `0o777` when the
 * source's are not known.
 *
 * @param sourceMode The source folder's bits, if known.
 * @returns The bits to make the folder with.
 *
 * @example
 * ```ts
 * import { newFolderBits } from "./attributes.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(newFolderBits(0o750), 0o750);
 * equal(newFolderBits(0o500), 0o700);
 * equal(newFolderBits(null), 0o777);
 * ```
 */
export function newFolderBits(sourceMode: number | null | undefined): number {
  return sourceMode === undefined || sourceMode === null ? 0o777 : unstickyBits(sourceMode) | 0o700;
}

/**
 * A folder's bits where its sticky bit cannot go (a new folder's, SETSTAT
 * and MKDIR's `mode`, which stop at `0o777`): a sticky folder's are given
 * without the group's and others' write, which without the sticky bit
 * would let them remove each other's files (a `1777` folder: `0755`).
 *
 * @param mode The source folder's bits.
 * @returns The read, write and search bits to give.
 *
 * @example
 * ```ts
 * import { unstickyBits } from "./attributes.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(unstickyBits(0o1777), 0o755);
 * equal(unstickyBits(0o2775), 0o775);
 * ```
 */
export function unstickyBits(mode: number): number {
  return (mode & 0o1000) === 0 ? mode & 0o777 : mode & 0o755;
}

/**
 * The process's umask: from `/proc/self/status` on Linux, which only reads
 * it; `Deno.umask()` sets it to 0 and back to read it, a moment in which a
 * file another thread (a landing thread, a server's worker) creates would
 * get bits the umask takes off.
 */
function readUmask(): number {
  // Windows has none (and no Deno.umask).
  if (Deno.build.os === "windows") return 0;
  try {
    const found = /^Umask:\s*([0-7]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (found !== null) return parseInt(found[1]!, 8);
  } catch (e) {
    if (
      !(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotCapable ||
        e instanceof Deno.errors.PermissionDenied)
    ) throw e;
  }
  try {
    return Deno.umask();
  } catch (e) {
    // Without --allow-sys: the usual one.
    if (!(e instanceof Deno.errors.NotCapable)) throw e;
    return 0o022;
  }
}

/** What {@linkcode stampFile} changes on an open file. */
export interface StampableFile {
  /** Sets its permission bits. */
  chmodSync(mode: number): void;
  /** Sets its access and modification times. */
  utimeSync(atime: Date, mtime: Date): void;
}

/**
 * Gives an open file (or folder) a time and bits, each if known, on its
 * descriptor: no name is looked up again.
 *
 * @param file The open entry.
 * @param attributes Its new time and bits.
 *
 * @example
 * ```ts
 * import { stampFile } from "./attributes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const calls: unknown[] = [];
 * stampFile({ chmodSync: (m) => calls.push(m), utimeSync: (_a, m) => calls.push(m.getTime()) }, { mtime: 1000, mode: 0o600 });
 * deepEqual(calls, [0o600, 1000]);
 * ```
 */
export function stampFile(file: StampableFile, attributes: ServerAttributes): void {
  if (attributes.mode !== null) file.chmodSync(attributes.mode);
  if (attributes.mtime !== null) file.utimeSync(new Date(), new Date(attributes.mtime));
}

/**
 * Gives the file or folder `entry` a time and bits (each if known), on
 * the entry itself, never through a link: it is opened without following
 * one (`O_NOFOLLOW`), and left alone when it is a link or not of `kind`.
 * Set-user-ID and set-group-ID bits are not given; a folder's sticky bit
 * is (without it, a `1777` folder would let anyone remove another's files).
 *
 * @param entry The file or folder: its path, or (with libc) its folder's descriptor and name.
 * @param attributes Its new time and bits.
 * @param kind What it must be.
 * @returns `false` when it was left alone (a link, or another kind).
 *
 * @example
 * ```ts
 * import { applyAttributesHere } from "./attributes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "a");
 * await Deno.symlink(`${dir}/a`, `${dir}/link`);
 * const attributes = { mtime: 1_000_000_000_000, mode: 0o600 };
 * deepEqual(applyAttributesHere(`${dir}/link`, attributes, "file"), false);
 * deepEqual(applyAttributesHere(`${dir}/a`, attributes, "file"), true);
 * deepEqual((await Deno.stat(`${dir}/a`)).mode! & 0o777, 0o600);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function applyAttributesHere(
  entry: string | EntryAt,
  attributes: ServerAttributes,
  kind: "file" | "folder",
): boolean {
  const mode = attributes.mode === null
    ? null
    : attributes.mode & (kind === "folder" ? 0o1777 : 0o777);
  const libc = Libc.load();
  const at = typeof entry === "string" ? byPath(entry) : entry;
  if (libc === null) {
    const path = at.name;
    const info = Deno.lstatSync(path);
    if (kind === "folder" ? !info.isDirectory : !info.isFile) return false;
    applyServerAttributes(path, { mtime: attributes.mtime, mode });
    return true;
  }
  // Non-blocking: a FIFO put in a file's place does not hold the open.
  const flags = O.O_RDONLY | O.O_NOFOLLOW | O.O_CLOEXEC |
    (kind === "folder" ? O.O_DIRECTORY : O.O_NONBLOCK);
  let fd: number;
  try {
    fd = libc.openat(at.dir, at.name, flags);
  } catch (e) {
    if (e instanceof Deno.errors.FilesystemLoop || e instanceof Deno.errors.NotADirectory) {
      return false;
    }
    // A folder its owner may not read (0000, 0100, 0200: a sync's target) is stamped by path.
    if (kind === "folder" && e instanceof Deno.errors.PermissionDenied) {
      return stampUnreadableFolder(libc, at, { mtime: attributes.mtime, mode });
    }
    throw e;
  }
  const opened = new FdFile(fd, true);
  try {
    if (kind === "file" && libc.statx(fd, "", 0).type !== "file") return false;
    stampFile(opened, { mtime: attributes.mtime, mode });
    return true;
  } finally {
    opened.close();
  }
}

/**
 * Gives a folder that may not be opened for reading its time and bits: it
 * is opened as a path only (`O_PATH`, never through a link), and changed
 * through its descriptor's name in `/proc/self/fd`, which leads to that
 * folder and no other whatever is renamed meanwhile. `false` where it is
 * not a folder (a link).
 */
function stampUnreadableFolder(libc: Libc, at: EntryAt, attributes: ServerAttributes): boolean {
  let fd: number;
  try {
    fd = libc.openat(at.dir, at.name, O.O_PATH | O.O_NOFOLLOW | O.O_DIRECTORY | O.O_CLOEXEC);
  } catch (e) {
    if (e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
  try {
    const path = `/proc/self/fd/${fd}`;
    stampFile({
      chmodSync: (mode) => Deno.chmodSync(path, mode),
      utimeSync: (atime, mtime) => Deno.utimeSync(path, atime, mtime),
    }, attributes);
    return true;
  } finally {
    libc.close(fd);
  }
}
