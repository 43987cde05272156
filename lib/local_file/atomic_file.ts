/**
 * A local file written atomically: into a temporary file beside its
 * destination (`.NAME.bftp-tmp-<UUID>`, NAME shortened when long, see
 * `hidden_names.ts`), locked while it is written, and renamed over the
 * destination only when the caller commits. A replaced file keeps its
 * permission bits; a symbolic link at the destination is replaced, never
 * written through. Temporaries left by a killed process are recognised by
 * name and removed once nobody holds their lock
 * (`removeStaleTemporaries`, local_temporaries.ts).
 *
 * @module
 */

import { basename, dirname, join } from "../local_path.ts";
import { localIoError, type LocalIoErrorOptions } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import { FdFile } from "../libc/fd_file.ts";
import { AT, O } from "../libc/flags.ts";
import { Libc } from "../libc/libc.ts";
import { openLocked, sameFile } from "./lock.ts";
import { hiddenStem } from "./hidden_names.ts";
import { LOCAL_TEMP_INFIX } from "./local_temporaries.ts";
import {
  applyServerAttributes,
  newFileMode,
  type ServerAttributes,
  stampFile,
} from "./attributes.ts";
import { byPath, type EntryAt, type LocalTree } from "./local_tree.ts";

/**
 * Where a file the user named should go. A FIFO, a device or a socket
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
 * import { isSpecialDestination } from "./atomic_file.ts";
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

/** Options for {@linkcode AtomicFile.create}. */
export interface AtomicFileOptions {
  /**
   * What a missing folder is called in the error message.
   *
   * @default {"not found"}
   */
  notFound?: string | undefined;
  /**
   * The tree the file is in: its folder is reached from the tree's top
   * without following a link, and held while the file is written.
   *
   * @default {undefined} (by path)
   */
  tree?: LocalTree | undefined;
}

/**
 * The permission bits of an existing regular file at `path`, or `null`:
 * what a file that replaces it keeps.
 *
 * @param path The final path.
 * @returns Its bits, or `null` when nothing (or no regular file) is there.
 *
 * @example
 * ```ts
 * import { modeOf } from "./atomic_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(modeOf("/no/such/file"), null);
 * ```
 */
export function modeOf(path: string): number | null {
  try {
    const info = Deno.lstatSync(path);
    // Set-user-ID, set-group-ID and sticky are not kept: the content is another's now.
    return info.isFile && info.mode !== null ? info.mode & 0o777 : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/**
 * {@linkcode modeOf} by libc: the bits of the regular file `at` names, or
 * `null` (nothing there, a link, another kind, a part of the way no folder).
 *
 * @param libc libc.
 * @param at The final entry.
 * @returns Its bits, or `null`.
 *
 * @example
 * ```ts
 * import { modeAt } from "./atomic_file.ts";
 * import { Libc } from "../libc/libc.ts";
 * import { equal } from "node:assert/strict";
 *
 * const libc = Libc.load();
 * if (libc !== null) equal(modeAt(libc, { dir: -100, name: "/no/such/file" }), null);
 * ```
 */
export function modeAt(libc: Libc, at: EntryAt): number | null {
  try {
    const found = libc.statxIfAny(at.dir, at.name, AT.SYMLINK_NOFOLLOW);
    return found?.type === "file" ? found.mode & 0o777 : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/**
 * The start of the name of a temporary beside `dest`: the folder, the
 * hidden stem and the infix, to which a random UUID is added.
 *
 * @param dest The final path (or a bare name: a bare name's stem).
 * @returns The stem.
 *
 * @example
 * ```ts
 * import { temporaryStem } from "./atomic_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(temporaryStem("/d/a.txt"), "/d/.a.txt.bftp-tmp-");
 * equal(temporaryStem("a.txt"), ".a.txt.bftp-tmp-");
 * ```
 */
export function temporaryStem(dest: string): string {
  return join(dirname(dest), `${hiddenStem(basename(dest))}${LOCAL_TEMP_INFIX}`);
}

/**
 * The bits a temporary is created with: the owner's alone, so that a private
 * file is never readable by others on its way; its own are set before the
 * rename.
 */
export const TEMP_MODE = 0o600;

/** `openat` flags of a new temporary: made here, never an existing file or a link followed. */
export const TEMP_FLAGS: number = O.O_WRONLY | O.O_CREAT | O.O_EXCL | O.O_NOFOLLOW | O.O_CLOEXEC;

/** What a download writes its temporary through: Deno's file, or its descriptor by libc. */
interface TempOutput {
  writeSync(p: Uint8Array): number;
  tryLockSync(exclusive?: boolean): boolean;
  close(): void;
}

/**
 * Creates a temporary beside the file `at` names, new and locked (see `lock.ts`). On
 * Linux (with FFI allowed) through libc on one descriptor, in the folder
 * `at` names: no Deno file to make, and one `statx` for the check after
 * the lock instead of two stats with their `FileInfo`s (a landing thread
 * makes one a file of a tree). Returns the temporary's name in that folder
 * (its path, by path).
 */
function createTemporary(libc: Libc | null, at: EntryAt): { temp: string; file: TempOutput } {
  // Synchronous calls: each is a few microseconds on a local disk, where Deno's asynchronous
  // ones hop to its I/O pool and back, which dominates a tree of many small files.
  // Without libc, `at` is `dest` by path (its name is `dest`).
  const stem = temporaryStem(at.name);
  const { name, opened } = openLocked<TempOutput>({
    name: () => `${stem}${crypto.randomUUID()}`,
    create: libc === null
      ? (temp) => Deno.openSync(temp, { write: true, createNew: true, mode: TEMP_MODE })
      : (temp) => new FdFile(libc.openat(at.dir, temp, TEMP_FLAGS, TEMP_MODE), true),
    file: (file) => file,
    // With libc, one look: a fresh random name is never made again, so while it names anything
    // it names this file.
    isStill: libc === null
      ? (file, temp) => isStillDeno(file as Deno.FsFile, temp)
      : (_file, temp) => libc.statxIfAny(at.dir, temp, AT.SYMLINK_NOFOLLOW) !== null,
    close: (file) => file.close(),
  })!;
  return { temp: name, file: opened };
}

/** Whether `file` is still what `temp` names (same device and inode). */
function isStillDeno(file: Deno.FsFile, temp: string): boolean {
  try {
    return sameFile(Deno.lstatSync(temp), file.statSync());
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * A file being written atomically (see the module doc). Writes are
 * synchronous under the hood: an async `FsFile.write` of a 64 KiB chunk
 * costs about 100 us (measured on a 2-core Linux VM with Deno 2.9), a
 * synchronous one a small part of that.
 *
 * @example
 * ```ts
 * import { AtomicFile } from "./atomic_file.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const out = await AtomicFile.create(`${dir}/a.txt`);
 *   await out.write(new TextEncoder().encode("hi"));
 *   await out.commit();
 *   deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class AtomicFile implements ByteWriter {
  /** The final path. */
  readonly path: string;
  /** The temporary file's path. */
  readonly tempPath: string;
  #file: TempOutput;
  #open = true;
  #notFound: string | undefined;
  /** libc, when the file is written through it (else Deno, by path). */
  #libc: Libc | null;
  /** The final entry (with libc: its folder's own descriptor, from a tree, or by path). */
  #at: EntryAt;
  /** The temporary's name in `#at.dir` (its path, by path). */
  #temp: string;
  /** Landed or removed: the temporary's name is no longer this file's. */
  #released = false;

  private constructor(
    path: string,
    where: { libc: Libc | null; at: EntryAt },
    created: { temp: string; file: TempOutput },
    notFound: string | undefined,
  ) {
    this.path = path;
    this.#libc = where.libc;
    this.#at = where.at;
    this.#temp = created.temp;
    this.tempPath = where.at.dir === -100 ? created.temp : join(dirname(path), created.temp);
    this.#file = created.file;
    this.#notFound = notFound;
  }

  /**
   * Creates the temporary file beside `path`, locked.
   *
   * @param path The file to create or replace at the end.
   * @param options How errors are worded, and the tree it is in.
   * @returns The open output.
   * @throws {LocalIoError} When the folder is missing or not writable.
   */
  static create(path: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    const libc = Libc.load();
    let at = byPath(path);
    try {
      // The folder held by a descriptor of this file's own: it is written across awaits.
      if (libc !== null && options.tree !== undefined) at = options.tree.ownFolder(path);
      const created = createTemporary(libc, at);
      return Promise.resolve(new AtomicFile(path, { libc, at }, created, options.notFound));
    } catch (e) {
      if (at.dir !== -100) libc!.close(at.dir);
      return Promise.reject(localIoError("write", path, e, wording(options.notFound)));
    }
  }

  /**
   * Writes to the temporary file.
   *
   * @param p The bytes.
   * @returns How many were written.
   * @throws {LocalIoError} When the disk refuses them.
   */
  write(p: Uint8Array): Promise<number> {
    try {
      return Promise.resolve(this.#file.writeSync(p));
    } catch (e) {
      return Promise.reject(this.#error(e));
    }
  }

  /**
   * Renames the temporary file over the final path, then closes it: with
   * the bits of the file it replaces (looked at now: a file put there while
   * this one was written keeps its own), or for a new file `newMode` (else
   * 0644) less the umask; `attributes` (`-p`) win. On failure the temporary
   * file is removed.
   *
   * @param attributes What `-p` gives the file (the server's time and bits), if anything.
   * @param newMode The server's bits, for a file that replaces none (see `newFileMode`).
   * @throws {LocalIoError} When the rename fails.
   */
  async commit(
    attributes: ServerAttributes | null = null,
    newMode?: number | null,
  ): Promise<void> {
    try {
      // Renamed while still open (and locked), so no clean-up can take it for a dead one's;
      // Windows cannot rename an open file.
      if (Deno.build.os === "windows") this.#close();
      // A replaced file keeps its permissions: a private file stays private.
      const replaced = this.#libc === null ? modeOf(this.path) : modeAt(this.#libc, this.#at);
      const landed = {
        mtime: attributes?.mtime ?? null,
        mode: attributes?.mode ?? replaced ?? newFileMode(newMode),
      };
      if (this.#libc !== null) this.#landByLibc(this.#libc, landed);
      else this.#landByPath(landed);
    } catch (e) {
      await this.discard();
      throw this.#error(e);
    }
    this.#close();
    this.#release();
  }

  /** Gives the temporary its bits and time on its descriptor, then renames it in its folder. */
  #landByLibc(libc: Libc, attributes: ServerAttributes): void {
    stampFile(this.#file as FdFile, attributes);
    libc.renameat(this.#at.dir, this.#temp, this.#at.dir, this.#at.name);
  }

  #landByPath(attributes: ServerAttributes): void {
    applyServerAttributes(this.tempPath, attributes);
    Deno.renameSync(this.tempPath, this.path);
  }

  /**
   * Closes and removes the temporary file; the final path is left as it
   * was. After a commit, nothing is left to do.
   */
  async discard(): Promise<void> {
    this.#close();
    if (this.#released) return;
    try {
      if (this.#libc !== null) this.#libc.unlinkat(this.#at.dir, this.#temp, 0);
      else await Deno.remove(this.tempPath);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    } finally {
      this.#release();
    }
  }

  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#file.close();
  }

  /** Done with the temporary's folder: its own descriptor (from a tree) is closed. */
  #release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#at.dir !== -100) this.#libc!.close(this.#at.dir);
  }

  #error(e: unknown): unknown {
    return localIoError("write", this.path, e, wording(this.#notFound));
  }
}

function wording(notFound: string | undefined): LocalIoErrorOptions {
  return notFound === undefined ? {} : { notFound };
}
