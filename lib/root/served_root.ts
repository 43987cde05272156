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
 * This class is the served root's one door; each job lives in its own
 * module: confinement (confined.ts, beneath.ts), reads (reads.ts), atomic
 * and resumable uploads (uploads.ts, temporaries.ts), namespace operations
 * (namespace.ts) and the clean-up of leftovers (cleanup.ts).
 *
 * @module
 */

import { LocalIoError, RemoteError } from "../errors.ts";
import type { Entry } from "./entry.ts";
import { cleanTemporaries } from "./cleanup.ts";
import { UploadFolders } from "./upload_folders.ts";
import { Confined } from "./confined.ts";
import {
  listFolder,
  makeFolder,
  move,
  removeFile,
  removeFolder,
  setAttributes,
  statEntry,
} from "./namespace.ts";
import type { FileAttributes } from "./tree_backend.ts";
import { promised } from "./fs_errors.ts";
import { HashCache } from "./hash_cache.ts";
import type { ServedRootOptions } from "./served_root_options.ts";
import { sharedVolumeType } from "./shared_volume.ts";
import type { ChecksumName } from "../checksum.ts";
import { quotePath, RESUME_EXPIRY_HOURS } from "./paths.ts";
import { hashOpened, type OpenedFile, openForReading } from "./reads.ts";
import { commitUploads, type GroupedUpload } from "./group_commit.ts";
import { type ResumableUpload, startResumableUpload, startUpload, type Upload } from "./uploads.ts";
import {
  checkUploadTarget,
  type CheckUploadTargetOptions,
  type UploadTarget,
} from "./upload_target.ts";

export type { ResumableUpload, Upload } from "./uploads.ts";
export type { FileAttributes } from "./tree_backend.ts";
export type { GroupedUpload } from "./group_commit.ts";
export type { OpenedFile } from "./reads.ts";

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
  #confined: Confined;
  #readOnly: boolean;
  #fsync: boolean;
  #resumeExpiryMs: number;
  #hashes: HashCache;
  #shared: string | null;

  private constructor(realRoot: string, options: ServedRootOptions) {
    this.#confined = new Confined(realRoot);
    const detected = options.shared === false ? null : sharedVolumeType(realRoot);
    this.#shared = options.shared === true ? detected ?? "shared" : detected;
    // On a shared volume a remembered hash could outlive a change made through another head.
    this.#hashes = this.#shared !== null
      ? new HashCache({ capacity: 0 })
      : options.hashCache ?? new HashCache();
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

  /**
   * The type of the shared volume served (`fuse.glusterfs`, `nfs4`, or
   * `shared` when asked for), on which no file hash is remembered; `null`
   * for a local folder.
   */
  get sharedVolume(): string | null {
    return this.#shared;
  }

  /**
   * Whether the served folder is gone from its path since it was opened
   * (removed, or replaced by another folder): the server still holds the
   * old one, where nothing is found and nothing can be stored.
   *
   * @returns Whether it is gone.
   */
  removed(): boolean {
    const { fs, hostPath } = this.#confined;
    let now: Deno.FileInfo;
    try {
      now = Deno.statSync(hostPath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return true;
      throw e;
    }
    const held = fs.stat(fs.root).ino;
    return held !== null && now.ino !== null && BigInt(now.ino) !== held;
  }

  /** Whether changes are refused. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /**
   * Closes the served root's own descriptor. Only for a server that is done
   * with the folder (tests serve many); nothing may be asked of it after.
   */
  close(): void {
    this.#confined.fs.close();
  }

  /** Whether an upload's data and folder are flushed to disk before it is confirmed. */
  get durable(): boolean {
    return this.#fsync;
  }

  /**
   * Commits uploads whose bodies arrived whole, together (group commit):
   * each lands as its own `commit` would land it, in order, but the flushes
   * to disk of the whole group are made in parallel.
   *
   * @param group The uploads, in order.
   * @returns For each, `undefined` when it landed, or its error.
   */
  commitUploads(group: GroupedUpload[]): Promise<unknown[]> {
    return commitUploads(group);
  }

  /** The host path, for the server's own log and start-up line only. */
  get hostPath(): string {
    return this.#confined.hostPath;
  }

  /**
   * Whether every operation is confined atomically (descriptor-relative
   * calls: Linux), rather than checked by path just before it.
   */
  get atomicConfinement(): boolean {
    return this.#confined.fs.atomic;
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
    return promised(() => statEntry(this.#confined, vpath));
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
    return promised(() => openForReading(this.#confined, this.#hashes, vpath));
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
      return await hashOpened(opened, vpath);
    } finally {
      opened.close();
    }
  }

  /** Checks an upload's target (see {@linkcode checkUploadTarget}). */
  #uploadTarget(
    vpath: string,
    overwrite: boolean,
    options: CheckUploadTargetOptions = {},
  ): UploadTarget {
    this.#writable(vpath);
    return checkUploadTarget(this.#confined, vpath, overwrite, this.#fsync, options);
  }

  /**
   * The folders of one request's uploads (an MPUT's), each resolved once
   * (see {@linkcode UploadFolders}); dispose of it when the request ends.
   *
   * @returns The folders, none yet.
   */
  uploadFolders(): UploadFolders {
    return new UploadFolders(this.#confined.fs, this.#confined.beneath);
  }

  /**
   * Starts an upload: checks the target, and creates a temporary file beside it.
   *
   * @param vpath A normalized virtual path of the target file.
   * @param overwrite Whether an existing file may be replaced.
   * @param folders The folders of the request's uploads so far (an MPUT's), from {@linkcode ServedRoot.uploadFolders}.
   * @param whole The body follows the request at once (an eager PUT): a new file's may go to an unnamed file.
   * @param newMode A new file's source bits when the commit asks for no `mode` (see `startUpload`).
   * @returns The upload.
   */
  beginUpload(
    vpath: string,
    overwrite: boolean,
    folders?: UploadFolders,
    whole = false,
    newMode?: number | null,
  ): Promise<Upload> {
    return promised(() =>
      startUpload(
        this.#uploadTarget(vpath, overwrite, { folders, lookLater: whole }),
        whole,
        newMode,
      )
    );
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
   * @param checksum The session's checksum: the upload's `hash` is in it.
   * @returns The upload, with the offset to continue from.
   * @throws {RemoteError} BUSY when another session is uploading the same content now.
   */
  beginResumableUpload(
    vpath: string,
    size: number,
    sha256: string,
    overwrite: boolean,
    checksum: ChecksumName = "sha256",
  ): Promise<ResumableUpload> {
    const target = this.#uploadTarget(vpath, overwrite);
    return startResumableUpload(target, size, sha256, this.#resumeExpiryMs, checksum);
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
   * @param mode The new folder's bits, less the umask.
   */
  mkdir(vpath: string, parents: boolean, mode = 0o777): Promise<void> {
    return promised(() => {
      this.#writable(vpath);
      this.#confined.checkLength(vpath);
      makeFolder(this.#confined, vpath, parents, mode);
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
   * Sets a file's or a folder's modification time and permission bits
   * (SETSTAT); a link at the path is refused, not followed.
   *
   * @param vpath A normalized virtual path.
   * @param attributes The time (ms) and bits; either or both.
   * @param folderForm The path was sent in a folder's form (`a/`): only a folder is changed.
   */
  setAttributes(vpath: string, attributes: FileAttributes, folderForm = false): Promise<void> {
    return promised(() => {
      this.#writable(vpath);
      setAttributes(this.#confined, vpath, attributes, folderForm);
    });
  }

  /**
   * Renames or moves a file or folder within the root. An existing file at
   * `to` is replaced, as `mv` does; an existing folder is not, and a folder
   * does not replace a file.
   *
   * @param from A normalized virtual path.
   * @param to A normalized virtual path.
   * @param folderForm Which paths were sent in a folder's form (`a/`): a file is not moved from or to one.
   */
  rename(
    from: string,
    to: string,
    folderForm: { from?: boolean; to?: boolean } = {},
  ): Promise<void> {
    return promised(() => {
      this.#writable(from);
      move(this.#confined, from, to, folderForm);
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
    return promised(() => cleanTemporaries(this.#confined.fs, this.#resumeExpiryMs));
  }
}
