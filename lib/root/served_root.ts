/**
 * The served folder: the single place where a client's (virtual) paths
 * become host paths, are confined to the root (symlinks included), and where
 * files are read, written atomically, listed, renamed and removed.
 *
 * Error messages name virtual paths only: the host path of the root is
 * never shown to a client.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { dirname, join, sep } from "node:path";
import { RemoteError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import type { Entry, EntryType } from "../protocol/messages.ts";
import { contentKey, HashCache } from "./hash_cache.ts";
import { hashPrefix } from "../transfer/body.ts";
import { baseName, quotePath, RESUME_EXPIRY_HOURS, TEMP_PREFIX } from "./paths.ts";
import {
  createUploadTemporary,
  openResumeTemporary,
  removeUnowned,
  RESUME_TEMP_NAME,
  resumeTemporaryName,
  UPLOAD_TEMP_NAME,
} from "./temporaries.ts";

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
  /** Remembers the hash computed while serving it. */
  remember(sha256: string): void;
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
   * Flushes, renames the temporary file over the target, and remembers the
   * hash. `attributes` (from `put -p`) set the file's modification time and
   * permission bits first.
   */
  commit(sha256: string, attributes?: FileAttributes): Promise<void>;
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

function typeOf(info: Deno.FileInfo): EntryType {
  if (info.isFile) return "file";
  if (info.isDirectory) return "dir";
  if (info.isSymlink) return "link";
  return "other";
}

function entryOf(name: string, info: Deno.FileInfo): Entry {
  return {
    name,
    type: typeOf(info),
    size: info.isFile ? info.size : 0,
    mtime: info.mtime?.getTime() ?? null,
    mode: info.mode === null ? null : info.mode & 0o7777,
  };
}

/** The permission bits a new upload's file is created with. */
const NEW_FILE_MODE = 0o644;

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
function permissionBits(info: Deno.FileInfo | null): number | null {
  if (Deno.build.os === "windows" || !info?.isFile || info.mode === null) return null;
  return info.mode & 0o777;
}

/** What is at `host` (a symlink itself, not its target), or `null` for nothing. */
function lstatOrNull(host: string): Promise<Deno.FileInfo | null> {
  return Deno.lstat(host).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  });
}

/** Flushes a folder's entries (a rename) to disk; a no-op where folders cannot be opened. */
async function syncFolder(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  using folder = await Deno.open(dir, { read: true });
  await folder.sync();
}

/**
 * Turns a file-system error into a typed remote error about `vpath`, or
 * rethrows it when it is not one we expect.
 */
function fsError(e: unknown, vpath: string): RemoteError {
  const p = quotePath(vpath);
  if (e instanceof RemoteError) return e;
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
  #readOnly: boolean;
  #fsync: boolean;
  #resumeExpiryMs: number;
  #hashes: HashCache;

  private constructor(realRoot: string, options: ServedRootOptions) {
    this.#root = realRoot;
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

  #host(vpath: string): string {
    return vpath === "/" ? this.#root : join(this.#root, ...vpath.split("/").filter(Boolean));
  }

  #inside(real: string): boolean {
    return real === this.#root ||
      real.startsWith(this.#root.endsWith(sep) ? this.#root : this.#root + sep);
  }

  /**
   * The real path of `host`, or of its nearest existing ancestor.
   * Synchronous, as nginx resolves and opens files in its event loop: on a
   * local disk each call takes microseconds, where an asynchronous one hops
   * to Deno's I/O pool and back, which dominated a session of many small
   * requests.
   */
  #realOrAncestor(host: string): string {
    let p = host;
    while (true) {
      try {
        return Deno.realPathSync(p);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
        const up = dirname(p);
        if (up === p) throw e;
        p = up;
      }
    }
  }

  /**
   * Maps a virtual path to a host path that is confined to the root.
   * `follow`: the target itself is followed if it is a symlink (reads);
   * otherwise only its parent folder is (the target is the link itself).
   */
  #confine(vpath: string, follow: boolean): string {
    const host = this.#host(vpath);
    if (vpath === "/") return host;
    const escape = () =>
      new RemoteError(
        "BAD_PATH",
        `Refused path ${quotePath(vpath)}: it leads outside the served root`,
      );
    try {
      if (!this.#inside(this.#realOrAncestor(dirname(host)))) throw escape();
      if (follow && !this.#inside(this.#realOrAncestor(host))) throw escape();
    } catch (e) {
      throw fsError(e, vpath);
    }
    return host;
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
  async stat(vpath: string): Promise<Entry> {
    const host = this.#confine(vpath, true);
    try {
      return entryOf(vpath === "/" ? "/" : baseName(vpath), await Deno.stat(host));
    } catch (e) {
      throw fsError(e, vpath);
    }
  }

  /**
   * Lists a folder, sorted by name. bftp's temporary files are left out;
   * a symlink is shown as its target when that is inside the root, and as
   * `link` otherwise.
   *
   * @param vpath A normalized virtual path to a folder.
   * @returns The entries.
   */
  async list(vpath: string): Promise<Entry[]> {
    const host = this.#confine(vpath, true);
    const entries: Entry[] = [];
    try {
      const info = await Deno.stat(host);
      if (!info.isDirectory) {
        throw new RemoteError("NOT_DIR", `${quotePath(vpath)} is not a folder`);
      }
      for await (const d of Deno.readDir(host)) {
        if (d.name.startsWith(TEMP_PREFIX)) continue;
        const child = join(host, d.name);
        let info: Deno.FileInfo;
        try {
          info = await Deno.lstat(child);
          if (info.isSymlink) {
            const real = await Deno.realPath(child).catch(() => null);
            if (real !== null && this.#inside(real)) info = await Deno.stat(child);
          }
        } catch (e) {
          // Removed while we listed it: leave it out.
          if (e instanceof Deno.errors.NotFound) continue;
          throw e;
        }
        entries.push(entryOf(d.name, info));
      }
    } catch (e) {
      throw fsError(e, vpath);
    }
    return entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /**
   * Opens a regular file for reading. Folders, FIFOs and devices are refused
   * before anything is opened (opening a FIFO would block).
   *
   * @param vpath A normalized virtual path.
   * @returns The open file and what is known of it.
   */
  openRead(vpath: string): Promise<OpenedFile> {
    try {
      return Promise.resolve(this.#openRead(vpath));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** {@linkcode ServedRoot.openRead}, done synchronously (see #realOrAncestor). */
  #openRead(vpath: string): OpenedFile {
    const host = this.#confine(vpath, true);
    let file: Deno.FsFile;
    try {
      // Synchronous, as in #realOrAncestor. The stat comes first: opening a FIFO would block.
      const before = Deno.statSync(host);
      if (before.isDirectory) throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
      if (!before.isFile) {
        throw new RemoteError("NOT_REGULAR", `Refused ${quotePath(vpath)}: not a regular file`);
      }
      file = Deno.openSync(host, { read: true });
    } catch (e) {
      throw fsError(e, vpath);
    }
    try {
      const info = file.statSync();
      if (!info.isFile) {
        throw new RemoteError("NOT_REGULAR", `Refused ${quotePath(vpath)}: not a regular file`);
      }
      const key = contentKey(info);
      return {
        file,
        size: info.size,
        mtime: info.mtime?.getTime() ?? null,
        mode: permissionBits(info),
        sha256: this.#hashes.get(key),
        remember: (sha256) => this.#hashes.set(key, sha256),
      };
    } catch (e) {
      file.close();
      throw fsError(e, vpath);
    }
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
      if (bytes === opened.size) opened.remember(sha256);
      return { size: bytes, sha256 };
    } finally {
      opened.file.close();
    }
  }

  /**
   * Checks an upload's target; returns its host path, its folder, and the
   * permission bits of the regular file it would replace (`null`: none).
   */
  async #uploadTarget(
    vpath: string,
    overwrite: boolean,
  ): Promise<{ host: string; parent: string; replaced: number | null }> {
    this.#writable(vpath);
    if (vpath === "/") throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
    const host = this.#confine(vpath, false);
    const parent = dirname(host);
    try {
      const parentInfo = await Deno.stat(parent).catch((e) => {
        if (e instanceof Deno.errors.NotFound) {
          throw new RemoteError("NOT_FOUND", `Folder of ${quotePath(vpath)} does not exist`);
        }
        throw e;
      });
      if (!parentInfo.isDirectory) {
        throw new RemoteError("NOT_DIR", `${quotePath(vpath)}: a part of the path is not a folder`);
      }
      const existing = await lstatOrNull(host);
      if (existing?.isDirectory) throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
      if (existing && !overwrite) {
        throw new RemoteError("EXISTS", `${quotePath(vpath)} already exists`);
      }
      return { host, parent, replaced: permissionBits(existing) };
    } catch (e) {
      throw fsError(e, vpath);
    }
  }

  /**
   * The upload's sink, commit and abort over an open, locked temporary file.
   * The file stays open (so locked: see `temporaries.ts`) until it is renamed
   * into place or removed.
   */
  #uploadOf(file: Deno.FsFile, temp: string, host: string, vpath: string): Upload {
    const parent = dirname(host);
    let closed = false;
    const close = () => {
      if (!closed) {
        closed = true;
        file.close();
      }
    };
    // Removed while still open and locked, so no clean-up takes it for a leftover meanwhile.
    // (Windows cannot remove an open file: closed first there.)
    const discard = async () => {
      if (Deno.build.os === "windows") close();
      await Deno.remove(temp).catch(() => {});
      close();
    };
    return {
      // Synchronous writes: the fast path measured here (async FsFile.write costs ~100 us a call).
      sink: {
        write: (p) => {
          try {
            return Promise.resolve(file.writeSync(p));
          } catch (e) {
            return Promise.reject(fsError(e, vpath));
          }
        },
      },
      commit: async (sha256, attributes = {}) => {
        try {
          if (this.#fsync) await file.syncData();
          // A file that replaces another keeps its permission bits: a private file stays private.
          // Bits the client asked for (put -p) win.
          const replaced = permissionBits(await lstatOrNull(host));
          const mode = attributes.mode ?? replaced;
          if (mode !== null) await Deno.chmod(temp, mode);
          if (attributes.mtime !== undefined) {
            await Deno.utime(temp, new Date(), new Date(attributes.mtime));
          }
          // Renamed while still open, so the stat below is of this upload's file even when
          // another upload replaces the target at once: a stat of the path could be theirs,
          // and would tie this hash to their bytes. (Windows cannot rename an open file:
          // nothing is remembered there.)
          if (Deno.build.os === "windows") close();
          await Deno.rename(temp, host);
          if (this.#fsync) await syncFolder(parent);
          if (!closed) this.#hashes.set(contentKey(await file.stat()), sha256);
          close();
        } catch (e) {
          await discard();
          throw fsError(e, vpath);
        }
      },
      abort: discard,
    };
  }

  /**
   * Starts an upload: checks the target, and creates a temporary file beside it.
   *
   * @param vpath A normalized virtual path of the target file.
   * @param overwrite Whether an existing file may be replaced.
   * @returns The upload.
   */
  async beginUpload(vpath: string, overwrite: boolean): Promise<Upload> {
    const { host, parent, replaced } = await this.#uploadTarget(vpath, overwrite);
    let created: { temp: string; file: Deno.FsFile };
    try {
      created = await createUploadTemporary(parent, temporaryMode(replaced));
    } catch (e) {
      throw fsError(e, vpath);
    }
    return this.#uploadOf(created.file, created.temp, host, vpath);
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
    const { host, parent, replaced } = await this.#uploadTarget(vpath, overwrite);
    await this.#removeExpiredResumes(parent);
    const key = createHash("sha256").update(`${vpath}\n${size}\n${sha256}`).digest("hex");
    const temp = join(parent, resumeTemporaryName(key));
    let file: Deno.FsFile | null;
    try {
      file = await openResumeTemporary(temp, temporaryMode(replaced));
    } catch (e) {
      throw fsError(e, vpath);
    }
    if (file === null) {
      throw new RemoteError("BUSY", `An upload to ${quotePath(vpath)} is in progress already`);
    }
    try {
      const info = await file.stat();
      let offset = info.size;
      if (offset > size || this.#expired(info)) {
        await file.truncate(0);
        offset = 0;
      }
      const prefix = await hashPrefix(file, offset);
      if (prefix.bytes < offset) {
        await file.truncate(prefix.bytes);
        offset = prefix.bytes;
      }
      const upload = this.#uploadOf(file, temp, host, vpath);
      return {
        ...upload,
        offset,
        hash: prefix.hash,
        keep: () => {
          try {
            file.close();
          } catch (e) {
            if (!(e instanceof Deno.errors.BadResource)) throw e;
          }
          return Promise.resolve();
        },
      };
    } catch (e) {
      file.close();
      throw fsError(e, vpath);
    }
  }

  #expired(info: Deno.FileInfo): boolean {
    return info.mtime !== null && Date.now() - info.mtime.getTime() > this.#resumeExpiryMs;
  }

  /**
   * Removes a kept resumable part that has expired and that no upload holds.
   * The cheap stat comes first: a part still within its time is not opened.
   */
  async #removeIfExpired(path: string): Promise<boolean> {
    const info = await Deno.lstat(path).catch(() => null);
    return info !== null && this.#expired(info) &&
      await removeUnowned(path, (i) => this.#expired(i));
  }

  /** Removes the expired resumable uploads of one folder that no upload holds. */
  async #removeExpiredResumes(dir: string): Promise<void> {
    try {
      for await (const d of Deno.readDir(dir)) {
        if (d.isFile && RESUME_TEMP_NAME.test(d.name)) {
          await this.#removeIfExpired(join(dir, d.name));
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied)) {
        throw e;
      }
    }
  }

  /**
   * Removes a file (not a folder; a symlink itself, not its target).
   *
   * @param vpath A normalized virtual path.
   */
  async remove(vpath: string): Promise<void> {
    this.#writable(vpath);
    const host = this.#confine(vpath, false);
    try {
      if (vpath === "/" || (await Deno.lstat(host)).isDirectory) {
        throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder: use rmdir`);
      }
      await Deno.remove(host);
    } catch (e) {
      throw fsError(e, vpath);
    }
  }

  /**
   * Makes a folder.
   *
   * @param vpath A normalized virtual path.
   * @param parents Make missing parents too, and accept an existing folder.
   */
  async mkdir(vpath: string, parents: boolean): Promise<void> {
    this.#writable(vpath);
    if (vpath === "/") {
      if (parents) return;
      throw new RemoteError("EXISTS", `${quotePath(vpath)} already exists`);
    }
    const host = this.#confine(vpath, false);
    try {
      if (parents) {
        const existing = await Deno.stat(host).catch(() => null);
        if (existing && !existing.isDirectory) {
          throw new RemoteError("EXISTS", `${quotePath(vpath)} already exists and is not a folder`);
        }
      }
      await Deno.mkdir(host, { recursive: parents });
    } catch (e) {
      throw fsError(e, vpath);
    }
  }

  /**
   * Removes an empty folder.
   *
   * @param vpath A normalized virtual path.
   */
  async rmdir(vpath: string): Promise<void> {
    this.#writable(vpath);
    if (vpath === "/") throw new RemoteError("DENIED", "Cannot remove the served root");
    const host = this.#confine(vpath, false);
    try {
      if (!(await Deno.lstat(host)).isDirectory) {
        throw new RemoteError("NOT_DIR", `${quotePath(vpath)} is not a folder`);
      }
      await Deno.remove(host);
    } catch (e) {
      throw fsError(e, vpath);
    }
  }

  /**
   * Renames or moves a file or folder within the root. An existing file at
   * `to` is replaced, as `mv` does; an existing folder is not.
   *
   * @param from A normalized virtual path.
   * @param to A normalized virtual path.
   */
  async rename(from: string, to: string): Promise<void> {
    this.#writable(from);
    if (from === "/" || to === "/") throw new RemoteError("DENIED", "Cannot move the served root");
    if (to === from || to.startsWith(from + "/")) {
      throw new RemoteError("BAD_PATH", `Cannot move ${quotePath(from)} into itself`);
    }
    const src = this.#confine(from, false);
    const dst = this.#confine(to, false);
    try {
      await Deno.lstat(src);
    } catch (e) {
      throw fsError(e, from);
    }
    try {
      const target = await Deno.lstat(dst).catch(() => null);
      if (target?.isDirectory) throw new RemoteError("EXISTS", `${quotePath(to)} already exists`);
      await Deno.rename(src, dst);
    } catch (e) {
      throw fsError(e, to);
    }
  }

  /**
   * Removes temporary files left by uploads that never finished (a crash),
   * anywhere under the root. Symlinks are not followed. Only files named
   * exactly as the server names them (`.bftp-tmp-<UUID>.part`,
   * `.bftp-tmp-resume-<SHA-256>.part`) and that no process holds locked are
   * removed: another server's upload in progress on the same folder stays,
   * and so does a user's file that merely starts with `.bftp-tmp-`.
   * Interrupted resumable uploads are kept until they expire.
   *
   * @returns How many were removed.
   */
  async cleanTemporaries(): Promise<number> {
    let removed = 0;
    const walk = async (dir: string, depth: number): Promise<void> => {
      if (depth > 64) return;
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return;
        throw e;
      }
      for (const d of entries) {
        const p = join(dir, d.name);
        if (d.isFile && UPLOAD_TEMP_NAME.test(d.name)) {
          if (await removeUnowned(p)) removed++;
        } else if (d.isFile && RESUME_TEMP_NAME.test(d.name)) {
          if (await this.#removeIfExpired(p)) removed++;
        } else if (d.isDirectory && !d.isSymlink) {
          await walk(p, depth + 1);
        }
      }
    };
    await walk(this.#root, 0);
    return removed;
  }
}
