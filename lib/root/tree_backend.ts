/**
 * The file-system calls the served root is made of, relative to an open
 * reference to a folder: the seam between confinement ({@linkcode Beneath}
 * in `beneath.ts`) and the operating system. Two backends implement it:
 * descriptors on Linux (`fd_backend.ts`: every call is atomic with its
 * confinement), and host paths elsewhere ({@linkcode PathBackend}: the same
 * rules, checked before each call, so a concurrent rename can race them).
 *
 * @module
 */

import { join } from "../local_path.ts";

/** A file or folder beneath the root: a descriptor (Linux) or a host path. */
export type Ref = number | string;

/** A file's modification time and permission bits, as PUT (`put -p`) and SETSTAT set them. */
export interface FileAttributes {
  /** The modification time, ms since the epoch. */
  mtime?: number | undefined;
  /** The permission bits, 0 to 0o777. */
  mode?: number | undefined;
  /**
   * The client's bits for a file the upload creates (not one it replaces),
   * less the server's umask; `mode` wins.
   */
  newMode?: number | undefined;
}

/**
 * Sets `attributes` on what `path` names (a descriptor's `/proc/self/fd`
 * name, or a host path the caller has checked). The access time becomes now.
 *
 * @param path The file or folder.
 * @param attributes The time and bits; either or both.
 *
 * @example
 * ```ts
 * import { applyAttributes } from "./tree_backend.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * applyAttributes(path, { mtime: 1_000_000_000_000, mode: 0o600 });
 * const info = await Deno.stat(path);
 * equal(info.mtime?.getTime(), 1_000_000_000_000);
 * if (Deno.build.os !== "windows") equal(info.mode! & 0o777, 0o600);
 * await Deno.remove(path);
 * ```
 */
export function applyAttributes(path: string, attributes: FileAttributes): void {
  if (attributes.mode !== undefined && Deno.build.os !== "windows") {
    Deno.chmodSync(path, attributes.mode);
  }
  if (attributes.mtime !== undefined) Deno.utimeSync(path, new Date(), new Date(attributes.mtime));
}

/** What is known of a file, a folder or a link (never followed). */
export interface FsStat {
  /** `file`, `dir`, `link`, or `other` (FIFO, device, socket). */
  type: "file" | "dir" | "link" | "other";
  /** Size in bytes. */
  size: number;
  /** Permission and special bits (`mode & 0o7777`), or `null` (Windows). */
  mode: number | null;
  /** The device, or `null`. */
  dev: string | null;
  /** The inode, or `null` where there is none. */
  ino: bigint | null;
  /** Modification time, ns since the epoch, or `null`. */
  mtimeNs: bigint | null;
  /** Change time, ns since the epoch (ms precision on some platforms), or `null`. */
  ctimeNs: bigint | null;
}

/** A file opened for reading: Deno's `FsFile` has all this too (and `libc/fd_file.ts`). */
export interface ReadFile {
  /** Reads at the file's position; `null` at its end. */
  read(p: Uint8Array): Promise<number | null>;
  /** Reads at the file's position, synchronously; `null` at its end. */
  readSync(p: Uint8Array): number | null;
  /** Moves the file's position; returns the new one. */
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
  /** Takes the file's lock if nobody holds it; returns whether it did. */
  tryLockSync(exclusive?: boolean): boolean;
  /** Ends the use of the file. */
  close(): void;
}

/** What an upload does with its open temporary file, besides reading it (a resumed part). */
export interface TempFile extends ReadFile {
  /** Writes at the file's position; returns how many bytes were written. */
  writeSync(p: Uint8Array): number;
  /** Cuts the file to `len` bytes. */
  truncateSync(len?: number): void;
  /** Flushes the file's data to disk. */
  syncData(): Promise<void>;
  /**
   * Flushes the whole file system the file is on (`syncfs`, Linux), failing
   * when any write-back there failed since the file was opened; only where
   * that call is reached (`libc/fd_file.ts`).
   */
  syncVolume?(): Promise<void>;
  /**
   * Starts writing the file's data to disk without waiting (Linux's
   * `sync_file_range`), where that call is reached (`libc/fd_file.ts`).
   */
  startWriteBack?(): void;
  /** Sets the access and modification times. */
  utimeSync(atime: Date, mtime: Date): void;
  /** Sets the permission bits (where the file is a descriptor: an unnamed one has no name to set them by). */
  chmodSync?(mode: number): void;
}

/** A file created beneath the root, open for reading and writing. */
export interface CreatedFile {
  /** The open file (with descriptors, a view of `ref` itself: see `fd_file.ts`). */
  file: TempFile;
  /** A reference to the same file, for {@linkcode TreeBackend.stat}; released by the caller. */
  ref: Ref;
}

/** A folder's entry as its listing gives it. */
export type ListedName = Pick<Deno.DirEntry, "name" | "isDirectory">;

/**
 * The calls, each relative to an open folder `dir` and one `name` in it
 * (never a path with `/`), that never follow a final symbolic link unless
 * they say so.
 */
export interface TreeBackend {
  /** The served root itself, open for the process's lifetime. */
  readonly root: Ref;
  /** Whether each call is atomic with its confinement (descriptors). */
  readonly atomic: boolean;
  /** Closes the root (a server that stops serving it; safe to call twice). */
  close(): void;
  /** Opens `name` in `dir` without following it (a link opens as the link). */
  openNoFollow(dir: Ref, name: string): Ref;
  /**
   * Where the system resolves a whole path beneath the root in one atomic
   * call (Linux's `openat2` with `RESOLVE_BENEATH`): opens `path` (names
   * joined by `/`, relative to the root), following links that stay
   * beneath it. `null` when that call refuses (an absolute link, a way out,
   * a missing name, or no such call): the caller then resolves name by name.
   * With `folder`, only a folder is opened (`O_DIRECTORY`): anything else
   * gives `null` too.
   */
  openBeneath?(path: string, folder?: boolean): Ref | null;
  /** Describes what `ref` is (a link as itself). */
  stat(ref: Ref): FsStat;
  /** Describes `name` in `dir` (a link as itself). */
  statAt(dir: Ref, name: string): FsStat;
  /** Describes `name` in `dir` (a link as itself), or `null` when there is nothing by that name. */
  statAtIfAny(dir: Ref, name: string): FsStat | null;
  /** The target of the link `ref`. */
  readlink(ref: Ref): string;
  /** Closes a reference (never the root). */
  release(ref: Ref): void;
  /**
   * Opens the regular file `ref` for reading. A `small` one (read through
   * synchronously, see `framing/file_reader.ts`) may be opened without
   * Deno's own file.
   */
  openFile(ref: Ref, small?: boolean): ReadFile;
  /**
   * The entries of folder `ref`: each name, and whether it was a folder
   * when listed (the listing's own type, so telling folders apart costs no
   * stat; a link is not a folder).
   */
  readDir(ref: Ref): ListedName[];
  /** Creates (or with `exclusive` false, opens) `name` in `dir` for reading and writing; a link there is refused. */
  createFile(dir: Ref, name: string, mode: number, exclusive: boolean): CreatedFile;
  /**
   * Where the filesystem has unnamed files (Linux's `O_TMPFILE`): creates
   * one in `dir`, for reading and writing, named later by
   * {@linkcode TreeBackend.linkAt}; closing it unnamed frees it. `null`
   * where `dir`'s filesystem has none.
   */
  createUnnamed?(dir: Ref, mode: number): CreatedFile | null;
  /** Names the unnamed file `ref` `name` in `dir`; never replaces anything ({@linkcode Deno.errors.AlreadyExists}). */
  linkAt?(ref: Ref, dir: Ref, name: string): void;
  /** Sets the permission bits of `name` in `dir` (a file the server made). */
  chmodAt(dir: Ref, name: string, mode: number): void;
  /**
   * Sets the modification time and permission bits of `name` in `dir` when
   * it is a regular file or a folder, or with `folderOnly` a folder (a link
   * there is not followed, and nothing is changed); returns what it found.
   */
  setAttributesAt(
    dir: Ref,
    name: string,
    attributes: FileAttributes,
    folderOnly?: boolean,
  ): FsStat["type"];
  /** Renames `from` in `fromDir` to `to` in `toDir`, replacing a file there. */
  renameAt(fromDir: Ref, from: string, toDir: Ref, to: string): void;
  /** Removes `name` in `dir`: a file or link, or with `folder` an empty folder. */
  unlinkAt(dir: Ref, name: string, folder: boolean): void;
  /** Makes the folder `name` in `dir`, with `mode` (default `0o777`) less the umask. */
  mkdirAt(dir: Ref, name: string, mode?: number): void;
  /** Flushes folder `ref`'s entries (a rename) to disk. */
  syncDir(ref: Ref): Promise<void>;
}

function statOf(info: Deno.FileInfo): FsStat {
  const ns = (d: Date | null) => d === null ? null : BigInt(d.getTime()) * 1_000_000n;
  return {
    type: info.isSymlink ? "link" : info.isFile ? "file" : info.isDirectory ? "dir" : "other",
    size: info.size,
    mode: info.mode === null ? null : info.mode & 0o7777,
    dev: info.dev === null ? null : String(info.dev),
    ino: info.ino === null ? null : BigInt(info.ino),
    mtimeNs: ns(info.mtime),
    ctimeNs: ns(info.ctime),
  };
}

function isLink(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSymlink;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The portable backend: references are host paths, and each call names
 * its path again. Confinement rules are the same as with descriptors, but
 * checked before the call, not with it: a folder swapped for a link between
 * the check and the call is followed. Used where there is no Linux libc.
 *
 * @example
 * ```ts
 * import { PathBackend } from "./tree_backend.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * const fs = new PathBackend(dir);
 * fs.mkdirAt(fs.root, "sub");
 * deepEqual(fs.statAt(fs.root, "sub").type, "dir");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class PathBackend implements TreeBackend {
  /** Nothing is held open: nothing to close. */
  close(): void {}

  readonly root: string;
  readonly atomic = false;

  /** @param root The served folder's real path. */
  constructor(root: string) {
    this.root = root;
  }

  openNoFollow(dir: Ref, name: string): Ref {
    const path = join(String(dir), name);
    Deno.lstatSync(path);
    return path;
  }
  stat(ref: Ref): FsStat {
    return statOf(Deno.lstatSync(String(ref)));
  }
  statAt(dir: Ref, name: string): FsStat {
    return statOf(Deno.lstatSync(join(String(dir), name)));
  }
  statAtIfAny(dir: Ref, name: string): FsStat | null {
    try {
      return this.statAt(dir, name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  readlink(ref: Ref): string {
    return Deno.readLinkSync(String(ref));
  }
  release(_ref: Ref): void {}
  openFile(ref: Ref): ReadFile {
    return Deno.openSync(String(ref), { read: true });
  }
  readDir(ref: Ref): ListedName[] {
    return Array.from(Deno.readDirSync(String(ref)));
  }
  createFile(dir: Ref, name: string, mode: number, exclusive: boolean): CreatedFile {
    const path = join(String(dir), name);
    if (!exclusive && isLink(path)) {
      throw new Deno.errors.FilesystemLoop(`A link is in the way: ${name}`);
    }
    const file = Deno.openSync(path, {
      read: true,
      write: true,
      createNew: exclusive,
      create: !exclusive,
      mode,
    });
    return { file, ref: path };
  }
  chmodAt(dir: Ref, name: string, mode: number): void {
    if (Deno.build.os !== "windows") Deno.chmodSync(join(String(dir), name), mode);
  }
  setAttributesAt(
    dir: Ref,
    name: string,
    attributes: FileAttributes,
    folderOnly = false,
  ): FsStat["type"] {
    // Checked, then changed by name: a file swapped for a link between the two is followed
    // (the limit of this backend, see the class).
    const path = join(String(dir), name);
    const type = statOf(Deno.lstatSync(path)).type;
    if (type === "dir" || (type === "file" && !folderOnly)) applyAttributes(path, attributes);
    return type;
  }
  renameAt(fromDir: Ref, from: string, toDir: Ref, to: string): void {
    Deno.renameSync(join(String(fromDir), from), join(String(toDir), to));
  }
  unlinkAt(dir: Ref, name: string, folder: boolean): void {
    const path = join(String(dir), name);
    const info = Deno.lstatSync(path);
    if (folder && !info.isDirectory) throw new Deno.errors.NotADirectory(name);
    if (!folder && info.isDirectory) throw new Deno.errors.IsADirectory(name);
    Deno.removeSync(path);
  }
  mkdirAt(dir: Ref, name: string, mode = 0o777): void {
    Deno.mkdirSync(join(String(dir), name), { mode });
  }
  async syncDir(ref: Ref): Promise<void> {
    if (Deno.build.os === "windows") return;
    using folder = await Deno.open(String(ref), { read: true });
    await folder.sync();
  }
}
