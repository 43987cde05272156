/**
 * The Linux backend of the served root: every reference is an open
 * descriptor (`O_PATH`), every call is relative to a folder's descriptor
 * and never follows a final link (`openat` with `O_NOFOLLOW`, `renameat`,
 * `unlinkat`, `mkdirat`, `statx` with `AT_SYMLINK_NOFOLLOW`). A folder
 * swapped for a link after it was opened changes nothing: the descriptor
 * still names the folder that was there.
 *
 * Deno cannot adopt a raw descriptor, but on Linux opening
 * `/proc/self/fd/N` opens the very file descriptor N refers to (not a path
 * that could have changed): that is how a file found this way becomes a
 * `Deno.FsFile`.
 *
 * @module
 */

import { FdFile } from "../libc/fd_file.ts";
import { AT, noUnnamedFiles, O, RESOLVE } from "../libc/flags.ts";
import { Libc } from "../libc/libc.ts";
import {
  applyAttributes,
  type CreatedFile,
  type FileAttributes,
  type FsStat,
  type ListedName,
  PathBackend,
  type ReadFile,
  type Ref,
  type TreeBackend,
} from "./tree_backend.ts";

const PATH_FLAGS = O.O_PATH | O.O_NOFOLLOW | O.O_CLOEXEC;
/** Nothing out of the root, no magic links: what the name-by-name walk refuses too. */
const BENEATH = RESOLVE.BENEATH | RESOLVE.NO_MAGICLINKS;

function fd(ref: Ref): number {
  if (typeof ref !== "number") throw new TypeError(`Not a descriptor: "${ref}"`);
  return ref;
}

function proc(ref: Ref): string {
  return `/proc/self/fd/${fd(ref)}`;
}

/**
 * Descriptor-relative calls through libc (Linux only).
 *
 * @example
 * ```ts
 * import { FdBackend } from "./fd_backend.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * const fs = FdBackend.open(dir);
 * if (fs !== null) {
 *   fs.mkdirAt(fs.root, "sub");
 *   deepEqual(fs.statAt(fs.root, "sub").type, "dir");
 *   fs.close();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FdBackend implements TreeBackend {
  readonly root: number;
  readonly atomic = true;
  #libc: Libc;

  private constructor(libc: Libc, root: number) {
    this.#libc = libc;
    this.root = root;
  }

  /**
   * Opens the served folder, or gives `null` where descriptors cannot be
   * used (not Linux, no FFI permission, no `/proc`).
   *
   * @param realRoot The folder's real path.
   * @returns The backend, or `null`.
   */
  static open(realRoot: string): FdBackend | null {
    const libc = Libc.load();
    if (libc === null) return null;
    const root = libc.openat(-100, realRoot, O.O_PATH | O.O_DIRECTORY | O.O_CLOEXEC);
    try {
      Deno.statSync(proc(root));
    } catch (e) {
      libc.close(root);
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    return new FdBackend(libc, root);
  }

  #closed = false;

  /** Closes the root's descriptor (once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#libc.close(this.root);
  }

  openNoFollow(dir: Ref, name: string): Ref {
    return this.#libc.openat(fd(dir), name, PATH_FLAGS);
  }

  /** Whether `openat2` is there to use (cleared when the kernel has none, or refuses it). */
  #openat2 = true;

  openBeneath(path: string, folder = false): Ref | null {
    if (!this.#openat2) return null;
    const flags = O.O_PATH | O.O_CLOEXEC | (folder ? O.O_DIRECTORY : 0);
    try {
      return this.#libc.openat2(this.root, path, flags, BENEATH);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      // No openat2 (Linux before 5.6, a seccomp filter): name by name from now on.
      const code = (e as { code?: string }).code ?? "";
      if (["ENOSYS", "EPERM", "E2BIG", "EINVAL"].includes(code)) this.#openat2 = false;
      return null;
    }
  }
  stat(ref: Ref): FsStat {
    return this.#libc.statx(fd(ref), "", AT.SYMLINK_NOFOLLOW);
  }
  statAt(dir: Ref, name: string): FsStat {
    return this.#libc.statx(fd(dir), name, AT.SYMLINK_NOFOLLOW);
  }
  statAtIfAny(dir: Ref, name: string): FsStat | null {
    return this.#libc.statxIfAny(fd(dir), name, AT.SYMLINK_NOFOLLOW);
  }
  readlink(ref: Ref): string {
    return this.#libc.readlink(fd(ref));
  }
  release(ref: Ref): void {
    if (ref !== this.root) this.#libc.close(fd(ref));
  }
  openFile(ref: Ref, small = false): ReadFile {
    // A small file through libc on a descriptor of its own: no Deno file to make, read and
    // close (about a tenth of a small GET's server CPU here).
    if (small) {
      return new FdFile(this.#libc.openat(-100, proc(ref), O.O_RDONLY | O.O_CLOEXEC), true);
    }
    return Deno.openSync(proc(ref), { read: true });
  }
  readDir(ref: Ref): ListedName[] {
    return Array.from(Deno.readDirSync(proc(ref)));
  }
  createFile(dir: Ref, name: string, mode: number, exclusive: boolean): CreatedFile {
    const flags = O.O_RDWR | O.O_CREAT | O.O_NOFOLLOW | O.O_CLOEXEC | (exclusive ? O.O_EXCL : 0);
    // Written through this very descriptor (fd_file.ts), closed when `ref` is released.
    const raw = this.#libc.openat(fd(dir), name, flags, mode);
    return { file: new FdFile(raw), ref: raw };
  }
  /** Whether a filesystem refused an unnamed file: then the server no longer asks for them. */
  #unnamed = true;

  createUnnamed(dir: Ref, mode: number): CreatedFile | null {
    if (!this.#unnamed) return null;
    let raw: number;
    try {
      raw = this.#libc.openat(fd(dir), ".", O.O_RDWR | O.O_TMPFILE | O.O_CLOEXEC, mode);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      // No unnamed files where the folder is: never asked again. Any other refusal (a removed
      // folder gives EPERM) is left to the named temporary, whose error says what is wrong.
      if (noUnnamedFiles(e)) this.#unnamed = false;
      return null;
    }
    return { file: new FdFile(raw), ref: raw };
  }
  linkAt(ref: Ref, dir: Ref, name: string): void {
    this.#libc.linkFd(fd(ref), fd(dir), name);
  }
  chmodAt(dir: Ref, name: string, mode: number): void {
    this.#libc.fchmodat(fd(dir), name, mode);
  }
  setAttributesAt(
    dir: Ref,
    name: string,
    attributes: FileAttributes,
    folderOnly = false,
  ): FsStat["type"] {
    // The entry itself, never what a link there points to (O_PATH | O_NOFOLLOW); then changed
    // through its descriptor's /proc name, which reaches that same inode whatever the name
    // means by now.
    const ref = this.openNoFollow(dir, name);
    try {
      const type = this.stat(ref).type;
      if (type === "dir" || (type === "file" && !folderOnly)) {
        applyAttributes(proc(ref), attributes);
      }
      return type;
    } finally {
      this.release(ref);
    }
  }
  renameAt(fromDir: Ref, from: string, toDir: Ref, to: string): void {
    this.#libc.renameat(fd(fromDir), from, fd(toDir), to);
  }
  unlinkAt(dir: Ref, name: string, folder: boolean): void {
    this.#libc.unlinkat(fd(dir), name, folder ? AT.REMOVEDIR : 0);
  }
  mkdirAt(dir: Ref, name: string, mode = 0o777): void {
    this.#libc.mkdirat(fd(dir), name, mode);
  }
  async syncDir(ref: Ref): Promise<void> {
    using folder = await Deno.open(proc(ref), { read: true });
    await folder.sync();
  }
}

/**
 * The backend for a served folder: descriptors where they work (Linux, with
 * FFI allowed), host paths elsewhere.
 *
 * @param realRoot The folder's real path.
 * @returns The backend.
 *
 * @example
 * ```ts
 * import { openBackend } from "./fd_backend.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * deepEqual(openBackend(dir).atomic, Deno.build.os === "linux");
 * await Deno.remove(dir);
 * ```
 */
export function openBackend(realRoot: string): TreeBackend {
  return FdBackend.open(realRoot) ?? new PathBackend(realRoot);
}
