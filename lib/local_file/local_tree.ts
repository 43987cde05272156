/**
 * A download's local tree, held by its top folder: every folder below the
 * top is reached from the top's open descriptor without following a
 * symbolic link (`openat2` with `RESOLVE_NO_SYMLINKS`, or name by name with
 * `O_NOFOLLOW` where there is none), and each file is created, renamed,
 * linked and removed relative to the descriptor of its folder. So a folder
 * of DEST that a local user swaps for a link while `get -r` or a sync pull
 * runs is refused: nothing lands where the link leads. The top itself is
 * the user's (it may be a link; it is opened once, at the start).
 *
 * Folders are held open while a tree lands (at most
 * {@linkcode MAX_HELD_FOLDERS} at once, the least recently used closed
 * first); a caller that keeps a folder across an `await` takes a
 * descriptor of its own ({@linkcode LocalTree.ownFolder}). Without libc (not
 * Linux) there is no tree, and writers work by path.
 *
 * @module
 */

import { LocalIoError, localIoError } from "../errors.ts";
import { AT, O, RESOLVE } from "../libc/flags.ts";
import { Libc } from "../libc/libc.ts";

/** Where an entry is: its folder's descriptor (-100: the working folder) and its name there (or path). */
export interface EntryAt {
  /** The folder's descriptor, or -100 (`AT_FDCWD`) with a path in `name`. */
  dir: number;
  /** The entry's name in `dir`. */
  name: string;
}

/** A tree as another thread receives it ({@linkcode LocalTree.share}). */
export interface SharedTree {
  /** The top folder's path. */
  top: string;
  /** The top folder's descriptor, on the sending thread. */
  fd: number;
}

/** The most folders a tree holds open at once. */
export const MAX_HELD_FOLDERS = 64;

/** How a held folder is opened: a descriptor that only names it. */
const FOLDER_FLAGS = O.O_PATH | O.O_DIRECTORY | O.O_CLOEXEC;

/** `openat2`'s rules: no link on the way, nothing above the top. */
const NO_LINKS = RESOLVE.NO_SYMLINKS | RESOLVE.BENEATH;

/** Whether `/proc/self/fd` is there (once looked at). */
let procSeen: boolean | undefined;

/** Whether a descriptor can be named through `/proc/self/fd`. */
function procFds(): boolean {
  if (procSeen === undefined) {
    try {
      procSeen = Deno.statSync("/proc/self/fd").isDirectory;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      procSeen = false;
    }
  }
  return procSeen;
}

/**
 * Makes the folder `at` names if missing and opens it, never through a
 * link: a link or a file in its place is told as such (`Cannot write into
 * "PATH": it is a symbolic link`, `Cannot create folder "PATH": file
 * exists`).
 */
function makeAndOpen(
  libc: Libc,
  at: EntryAt,
  path: string,
  mode: number,
): { made: boolean; fd: number } {
  let made = true;
  try {
    libc.mkdirat(at.dir, at.name, mode);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    made = false;
  }
  try {
    return { made, fd: libc.openat(at.dir, at.name, FOLDER_FLAGS | O.O_NOFOLLOW) };
  } catch (e) {
    if (!(e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.FilesystemLoop)) {
      throw e;
    }
    const link = libc.statxIfAny(at.dir, at.name, AT.SYMLINK_NOFOLLOW)?.type === "link";
    throw new LocalIoError(
      link
        ? `Cannot write into "${path}": it is a symbolic link`
        : `Cannot create folder "${path}": file exists`,
      { cause: e },
    );
  }
}

/**
 * The entries of the folder `dir`, read through `fd` where given (a held
 * folder's descriptor, by `/proc/self/fd`; by name where there is no
 * `/proc`); none when it cannot be read (gone, not a folder, not allowed).
 * Synchronous: one call for the folder, where Deno's asynchronous iterator
 * hops to its I/O pool and back for each entry (5,000 files in 50 folders:
 * 5.6-7 ms against 14-31 ms).
 *
 * @param dir The folder's path.
 * @param fd Its descriptor, where held.
 * @returns Its entries, in the order the file system gives them.
 *
 * @example
 * ```ts
 * import { folderEntries } from "./local_tree.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(folderEntries("/no/such/folder"), []);
 * ```
 */
export function folderEntries(dir: string, fd?: number): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(fd !== undefined && procFds() ? `/proc/self/fd/${fd}` : dir)];
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory ||
      e instanceof Deno.errors.PermissionDenied
    ) return [];
    throw e;
  }
}

/**
 * Where `path` is when no tree holds it: by path from the working folder.
 *
 * @param path The entry's path.
 * @returns It, at `AT_FDCWD`.
 *
 * @example
 * ```ts
 * import { byPath } from "./local_tree.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(byPath("/d/a.txt"), { dir: -100, name: "/d/a.txt" });
 * ```
 */
export function byPath(path: string): EntryAt {
  return { dir: -100, name: path };
}

/**
 * A download's local tree (see the module doc).
 *
 * @example
 * ```ts
 * import { LocalTree } from "./local_tree.ts";
 * import { equal, rejects, throws } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/elsewhere`);
 * using tree = LocalTree.open(dir);
 * if (tree !== undefined) {
 *   tree.makeFolder(`${dir}/sub`);
 *   equal(tree.at(`${dir}/sub/a.txt`).name, "a.txt");
 *   await Deno.remove(`${dir}/sub`);
 *   await Deno.symlink(`${dir}/elsewhere`, `${dir}/sub`);
 *   // The folder is not held any longer once it is gone... and a link in its place is refused.
 *   tree.forget(`${dir}/sub`);
 *   throws(() => tree.at(`${dir}/sub/a.txt`), /symbolic link/);
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LocalTree implements Disposable {
  /** The top folder, as the user gave it. */
  readonly top: string;
  /** `top` with a trailing `/`: what every path below it starts with. */
  #prefix: string;
  #libc: Libc;
  #topFd: number;
  /** Folders held, by their path below the top, least recently used first. */
  #held = new Map<string, number>();
  /** Whether `openat2` is there to use (cleared when the kernel has none, or refuses it). */
  #openat2 = true;
  /** The folder (its path with a trailing `/`) last asked for, and its descriptor. */
  #last: string | undefined;
  #lastFd = -1;

  private constructor(libc: Libc, top: string, topFd: number) {
    this.#libc = libc;
    this.top = top;
    this.#prefix = top.endsWith("/") ? top : `${top}/`;
    this.#topFd = topFd;
  }

  /**
   * Holds the folder `top` (following a link there: the user named it), or
   * `undefined` where there is no libc to do so (not Linux, no FFI
   * permission): the caller then works by path.
   *
   * @param top The tree's top folder; it exists.
   * @returns The tree, or `undefined`.
   * @throws {Deno.errors.NotFound} (and Deno's other error classes) When it cannot be opened.
   */
  static open(top: string): LocalTree | undefined {
    const libc = Libc.load();
    if (libc === null) return undefined;
    return new LocalTree(libc, top, libc.openat(-100, top, FOLDER_FLAGS));
  }

  /**
   * Holds the folder `top` that a download names inside a folder the user
   * gave (DEST/NAME): DEST is opened following a link there (the user's),
   * NAME is made in it if missing and opened without following one: a link
   * at NAME, planted there before the download began, is refused.
   * `undefined` where there is no libc.
   *
   * @param top The tree's top folder: a name in an existing folder.
   * @returns The tree, and whether this call made the folder.
   * @throws {LocalIoError} When NAME is a link or no folder.
   */
  static openNested(top: string): { tree: LocalTree; made: boolean } | undefined {
    const libc = Libc.load();
    if (libc === null) return undefined;
    const slash = top.lastIndexOf("/");
    const parent = slash < 0 ? "." : top.slice(0, slash) || "/";
    const name = top.slice(slash + 1);
    const parentFd = libc.openat(-100, parent, FOLDER_FLAGS);
    try {
      const { fd, made } = makeAndOpen(libc, { dir: parentFd, name }, top, 0o777);
      return { tree: new LocalTree(libc, top, fd), made };
    } finally {
      libc.close(parentFd);
    }
  }

  /**
   * Holds, on another thread, the tree `shared` names (from
   * {@linkcode LocalTree.share} on the thread that opened it): its top by a
   * descriptor of its own, opened from the other's, so no name is looked
   * up again. The other thread keeps its tree open meanwhile.
   *
   * @param shared The tree's top and its descriptor.
   * @returns The tree here, or `undefined` without libc.
   */
  static fromShared(shared: SharedTree): LocalTree | undefined {
    const libc = Libc.load();
    if (libc === null) return undefined;
    return new LocalTree(libc, shared.top, libc.openat(shared.fd, ".", FOLDER_FLAGS));
  }

  /**
   * What another thread needs to hold this tree
   * ({@linkcode LocalTree.fromShared}), while this one stays open.
   *
   * @returns The top and its descriptor.
   */
  share(): SharedTree {
    return { top: this.top, fd: this.#topFd };
  }

  /**
   * Where `path`, a path below the top, is: its folder's descriptor (held
   * by the tree: use it before the next `await`) and its name.
   *
   * @param path A path that starts with the top and a `/`.
   * @returns Its folder and name.
   * @throws {LocalIoError} When a folder on its way is a link (or no folder).
   */
  at(path: string): EntryAt {
    const slash = path.lastIndexOf("/");
    return { dir: this.#folder(path.slice(0, slash + 1)), name: path.slice(slash + 1) };
  }

  /**
   * A descriptor of its own for the folder of `path` (the caller closes it
   * with `Libc.close`), for a file written across `await`s.
   *
   * @param path A path that starts with the top and a `/`.
   * @returns The folder's new descriptor and the name.
   * @throws {LocalIoError} When a folder on its way is a link (or no folder).
   */
  ownFolder(path: string): EntryAt {
    const at = this.at(path);
    return { dir: this.#libc.openat(at.dir, ".", FOLDER_FLAGS), name: at.name };
  }

  /**
   * A path for `path` that goes through a descriptor of its folder's own
   * (`/proc/self/fd/N/NAME`: the kernel follows the descriptor, not the
   * folder's name), for Deno's calls by path across `await`s; disposing of
   * it closes the descriptor. `undefined` where there is no `/proc`.
   *
   * @param path A path that starts with the top and a `/`.
   * @returns The path through the folder's descriptor, to dispose of when done.
   * @throws {LocalIoError} When a folder on its way is a link (or no folder).
   */
  throughFolder(path: string): { path: string } & Disposable | undefined {
    if (!procFds()) return undefined;
    const own = this.ownFolder(path);
    const libc = this.#libc;
    return {
      path: `/proc/self/fd/${own.dir}/${own.name}`,
      [Symbol.dispose]: () => libc.close(own.dir),
    };
  }

  /**
   * Removes the file (or link) at `path`, below the top, relative to its
   * folder.
   *
   * @param path The file's path.
   * @throws {Deno.errors.NotFound} (and Deno's other error classes) As `Deno.removeSync` does.
   */
  removeFile(path: string): void {
    const at = this.at(path);
    this.#libc.unlinkat(at.dir, at.name, 0);
  }

  /**
   * Removes the empty folder at `path`, below the top, relative to its
   * parent (no longer held).
   *
   * @param path The folder's path.
   * @throws {Deno.errors.NotFound} (and Deno's other error classes) As `Deno.removeSync` does.
   */
  removeFolder(path: string): void {
    this.forget(path);
    const at = this.at(path.endsWith("/") ? path.slice(0, -1) : path);
    this.#libc.unlinkat(at.dir, at.name, AT.REMOVEDIR);
  }

  /**
   * Makes the folder `path` (below the top) if missing.
   *
   * @param path The folder's path.
   * @param mode Its permission bits, before the umask.
   * @returns Whether it was made (`false`: one was there), and its descriptor (held by the tree).
   * @throws {LocalIoError} When it, or a folder on its way, is a link (or no folder).
   */
  makeFolder(path: string, mode = 0o777): { made: boolean; fd: number } {
    const folder = path.endsWith("/") ? path : `${path}/`;
    const at = this.at(folder.slice(0, -1));
    const opened = makeAndOpen(this.#libc, at, folder.slice(0, -1), mode);
    const relative = this.#relative(folder);
    // Held from now on (one held already, now closed, was another folder of that name).
    if (this.#held.has(relative)) this.#close(relative);
    this.#hold(folder, relative, opened.fd);
    return opened;
  }

  /**
   * The held descriptor of the folder `path` (below the top, or the top),
   * opened now when not held: refused when it, or a folder on its way, is
   * a link.
   *
   * @param path The folder's path (a trailing `/` or none).
   * @returns Its descriptor (held by the tree).
   */
  folder(path: string): number {
    return this.#folder(path.endsWith("/") ? path : `${path}/`);
  }

  /**
   * Closes the folder `path` if held (it was removed or replaced): the next
   * use opens it again.
   *
   * @param path The folder's path.
   */
  forget(path: string): void {
    const key = this.#relative(path.endsWith("/") ? path : `${path}/`);
    if (this.#held.has(key)) this.#close(key);
  }

  /** The folder whose path (with its trailing `/`) is `folder`. */
  #folder(folder: string): number {
    // A tree lands folder by folder: most files are in the folder of the one before.
    if (folder === this.#last) return this.#lastFd;
    if (folder === this.#prefix) return this.#topFd;
    const relative = this.#relative(folder);
    let fd = this.#held.get(relative);
    // The most recently used goes last.
    if (fd !== undefined) this.#held.delete(relative);
    else fd = this.#open(relative, folder);
    return this.#hold(folder, relative, fd);
  }

  /** Holds `fd` as the folder `relative` (its path `folder`), the least recently used let go. */
  #hold(folder: string, relative: string, fd: number): number {
    if (this.#held.size >= MAX_HELD_FOLDERS) this.#close(this.#held.keys().next().value!);
    this.#held.set(relative, fd);
    this.#last = folder;
    this.#lastFd = fd;
    return fd;
  }

  /** Closes the held folder `relative`. */
  #close(relative: string): void {
    const fd = this.#held.get(relative)!;
    this.#held.delete(relative);
    if (fd === this.#lastFd) this.#last = undefined;
    this.#libc.close(fd);
  }

  /** `folder`'s path below the top, without its trailing `/`. */
  #relative(folder: string): string {
    if (!folder.startsWith(this.#prefix)) {
      throw new Error(`"${folder}" is not below the tree's top "${this.top}"`);
    }
    return folder.slice(this.#prefix.length, -1);
  }

  /**
   * Opens the folder `relative` below the top, never through a link. Any
   * failure is a {@linkcode LocalIoError} that names the folder: one gone
   * meanwhile, a link or a file in its place, or on its way.
   */
  #open(relative: string, folder: string): number {
    try {
      return this.#openat2 ? this.#openBeneath(relative) : this.#walk(relative);
    } catch (e) {
      const path = folder.slice(0, -1);
      if (e instanceof Deno.errors.FilesystemLoop || e instanceof Deno.errors.NotADirectory) {
        throw new LocalIoError(
          `Cannot write into "${path}": it, or a folder on its way, is a symbolic link or not a folder`,
          { cause: e },
        );
      }
      throw localIoError("write into", path, e);
    }
  }

  #openBeneath(relative: string): number {
    try {
      return this.#libc.openat2(this.#topFd, relative, FOLDER_FLAGS, NO_LINKS);
    } catch (e) {
      const code = (e as { code?: string } | null)?.code ?? "";
      // No openat2 (Linux before 5.6, a seccomp filter): name by name from now on.
      if (!["ENOSYS", "EPERM", "E2BIG", "EINVAL"].includes(code)) throw e;
      this.#openat2 = false;
      return this.#walk(relative);
    }
  }

  /** Name by name, each refusing a link (`O_NOFOLLOW` with `O_DIRECTORY`: `ENOTDIR`). */
  #walk(relative: string): number {
    let fd = this.#topFd;
    for (const name of relative.split("/")) {
      try {
        const next = this.#libc.openat(fd, name, FOLDER_FLAGS | O.O_NOFOLLOW);
        if (fd !== this.#topFd) this.#libc.close(fd);
        fd = next;
      } catch (e) {
        if (fd !== this.#topFd) this.#libc.close(fd);
        throw e;
      }
    }
    return fd;
  }

  /** Closes every folder held, and the top. */
  [Symbol.dispose](): void {
    for (const fd of this.#held.values()) this.#libc.close(fd);
    this.#held.clear();
    this.#last = undefined;
    this.#libc.close(this.#topFd);
  }
}
