/**
 * The served folder: the single place where a client's (virtual) paths
 * become files and folders beneath the root, and where files are read,
 * written atomically, listed, renamed and removed.
 *
 * Every operation resolves its path beneath the root with the operation
 * itself ({@linkcode Beneath}: one name at a time from an open folder, links
 * followed only while they stay inside), then acts relative to the folder
 * it found (`openat`, `renameat`, `unlinkat`, `mkdirat` on Linux): a folder
 * swapped for a link to the outside at any moment is refused, never
 * followed. Elsewhere the same rules are checked by path just before each
 * call (see docs/SECURITY.md).
 *
 * Error messages name virtual paths only: the host path of the root is
 * never shown to a client.
 *
 * @module
 */

import { LocalIoError, RemoteError } from "../errors.ts";
import type { Entry } from "./entry.ts";
import { hashPrefix } from "../file_hash.ts";
import { Beneath, type Resolved } from "./beneath.ts";
import { cleanTemporaries } from "./cleanup.ts";
import { openBackend } from "./fd_backend.ts";
import {
  type Confined,
  entryOf,
  listFolder,
  makeFolder,
  move,
  removeFile,
  removeFolder,
  splitPath,
} from "./namespace.ts";
import { about, fsError, permissionBits, promised, statOrNull } from "./fs_errors.ts";
import { contentKey, HashCache, settled } from "./hash_cache.ts";
import { baseName, quotePath, RESUME_EXPIRY_HOURS } from "./paths.ts";
import type { Ref, TreeBackend } from "./tree_backend.ts";
import {
  type ResumableUpload,
  startResumableUpload,
  startUpload,
  type Upload,
  type UploadTarget,
} from "./uploads.ts";

export type { FileAttributes, ResumableUpload, Upload } from "./uploads.ts";

/** Options for {@linkcode ServedRoot.open}. */
export interface ServedRootOptions {
  /**
   * Refuse every request that would change something.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Flush uploads to disk (fdatasync) before they are renamed into place.
   *
   * @default {true}
   */
  fsync?: boolean;
  /**
   * Hours an interrupted resumable upload is kept after its last byte.
   *
   * @default {24}
   */
  resumeExpiryHours?: number;
  /**
   * The cache of known file hashes; workers of one pool pass one that
   * shares what it learns with the others.
   *
   * @default {new HashCache()}
   */
  hashCache?: HashCache;
}

/** A file opened for reading by {@linkcode ServedRoot.openRead}. */
export interface OpenedFile {
  /** The open file; the caller closes it. */
  file: Deno.FsFile;
  /** Its size when opened. */
  size: number;
  /** Its modification time (ms since the epoch), or `null`. */
  mtime: number | null;
  /** Its permission bits (0 to 0o777), or `null` where there are none. */
  mode: number | null;
  /** Its SHA-256 when already known. */
  sha256: string | undefined;
  /** Remembers the hash computed while serving it (if the file had settled when opened). */
  remember(sha256: string): void;
  /**
   * Whether the file is still the version it was when opened (same size
   * and times): a remembered `sha256` vouches for the bytes read only then.
   */
  unchanged(): boolean;
  /**
   * Whether the remembered `sha256` still vouches for the file's bytes:
   * unchanged, or, when only its status moved (it was renamed, or unlinked
   * by an upload replacing it), its whole content read again from the open
   * file still has that hash and the file stayed still meanwhile.
   */
  stillMatches(sha256: string): Promise<boolean>;
  /** Closes the file. */
  close(): void;
}

/** The longest host path the system takes, with its terminating NUL (Linux's `PATH_MAX`). */
const HOST_PATH_MAX = 4096;

const encoder = new TextEncoder();

/**
 * A folder served to clients.
 *
 * @example
 * ```ts
 * import { ServedRoot } from "./served_root.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 *   const root = await ServedRoot.open(dir);
 *   const entry = await root.stat("/a.txt");
 *   deepEqual(entry.size, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class ServedRoot {
  #root: string;
  #fs: TreeBackend;
  #beneath: Beneath;
  #readOnly: boolean;
  #fsync: boolean;
  #resumeExpiryMs: number;
  #hashes: HashCache;

  private constructor(realRoot: string, options: ServedRootOptions) {
    this.#root = realRoot;
    this.#fs = openBackend(realRoot);
    this.#beneath = new Beneath(this.#fs, realRoot);
    this.#hashes = options.hashCache ?? new HashCache();
    this.#readOnly = options.readOnly ?? false;
    this.#fsync = options.fsync ?? true;
    this.#resumeExpiryMs = (options.resumeExpiryHours ?? RESUME_EXPIRY_HOURS) * 3600_000;
  }

  /**
   * Opens a folder for serving.
   *
   * @param dir The folder.
   * @param options Read-only, fsync.
   * @returns The served root.
   * @throws {LocalIoError} when `dir` is missing or not a folder (a local
   * mistake: exit 3, not a remote not-found).
   */
  static async open(dir: string, options: ServedRootOptions = {}): Promise<ServedRoot> {
    let real: string;
    try {
      real = await Deno.realPath(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        const q = quotePath(dir);
        throw new LocalIoError(`Cannot serve ${q}: no such folder (create it with: mkdir -p ${q})`);
      }
      throw e;
    }
    if (!(await Deno.stat(real)).isDirectory) {
      throw new LocalIoError(`Cannot serve ${quotePath(dir)}: not a folder`);
    }
    return new ServedRoot(real, options);
  }

  /** Whether changes are refused. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** The host path, for the server's own log and start-up line only. */
  get hostPath(): string {
    return this.#root;
  }

  /**
   * Whether every operation is confined atomically (descriptor-relative
   * calls: Linux), rather than checked by path just before it.
   */
  get atomicConfinement(): boolean {
    return this.#fs.atomic;
  }

  /**
   * Resolves `vpath` beneath the root: with `follow`, opens what it names
   * (following links that stay inside); otherwise finds the folder that
   * holds its last name.
   */
  #resolve(vpath: string, follow: boolean): Resolved {
    this.#checkLength(vpath);
    return about(vpath, () => this.#beneath.resolve(splitPath(vpath), follow));
  }

  /** The tree and its resolver, for the namespace operations. */
  get #confined(): Confined {
    return { fs: this.#fs, beneath: this.#beneath, resolve: (v, f) => this.#resolve(v, f) };
  }

  /**
   * Refuses a path whose host path would be longer than the system takes
   * (`PATH_MAX`): one name at a time, a tree could be built deeper than any
   * other program could then reach.
   */
  #checkLength(vpath: string): void {
    if (encoder.encode(this.#root).length + encoder.encode(vpath).length >= HOST_PATH_MAX) {
      throw new RemoteError(
        "BAD_PATH",
        `Refused path ${quotePath(vpath)}: name too long for the server`,
      );
    }
  }

  #writable(vpath: string): void {
    if (this.#readOnly) {
      throw new RemoteError("DENIED", `Cannot change ${quotePath(vpath)}: the server is read-only`);
    }
  }

  /**
   * Describes a file or folder (symlinks inside the root are followed).
   *
   * @param vpath A normalized virtual path.
   * @returns The entry.
   */
  stat(vpath: string): Promise<Entry> {
    return promised(() => {
      using found = this.#resolve(vpath, true);
      return entryOf(vpath === "/" ? "/" : baseName(vpath), found.target!.stat);
    });
  }

  /**
   * Lists a folder, sorted by name. bftp's temporary files are left out;
   * a symlink is shown as its target when that is inside the root, and as
   * `link` otherwise.
   *
   * @param vpath A normalized virtual path to a folder.
   * @returns The entries.
   */
  list(vpath: string): Promise<Entry[]> {
    return promised(() => listFolder(this.#confined, vpath));
  }

  /**
   * Opens a regular file for reading. Folders, FIFOs and devices are refused
   * before anything is opened (opening a FIFO would block).
   *
   * @param vpath A normalized virtual path.
   * @returns The open file and what is known of it.
   */
  openRead(vpath: string): Promise<OpenedFile> {
    return promised(() => this.#openRead(vpath));
  }

  /**
   * {@linkcode ServedRoot.openRead}, done synchronously, as nginx opens
   * files in its event loop: on a local disk each call takes microseconds,
   * where an asynchronous one hops to Deno's I/O pool and back.
   */
  #openRead(vpath: string): OpenedFile {
    const openedAt = Date.now();
    using found = this.#resolve(vpath, true);
    const { ref, stat } = found.target!;
    if (stat.type === "dir") throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
    if (stat.type !== "file") {
      throw new RemoteError("NOT_REGULAR", `Refused ${quotePath(vpath)}: not a regular file`);
    }
    // The descriptor names the very file checked above: it is opened, not its name again.
    const file = about(vpath, () => this.#fs.openFile(ref));
    const kept = found.keep(ref);
    const key = contentKey(stat);
    return {
      file,
      size: stat.size,
      mtime: stat.mtimeNs === null ? null : Number(stat.mtimeNs / 1_000_000n),
      mode: permissionBits(stat),
      sha256: this.#hashes.get(key),
      remember: (sha256) => {
        if (settled(stat, openedAt)) this.#hashes.set(key, sha256);
      },
      unchanged: () => key !== null && contentKey(this.#fs.stat(kept)) === key,
      stillMatches: (sha256) => this.#stillMatches(file, kept, key, sha256),
      close: () => {
        file.close();
        this.#fs.release(kept);
      },
    };
  }

  async #stillMatches(file: Deno.FsFile, ref: Ref, key: string | null, sha256: string) {
    if (key === null) return false;
    const before = contentKey(this.#fs.stat(ref));
    if (before === key) return true;
    const size = this.#fs.stat(ref).size;
    await file.seek(0, Deno.SeekMode.Start);
    const again = await hashPrefix(file, size);
    return again.bytes === size && again.hash.digest("hex") === sha256 &&
      contentKey(this.#fs.stat(ref)) === before;
  }

  /**
   * The SHA-256 of a file: remembered, or computed by reading it once.
   *
   * @param vpath A normalized virtual path.
   * @returns Size and hash.
   */
  async hash(vpath: string): Promise<{ size: number; sha256: string }> {
    const opened = await this.openRead(vpath);
    try {
      if (opened.sha256 !== undefined) return { size: opened.size, sha256: opened.sha256 };
      const { hash, bytes } = await hashPrefix(opened.file, opened.size);
      const sha256 = hash.digest("hex");
      if (bytes === opened.size && opened.unchanged()) opened.remember(sha256);
      return { size: bytes, sha256 };
    } finally {
      opened.close();
    }
  }

  /**
   * Checks an upload's target: resolves its folder, and finds the
   * permission bits of the regular file it would replace (`null`: none).
   */
  #uploadTarget(vpath: string, overwrite: boolean): UploadTarget {
    this.#writable(vpath);
    if (vpath === "/") throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
    this.#checkLength(vpath);
    let at: Resolved;
    try {
      at = this.#beneath.resolve(splitPath(vpath), false);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new RemoteError("NOT_FOUND", `Folder of ${quotePath(vpath)} does not exist`);
      }
      throw fsError(e, vpath);
    }
    try {
      const existing = about(vpath, () => statOrNull(this.#fs, at.dir, at.name));
      if (existing?.type === "dir") {
        throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
      }
      if (existing && !overwrite) {
        throw new RemoteError("EXISTS", `${quotePath(vpath)} already exists`);
      }
      return { fs: this.#fs, at, vpath, replaced: permissionBits(existing), fsync: this.#fsync };
    } catch (e) {
      at[Symbol.dispose]();
      throw e;
    }
  }

  /**
   * Starts an upload: checks the target, and creates a temporary file beside it.
   *
   * @param vpath A normalized virtual path of the target file.
   * @param overwrite Whether an existing file may be replaced.
   * @returns The upload.
   */
  beginUpload(vpath: string, overwrite: boolean): Promise<Upload> {
    return promised(() => startUpload(this.#uploadTarget(vpath, overwrite)));
  }

  /**
   * Starts or continues a resumable upload. Its bytes go to
   * `.bftp-tmp-resume-<key>.part` beside the target, where the key is the
   * SHA-256 of the target's path, the size and the whole content's SHA-256:
   * the same upload asked again finds what earlier attempts left, and a
   * different content (another size or hash) never continues it. A file
   * left longer than the expiry time, or longer than `size`, starts over.
   *
   * @param vpath A normalized virtual path of the target file.
   * @param size The whole file's size.
   * @param sha256 The whole file's SHA-256, lowercase hex.
   * @param overwrite Whether an existing file may be replaced.
   * @returns The upload, with the offset to continue from.
   * @throws {RemoteError} BUSY when another session is uploading the same content now.
   */
  beginResumableUpload(
    vpath: string,
    size: number,
    sha256: string,
    overwrite: boolean,
  ): Promise<ResumableUpload> {
    const target = this.#uploadTarget(vpath, overwrite);
    return startResumableUpload(target, size, sha256, this.#resumeExpiryMs);
  }

  /**
   * Removes a file (not a folder; a symlink itself, not its target).
   *
   * @param vpath A normalized virtual path.
   */
  remove(vpath: string): Promise<void> {
    return promised(() => {
      this.#writable(vpath);
      removeFile(this.#confined, vpath);
    });
  }

  /**
   * Makes a folder.
   *
   * @param vpath A normalized virtual path.
   * @param parents Make missing parents too, and accept an existing folder.
   */
  mkdir(vpath: string, parents: boolean): Promise<void> {
    return promised(() => {
      this.#writable(vpath);
      this.#checkLength(vpath);
      makeFolder(this.#confined, vpath, parents);
    });
  }

  /**
   * Removes an empty folder.
   *
   * @param vpath A normalized virtual path.
   */
  rmdir(vpath: string): Promise<void> {
    return promised(() => {
      this.#writable(vpath);
      removeFolder(this.#confined, vpath);
    });
  }

  /**
   * Renames or moves a file or folder within the root. An existing file at
   * `to` is replaced, as `mv` does; an existing folder is not, and a folder
   * does not replace a file.
   *
   * @param from A normalized virtual path.
   * @param to A normalized virtual path.
   */
  rename(from: string, to: string): Promise<void> {
    return promised(() => {
      this.#writable(from);
      move(this.#confined, from, to);
    });
  }

  /**
   * Removes temporary files left by uploads that never finished (a crash),
   * anywhere under the root. Links are not followed. Only files named
   * exactly as the server names them (`.bftp-tmp-<UUID>.part`,
   * `.bftp-tmp-resume-<SHA-256>.part`) and that no process holds locked are
   * removed: another server's upload in progress on the same folder stays,
   * and so does a user's file that merely starts with `.bftp-tmp-`.
   * Interrupted resumable uploads are kept until they expire.
   *
   * @returns How many were removed.
   */
  cleanTemporaries(): Promise<number> {
    return promised(() => cleanTemporaries(this.#fs, this.#resumeExpiryMs));
  }
}
