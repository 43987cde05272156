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

import { createHash, type Hash } from "node:crypto";
import { RemoteError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import type { Entry } from "../protocol/messages.ts";
import { Beneath, OutsideRoot, type Resolved, TooDeep } from "./beneath.ts";
import { openBackend } from "./fd_backend.ts";
import { contentKey, HashCache, settled } from "./hash_cache.ts";
import { hashPrefix } from "../transfer/body.ts";
import { baseName, quotePath, RESUME_EXPIRY_HOURS, TEMP_PREFIX } from "./paths.ts";
import {
  createUploadTemporary,
  type LockedTemporary,
  openResumeTemporary,
  removeUnowned,
  RESUME_TEMP_NAME,
  resumeTemporaryName,
  UPLOAD_TEMP_NAME,
} from "./temporaries.ts";
import type { FsStat, Ref, TreeBackend } from "./tree_backend.ts";

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
  /** Closes the file. */
  close(): void;
}

/** What an upload may ask the stored file to keep from its source (`put -p`). */
export interface FileAttributes {
  /** The modification time, ms since the epoch. */
  mtime?: number | undefined;
  /** The permission bits, 0 to 0o777. */
  mode?: number | undefined;
}

/** An upload in progress: bytes go to a temporary file beside the target. */
export interface Upload {
  /** Where the body's bytes go. */
  sink: ByteWriter;
  /**
   * Flushes and renames the temporary file over the target. `attributes`
   * (from `put -p`) set the file's modification time and permission bits
   * first. (Its hash is not remembered: a file that new has not settled,
   * see `hash_cache.ts`.)
   */
  commit(attributes?: FileAttributes): Promise<void>;
  /** Removes the temporary file; the target is untouched. */
  abort(): Promise<void>;
}

/**
 * A resumable upload: its bytes go to a file named after the target, the
 * size and the content hash, which outlives a cut connection so that the
 * same upload, asked again, continues where it stopped.
 */
export interface ResumableUpload extends Upload {
  /** Bytes already received by earlier attempts: the body continues from here. */
  offset: number;
  /** A SHA-256 already fed with those bytes. */
  hash: Hash;
  /** Closes the file and keeps it for a later resume (the connection broke). */
  keep(): Promise<void>;
}

function entryOf(name: string, stat: FsStat): Entry {
  return {
    name,
    type: stat.type,
    size: stat.type === "file" ? stat.size : 0,
    mtime: stat.mtimeNs === null ? null : Number(stat.mtimeNs / 1_000_000n),
    mode: stat.mode,
  };
}

/** The permission bits a new upload's file is created with. */
const NEW_FILE_MODE = 0o644;

/** The longest host path the system takes, with its terminating NUL (Linux's `PATH_MAX`). */
const HOST_PATH_MAX = 4096;

const encoder = new TextEncoder();

/** Folder levels the start-up clean-up descends at most. */
const MAX_CLEAN_DEPTH = 64;

/**
 * The permission bits an upload's temporary file is created with: the
 * default for a new file; for one that replaces a file, no more for group
 * and others than that file gives them (its exact bits are set at commit).
 */
function temporaryMode(replaced: number | null): number {
  return replaced === null ? NEW_FILE_MODE : replaced | 0o600;
}

/**
 * The permission bits (read, write, execute for owner, group, others; not
 * set-user-ID and the like) of a regular file, or `null` for anything else,
 * nothing, or on Windows.
 */
function permissionBits(stat: FsStat | null): number | null {
  if (Deno.build.os === "windows" || stat?.type !== "file" || stat.mode === null) return null;
  return stat.mode & 0o777;
}

/** What is at `name` in `dir` (a link itself), or `null` for nothing. */
function statOrNull(fs: TreeBackend, dir: Ref, name: string): FsStat | null {
  try {
    return fs.statAt(dir, name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function splitPath(vpath: string): string[] {
  return vpath.split("/").filter(Boolean);
}

/**
 * Turns a file-system error into a typed remote error about `vpath`, or
 * rethrows it when it is not one we expect.
 */
function fsError(e: unknown, vpath: string): RemoteError {
  const p = quotePath(vpath);
  if (e instanceof RemoteError) return e;
  if (e instanceof OutsideRoot) {
    return new RemoteError("BAD_PATH", `Refused path ${p}: it leads outside the served root`);
  }
  if (e instanceof TooDeep) {
    return new RemoteError("BAD_PATH", `Refused path ${p}: ${e.message.toLowerCase()}`);
  }
  if (e instanceof Deno.errors.NotFound) return new RemoteError("NOT_FOUND", `${p} not found`);
  if (e instanceof Deno.errors.AlreadyExists) {
    return new RemoteError("EXISTS", `${p} already exists`);
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new RemoteError("DENIED", `${p}: permission denied`);
  }
  if (e instanceof Deno.errors.NotADirectory) {
    return new RemoteError("NOT_DIR", `${p}: a part of the path is not a folder`);
  }
  if (e instanceof Deno.errors.IsADirectory) {
    return new RemoteError("IS_DIR", `${p} is a folder`);
  }
  if (e instanceof Deno.errors.FilesystemLoop) {
    return new RemoteError("BAD_PATH", `Refused path ${p}: too many symbolic links`);
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new RemoteError("NO_SPACE", `No space left on the server for ${p}`);
  }
  if (code === "ENOTEMPTY") return new RemoteError("NOT_EMPTY", `Folder ${p} is not empty`);
  if (code === "EINVAL") return new RemoteError("BAD_PATH", `Refused path ${p}: invalid move`);
  if (code === "ENAMETOOLONG") {
    return new RemoteError("BAD_PATH", `Refused path ${p}: name too long for the server`);
  }
  throw e;
}

/** Runs `fn`, turning a file-system error into a remote error about `vpath`. */
function about<T>(vpath: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fsError(e, vpath);
  }
}

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
   * @throws {RemoteError} NOT_FOUND or NOT_DIR when `dir` is not a folder.
   */
  static async open(dir: string, options: ServedRootOptions = {}): Promise<ServedRoot> {
    let real: string;
    try {
      real = await Deno.realPath(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new RemoteError("NOT_FOUND", `Cannot serve ${quotePath(dir)}: not found`);
      }
      throw e;
    }
    if (!(await Deno.stat(real)).isDirectory) {
      throw new RemoteError("NOT_DIR", `Cannot serve ${quotePath(dir)}: not a folder`);
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
    return promised(() => this.#list(vpath));
  }

  #list(vpath: string): Entry[] {
    using found = this.#resolve(vpath, true);
    const folder = found.target!;
    if (folder.stat.type !== "dir") {
      throw new RemoteError("NOT_DIR", `${quotePath(vpath)} is not a folder`);
    }
    const entries: Entry[] = [];
    for (const name of about(vpath, () => this.#fs.readDir(folder.ref))) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      // Removed while we listed it: left out.
      const stat = about(vpath, () => statOrNull(this.#fs, folder.ref, name));
      if (stat !== null) entries.push(entryOf(name, this.#linkTarget(stat, name, found)));
    }
    return entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** What a listed link leads to when that is inside the root; the link itself otherwise. */
  #linkTarget(stat: FsStat, name: string, folder: Resolved): FsStat {
    if (stat.type !== "link") return stat;
    try {
      using target = this.#beneath.resolve([name], true, folder.stack);
      return target.target!.stat;
    } catch (e) {
      if (
        e instanceof OutsideRoot || e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.FilesystemLoop || e instanceof Deno.errors.NotADirectory ||
        e instanceof Deno.errors.PermissionDenied
      ) return stat;
      throw e;
    }
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
      close: () => {
        file.close();
        this.#fs.release(kept);
      },
    };
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
  #uploadTarget(vpath: string, overwrite: boolean): { at: Resolved; replaced: number | null } {
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
      return { at, replaced: permissionBits(existing) };
    } catch (e) {
      at[Symbol.dispose]();
      throw e;
    }
  }

  /**
   * The upload's sink, commit and abort over an open, locked temporary file
   * in the target's folder `at`. The file stays open (so locked: see
   * `temporaries.ts`) until it is renamed into place or removed; `release`
   * closes it and the folder, and keeps the file (a cut resumable upload).
   */
  #uploadOf(temp: LockedTemporary, at: Resolved, vpath: string): Upload & { release(): void } {
    const fs = this.#fs;
    let fileOpen = true;
    let released = false;
    const closeFile = () => {
      if (fileOpen) {
        fileOpen = false;
        temp.file.close();
      }
    };
    const release = () => {
      closeFile();
      if (!released) {
        released = true;
        fs.release(temp.ref);
        at[Symbol.dispose]();
      }
    };
    // Removed while still open and locked, so no clean-up takes it for a leftover meanwhile.
    // (Windows cannot remove an open file: closed first there.)
    const discard = () => {
      if (Deno.build.os === "windows") closeFile();
      try {
        fs.unlinkAt(at.dir, temp.name, false);
      } catch (e) {
        if (!(e instanceof Error)) throw e;
      }
      release();
      return Promise.resolve();
    };
    return {
      // Synchronous writes: the fast path measured here (async FsFile.write costs ~100 us a call).
      sink: {
        write: (p) => {
          try {
            return Promise.resolve(temp.file.writeSync(p));
          } catch (e) {
            return Promise.reject(fsError(e, vpath));
          }
        },
      },
      commit: async (attributes = {}) => {
        try {
          if (this.#fsync) await temp.file.syncData();
          // A file that replaces another keeps its permission bits: a private file stays private.
          // Bits the client asked for (put -p) win.
          const mode = attributes.mode ?? permissionBits(statOrNull(fs, at.dir, at.name));
          if (mode !== null) fs.chmodAt(at.dir, temp.name, mode);
          if (attributes.mtime !== undefined) {
            temp.file.utimeSync(new Date(), new Date(attributes.mtime));
          }
          if (Deno.build.os === "windows") closeFile();
          fs.renameAt(at.dir, temp.name, at.dir, at.name);
          if (this.#fsync) await fs.syncDir(at.dir);
          release();
        } catch (e) {
          await discard();
          throw fsError(e, vpath);
        }
      },
      abort: discard,
      release,
    };
  }

  /**
   * Starts an upload: checks the target, and creates a temporary file beside it.
   *
   * @param vpath A normalized virtual path of the target file.
   * @param overwrite Whether an existing file may be replaced.
   * @returns The upload.
   */
  beginUpload(vpath: string, overwrite: boolean): Promise<Upload> {
    return promised(() => {
      const { at, replaced } = this.#uploadTarget(vpath, overwrite);
      let temp: LockedTemporary;
      try {
        temp = createUploadTemporary(this.#fs, at.dir, temporaryMode(replaced));
      } catch (e) {
        at[Symbol.dispose]();
        throw fsError(e, vpath);
      }
      return this.#uploadOf(temp, at, vpath);
    });
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
  async beginResumableUpload(
    vpath: string,
    size: number,
    sha256: string,
    overwrite: boolean,
  ): Promise<ResumableUpload> {
    const { at, replaced } = this.#uploadTarget(vpath, overwrite);
    let upload: (Upload & { release(): void }) | undefined;
    try {
      this.#removeExpiredResumes(at.dir);
      const key = createHash("sha256").update(`${vpath}\n${size}\n${sha256}`).digest("hex");
      const temp = about(
        vpath,
        () =>
          openResumeTemporary(this.#fs, at.dir, resumeTemporaryName(key), temporaryMode(replaced)),
      );
      if (temp === null) {
        throw new RemoteError("BUSY", `An upload to ${quotePath(vpath)} is in progress already`);
      }
      upload = this.#uploadOf(temp, at, vpath);
      let offset = this.#fs.stat(temp.ref).size;
      if (offset > size || this.#expired(this.#fs.stat(temp.ref))) {
        temp.file.truncateSync(0);
        offset = 0;
      }
      const prefix = await hashPrefix(temp.file, offset);
      if (prefix.bytes < offset) {
        temp.file.truncateSync(prefix.bytes);
        offset = prefix.bytes;
      }
      const release = upload.release;
      return {
        ...upload,
        offset,
        hash: prefix.hash,
        keep: () => Promise.resolve(release()),
      };
    } catch (e) {
      if (upload) upload.release();
      else at[Symbol.dispose]();
      throw fsError(e, vpath);
    }
  }

  #expired(stat: FsStat): boolean {
    return stat.mtimeNs !== null &&
      Date.now() - Number(stat.mtimeNs / 1_000_000n) > this.#resumeExpiryMs;
  }

  /**
   * Removes a kept resumable part that has expired and that no upload holds.
   * The cheap stat comes first: a part still within its time is not opened.
   */
  #removeIfExpired(dir: Ref, name: string): boolean {
    const stat = statOrNull(this.#fs, dir, name);
    return stat?.type === "file" && this.#expired(stat) &&
      removeUnowned(this.#fs, dir, name, (s) => this.#expired(s));
  }

  /** Removes the expired resumable uploads of one folder that no upload holds. */
  #removeExpiredResumes(dir: Ref): void {
    for (const name of this.#fs.readDir(dir)) {
      if (RESUME_TEMP_NAME.test(name)) this.#removeIfExpired(dir, name);
    }
  }

  /**
   * Removes a file (not a folder; a symlink itself, not its target).
   *
   * @param vpath A normalized virtual path.
   */
  remove(vpath: string): Promise<void> {
    return promised(() => {
      this.#writable(vpath);
      const isDir = () => new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder: use rmdir`);
      if (vpath === "/") throw isDir();
      using at = this.#resolve(vpath, false);
      try {
        this.#fs.unlinkAt(at.dir, at.name, false);
      } catch (e) {
        if (e instanceof Deno.errors.IsADirectory) throw isDir();
        throw fsError(e, vpath);
      }
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
      if (vpath === "/") {
        if (parents) return;
        throw new RemoteError("EXISTS", `${quotePath(vpath)} already exists`);
      }
      if (!parents) {
        using at = this.#resolve(vpath, false);
        return about(vpath, () => this.#fs.mkdirAt(at.dir, at.name));
      }
      this.#checkLength(vpath);
      about(vpath, () => this.#mkdirParents(splitPath(vpath), vpath));
    });
  }

  /** `mkdir -p`: one walk down, each missing folder made from the one above it. */
  #mkdirParents(parts: string[], vpath: string): void {
    const held: Resolved[] = [];
    try {
      let stack: readonly Ref[] = [this.#fs.root];
      for (const [i, name] of parts.entries()) {
        const step = () => this.#beneath.resolve([name], true, stack);
        let found: Resolved;
        try {
          found = step();
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
          try {
            this.#fs.mkdirAt(stack[stack.length - 1]!, name);
          } catch (e) {
            if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
          }
          found = step();
        }
        held.push(found);
        if (found.target!.stat.type !== "dir") {
          throw i === parts.length - 1
            ? new RemoteError("EXISTS", `${quotePath(vpath)} already exists and is not a folder`)
            : new Deno.errors.NotADirectory("A part of the path is not a folder");
        }
        stack = found.stack;
      }
    } finally {
      for (const found of held) found[Symbol.dispose]();
    }
  }

  /**
   * Removes an empty folder.
   *
   * @param vpath A normalized virtual path.
   */
  rmdir(vpath: string): Promise<void> {
    return promised(() => {
      this.#writable(vpath);
      if (vpath === "/") throw new RemoteError("DENIED", "Cannot remove the served root");
      using at = this.#resolve(vpath, false);
      try {
        this.#fs.unlinkAt(at.dir, at.name, true);
      } catch (e) {
        if (e instanceof Deno.errors.NotADirectory) {
          throw new RemoteError("NOT_DIR", `${quotePath(vpath)} is not a folder`);
        }
        throw fsError(e, vpath);
      }
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
      if (from === "/" || to === "/") {
        throw new RemoteError("DENIED", "Cannot move the served root");
      }
      if (to === from || to.startsWith(from + "/")) {
        throw new RemoteError("BAD_PATH", `Cannot move ${quotePath(from)} into itself`);
      }
      using src = this.#resolve(from, false);
      using dst = this.#resolve(to, false);
      const moved = about(from, () => this.#fs.statAt(src.dir, src.name));
      about(to, () => {
        const target = statOrNull(this.#fs, dst.dir, dst.name);
        if (target?.type === "dir") {
          throw new RemoteError("EXISTS", `${quotePath(to)} already exists`);
        }
        if (target !== null && moved.type === "dir") {
          throw new RemoteError("EXISTS", `${quotePath(to)} already exists and is not a folder`);
        }
        this.#fs.renameAt(src.dir, src.name, dst.dir, dst.name);
      });
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
    return promised(() => this.#clean(this.#fs.root, 0));
  }

  #clean(dir: Ref, depth: number): number {
    if (depth > MAX_CLEAN_DEPTH) return 0;
    let removed = 0;
    let names: string[];
    try {
      names = this.#fs.readDir(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return 0;
      throw e;
    }
    for (const name of names) {
      if (UPLOAD_TEMP_NAME.test(name)) {
        if (removeUnowned(this.#fs, dir, name)) removed++;
      } else if (RESUME_TEMP_NAME.test(name)) {
        if (this.#removeIfExpired(dir, name)) removed++;
      } else if (statOrNull(this.#fs, dir, name)?.type === "dir") {
        removed += this.#cleanBelow(dir, name, depth);
      }
    }
    return removed;
  }

  /** Cleans the folder `name` in `dir`, opened without following a link swapped in meanwhile. */
  #cleanBelow(dir: Ref, name: string, depth: number): number {
    let sub: Ref;
    try {
      sub = this.#fs.openNoFollow(dir, name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return 0;
      throw e;
    }
    try {
      return this.#fs.stat(sub).type === "dir" ? this.#clean(sub, depth + 1) : 0;
    } finally {
      this.#fs.release(sub);
    }
  }
}

/** Runs `fn` now; its result or error as a promise. */
function promised<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}
