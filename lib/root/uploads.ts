/**
 * Uploads into the served root: bytes go to a locked temporary file beside
 * the target, created in the target's folder as resolved beneath the root;
 * a commit renames it over the target within that same folder, so an
 * upload lands whole or not at all, and never outside the root.
 *
 * Where the body comes whole with its request (an eager PUT: a tree's files)
 * and the folder's filesystem has unnamed files (Linux's `O_TMPFILE`), the
 * bytes go to an unnamed file in that folder instead, which the commit
 * links under the target's name: no name to lock, check or rename, and
 * nothing for a crash to leave behind. The target is looked at only when
 * the link finds its name taken (`upload_target.ts`): then refused, or
 * replaced through a temporary name with leave to overwrite.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { RunningHash } from "../checksum.ts";
import type { ChecksumName } from "../checksum.ts";
import { RemoteError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import { hashPrefix } from "../file_hash.ts";
import { isExpired, removeExpiredResumes } from "./cleanup.ts";
import type { CommitSteps } from "./group_commit.ts";
import { about, fsError, permissionBits, statOrNull } from "./fs_errors.ts";
import { lookAtTarget, type UploadTarget } from "./upload_target.ts";
import { quotePath } from "./paths.ts";
import { uploadSink } from "./upload_sink.ts";
import {
  createUploadTemporary,
  openResumeTemporary,
  resumeTemporaryName,
  uploadTemporaryName,
} from "./temporaries.ts";
import type { CreatedFile, FileAttributes, FsStat } from "./tree_backend.ts";
import { newFileMode } from "../local_file/attributes.ts";

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
  /** The commit in its steps, for uploads committed together ({@linkcode commitUploads}). */
  readonly steps: CommitSteps;
}

/**
 * A resumable upload: its bytes go to a file named after the target, the
 * size and the content hash, which outlives a cut connection so that the
 * same upload, asked again, continues where it stopped.
 */
export interface ResumableUpload extends Upload {
  /** Bytes already received by earlier attempts: the body continues from here. */
  offset: number;
  /** A hash in the session's checksum already fed with those bytes. */
  hash: RunningHash;
  /** Closes the file and keeps it for a later resume (the connection broke). */
  keep(): Promise<void>;
}

/**
 * An upload's file: a temporary beside the target, or an unnamed one
 * (`name` `null`), with the bits it was made with when they are the ones
 * it lands with (`bits`: no chmod then).
 */
type UploadFile = CreatedFile & { name: string | null; bits?: number | undefined };

/**
 * The permission bits an upload's temporary file is created with: the
 * owner's alone for a new file (a private file is never readable by others
 * on its way, nor while a cut resumable upload waits); for one that
 * replaces a file, no more for group and others than that file gives them.
 * Its exact bits are set at commit.
 */
function temporaryMode(replaced: number | null): number {
  return replaced === null ? 0o600 : replaced | 0o600;
}

/**
 * Starts an upload to `target`: creates a temporary file beside it, or
 * for a `whole` body to a new file, an unnamed one where there can be.
 *
 * @param target Where it goes (its `at` is disposed of when the upload ends).
 * @param whole The body follows at once (an eager PUT); a slow streamed
 * one keeps a named temporary, which the clean-up of a crashed server's
 * leftovers can see.
 * @param newMode The source's bits for a new file (`FileAttributes`'
 * `newMode`), when the commit will ask for no other (no `mode`): an
 * unnamed file, which nobody can open by a name on its way, is made with
 * the bits it lands with, one chmod a file less (an MPUT's 5,000 files
 * spent 27 ms of 750 in chmod on tmpfs).
 * @returns The upload.
 * @throws {RemoteError} When its file cannot be created (the target's
 * `at` is disposed of then).
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { checkUploadTarget } from "./upload_target.ts";
 * import { startUpload } from "./uploads.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${dir}/a.txt`, "old");
 * const c = new Confined(dir);
 * const upload = startUpload(checkUploadTarget(c, "/a.txt", true, false));
 * await upload.sink.write(new TextEncoder().encode("new"));
 * equal(await Deno.readTextFile(`${dir}/a.txt`), "old"); // Nothing lands before the commit.
 * await upload.commit({ mtime: 1_000_000_000_000 });
 * equal(await Deno.readTextFile(`${dir}/a.txt`), "new");
 * equal((await Deno.stat(`${dir}/a.txt`)).mtime?.getTime(), 1_000_000_000_000);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function startUpload(
  target: UploadTarget,
  whole = false,
  newMode?: number | null,
): Upload {
  const { fs, at } = target;
  let temp: UploadFile;
  try {
    // Less the umask already, so made with exactly these (the umask takes nothing more).
    const bits = newMode === undefined ? undefined : newFileMode(newMode);
    const unnamed = whole && target.absent
      ? fs.createUnnamed?.(at.dir, bits ?? temporaryMode(target.replaced))
      : null;
    if (unnamed) temp = { ...unnamed, name: null, bits };
    else {
      // No unnamed file after all: the target is looked at now, before its temporary is made.
      if (target.unseen) target = { ...target, ...lookAtTarget(target), unseen: false };
      temp = createUploadTemporary(fs, at.dir, temporaryMode(target.replaced));
    }
  } catch (e) {
    target.at[Symbol.dispose]();
    throw e instanceof RemoteError ? e : fsError(e, target.vpath);
  }
  return uploadOf(temp, target);
}

/**
 * Starts or continues a resumable upload to `target`. Its bytes go to
 * `.bftp-tmp-resume-<key>.part` beside the target, where the key is the
 * SHA-256 of the target's path, the size and the whole content's SHA-256.
 * A part left longer than `expiryMs`, or longer than `size`, starts over.
 *
 * @param target Where it goes (its `at` is disposed of when the upload ends).
 * @param size The whole file's size.
 * @param sha256 The whole file's SHA-256, lowercase hex.
 * @param expiryMs How long a part is kept after its last byte.
 * @param checksum The session's checksum, which the returned `hash` is in.
 * @returns The upload, with the offset to continue from.
 * @throws {RemoteError} BUSY when another session is uploading the same content now.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { checkUploadTarget } from "./upload_target.ts";
 * import { startResumableUpload } from "./uploads.ts";
 * import { createHash } from "node:crypto";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * const c = new Confined(dir);
 * const sha256 = createHash("sha256").update("hello").digest("hex");
 * const start = () =>
 *   startResumableUpload(checkUploadTarget(c, "/a.txt", false, false), 5, sha256, 60_000);
 * const cut = await start();
 * await cut.sink.write(new TextEncoder().encode("hel"));
 * await cut.keep(); // The connection broke: the part stays.
 * const again = await start();
 * equal(again.offset, 3);
 * await again.sink.write(new TextEncoder().encode("lo"));
 * await again.commit();
 * equal(await Deno.readTextFile(`${dir}/a.txt`), "hello");
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function startResumableUpload(
  target: UploadTarget,
  size: number,
  sha256: string,
  expiryMs: number,
  checksum: ChecksumName = "sha256",
): Promise<ResumableUpload> {
  const { fs, at, vpath } = target;
  let upload: (Upload & { release(): void }) | undefined;
  try {
    removeExpiredResumes(fs, at.dir, expiryMs);
    const key = createHash("sha256").update(`${vpath}\n${size}\n${sha256}`).digest("hex");
    const mode = temporaryMode(target.replaced);
    const temp = about(
      vpath,
      () => openResumeTemporary(fs, at.dir, resumeTemporaryName(key), mode),
    );
    if (temp === null) {
      throw new RemoteError("BUSY", `An upload to ${quotePath(vpath)} is in progress already`);
    }
    upload = uploadOf(temp, target);
    let offset = fs.stat(temp.ref).size;
    if (offset > size || isExpired(fs.stat(temp.ref), expiryMs)) {
      temp.file.truncateSync(0);
      offset = 0;
    }
    const prefix = await hashPrefix(temp.file, offset, checksum);
    if (prefix.bytes < offset) {
      temp.file.truncateSync(prefix.bytes);
      offset = prefix.bytes;
    }
    const release = upload.release;
    return { ...upload, offset, hash: prefix.hash, keep: () => Promise.resolve(release()) };
  } catch (e) {
    if (upload) upload.release();
    else at[Symbol.dispose]();
    throw fsError(e, vpath);
  }
}

/**
 * The upload's sink, commit and abort over an open, locked temporary file
 * in the target's folder. The file stays open (so locked: see
 * `temporaries.ts`) until it is renamed into place or removed; `release`
 * closes it and the folder, and keeps the file (a cut resumable upload).
 */
function uploadOf(temp: UploadFile, target: UploadTarget): Upload & { release(): void } {
  const { fs, at, vpath } = target;
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
      if (temp.name !== null) fs.unlinkAt(at.dir, temp.name, false);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
    }
    release();
    return Promise.resolve();
  };
  let folderInfo: FsStat | undefined;
  const folderStat = () => folderInfo ??= fs.stat(at.dir);
  const steps: CommitSteps = {
    flush: async () => {
      if (target.fsync) await temp.file.syncData();
    },
    place: (attributes) => {
      // A replaced file keeps its bits (looked at again: one may have appeared since the upload
      // began); bits the client asked for (put -p) win; a new file gets its source's (newMode,
      // as scp gives them), else 0644, less this server's umask.
      if (attributes.mtime !== undefined) {
        temp.file.utimeSync(new Date(), new Date(attributes.mtime));
      }
      if (temp.name === null) {
        return placeUnnamed(temp, target, attributes.mode ?? target.replaced, attributes.newMode);
      }
      // Windows keeps no such bits, and renames no open file.
      if (Deno.build.os === "windows") closeFile();
      else {
        fs.chmodAt(
          at.dir,
          temp.name,
          attributes.mode ?? target.replaced ?? permissionBits(statOrNull(fs, at.dir, at.name)) ??
            newFileMode(attributes.newMode),
        );
      }
      fs.renameAt(at.dir, temp.name, at.dir, at.name);
    },
    folder: () => {
      if (!target.fsync) return null;
      const { dev, ino } = folderStat();
      // Without an inode (Windows) each upload's folder is its own.
      const key = ino === null ? `upload ${++unidentified}` : `${dev}:${ino}`;
      return { key, sync: () => fs.syncDir(at.dir) };
    },
    volume: () => {
      if (!target.fsync || temp.file.syncVolume === undefined) return null;
      const { dev } = folderStat();
      return dev === null ? null : { key: dev, sync: () => temp.file.syncVolume!() };
    },
    settle: release,
    fail: async (e) => {
      await discard();
      return fsError(e, vpath);
    },
  };
  const commit = async (attributes: FileAttributes = {}) => {
    try {
      await steps.flush();
      steps.place(attributes);
      await steps.folder()?.sync();
      steps.settle();
    } catch (e) {
      throw await steps.fail(e);
    }
  };
  const sink = uploadSink(temp.file, vpath, { writeBack: target.fsync });
  return { sink, commit, abort: discard, release, steps };
}

/**
 * Links an unnamed upload under the target's name. A target made since the
 * upload began is replaced only with leave to overwrite: the file is then
 * given a temporary name (locked first, so no clean-up takes it for a
 * leftover) and renamed over it.
 */
function placeUnnamed(
  temp: UploadFile,
  target: UploadTarget,
  mode: number | null,
  newMode: number | undefined,
): void {
  const { fs, at } = target;
  const bits = mode ?? newFileMode(newMode);
  if (bits !== temp.bits) temp.file.chmodSync!(bits);
  try {
    return fs.linkAt!(temp.ref, at.dir, at.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    // Taken: refused (a folder, or not to be replaced), or replaced keeping its bits when the
    // look at it waited until now (else it was made since the upload began).
    if (!target.unseen && !target.overwrite) throw e;
  }
  // A file replaced keeps its permission bits (one looked at only now, or made since the upload
  // began), unless the client asked for others.
  if (mode === null) {
    const { replaced } = target.unseen
      ? lookAtTarget(target)
      : { replaced: permissionBits(statOrNull(fs, at.dir, at.name)) };
    if (replaced !== null) temp.file.chmodSync!(replaced);
  }
  temp.file.tryLockSync(true);
  const name = uploadTemporaryName();
  fs.linkAt!(temp.ref, at.dir, name);
  try {
    fs.renameAt(at.dir, name, at.dir, at.name);
  } catch (e) {
    fs.unlinkAt(at.dir, name, false);
    throw e;
  }
}

/** Folders flushed with no inode to tell them apart, counted to give each a key of its own. */
let unidentified = 0;
