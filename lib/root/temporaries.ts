/**
 * The server's temporary upload files: their exact names, the lock that
 * marks one as in use, and the clean-up of those nobody owns any more.
 *
 * An upload's temporary file (`.bftp-tmp-<random UUID>.part`) and a
 * resumable upload's kept part (`.bftp-tmp-resume-<64 hex>.part`) are held
 * under an exclusive lock (`flock`) by the server process writing them, from
 * the moment they are created or reopened until they are renamed into place,
 * removed or (a cut resumable upload) kept for later. So a file with such a
 * name that can be locked at once has no living owner: a crashed server left
 * it. A file with any other name, even one starting with `.bftp-tmp-`, is not
 * the server's and is never removed.
 *
 * The lock rule is the one every bftp temporary follows (`local_file/lock.ts`,
 * shared with the client's downloads); here files are opened through the
 * backend's descriptor-based calls beneath the root, never by path.
 *
 * @module
 */

import { openLocked, sameFile } from "../local_file/lock.ts";
import { RESUME_PREFIX, TEMP_PREFIX } from "./paths.ts";
import type { CreatedFile, FsStat, ReadFile, Ref, TreeBackend } from "./tree_backend.ts";

/** An upload's temporary file: `.bftp-tmp-<random UUID>.part`, as {@linkcode createUploadTemporary} names it. */
export const UPLOAD_TEMP_NAME: RegExp =
  /^\.bftp-tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.part$/;

/** A resumable upload's kept part: `.bftp-tmp-resume-<SHA-256 hex>.part`, as {@linkcode resumeTemporaryName} names it. */
export const RESUME_TEMP_NAME: RegExp = /^\.bftp-tmp-resume-[0-9a-f]{64}\.part$/;

/**
 * The name of a resumable upload's kept part.
 *
 * @param key The upload's key: a SHA-256, lowercase hex.
 * @returns `.bftp-tmp-resume-<key>.part`.
 *
 * @example
 * ```ts
 * import { RESUME_TEMP_NAME, resumeTemporaryName } from "./temporaries.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(RESUME_TEMP_NAME.test(resumeTemporaryName("ab".repeat(32))));
 * ```
 */
export function resumeTemporaryName(key: string): string {
  return `${RESUME_PREFIX}${key}.part`;
}

/**
 * A new name for an upload's temporary file: `.bftp-tmp-<random UUID>.part`.
 *
 * @returns The name, never made before.
 *
 * @example
 * ```ts
 * import { UPLOAD_TEMP_NAME, uploadTemporaryName } from "./temporaries.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(UPLOAD_TEMP_NAME.test(uploadTemporaryName()));
 * ```
 */
export function uploadTemporaryName(): string {
  return `${TEMP_PREFIX}${crypto.randomUUID()}.part`;
}

/**
 * Whether `created` is still the file named `name` in `dir` (a clean-up may
 * have removed it). A `fresh` name (random, created new) is never made again
 * by anyone, so while it names anything it names that file: one `stat`
 * instead of two, a fifth of an upload's.
 */
function stillThere(
  fs: TreeBackend,
  dir: Ref,
  name: string,
  created: CreatedFile,
  fresh: boolean,
): boolean {
  const named = fs.statAtIfAny(dir, name);
  return named !== null && (fresh || sameFile(named, fs.stat(created.ref)));
}

/**
 * Creates or opens `name()` in `dir` with `create` and locks it, by the
 * rule every bftp temporary follows (`local_file/lock.ts`), through the
 * backend's descriptor-based calls beneath the root. A `fresh` name (a
 * random one, created new) that someone else holds is given up for another;
 * a `kept` one (a resumable part) is left to its holder.
 */
function openLockedAt(
  fs: TreeBackend,
  dir: Ref,
  name: () => string,
  create: (name: string) => CreatedFile,
  kind: "fresh" | "kept",
): { name: string; opened: CreatedFile } | null {
  return openLocked({
    name,
    create,
    file: (created) => created.file,
    isStill: (created, chosen) => stillThere(fs, dir, chosen, created, kind === "fresh"),
    close: (created) => {
      created.file.close();
      fs.release(created.ref);
    },
    busy: kind === "fresh" ? "retry" : "give up",
  });
}

/** A server temporary file, open and locked. */
export interface LockedTemporary extends CreatedFile {
  /** Its name in its folder. */
  name: string;
}

/**
 * Creates an upload's temporary file in `dir`, new and locked: the lock
 * lasts as long as the file stays open, and tells every server's clean-up
 * ({@linkcode removeUnowned}) that it is in use.
 *
 * @param fs The served root's backend.
 * @param dir The target's folder.
 * @param mode The permission bits it is created with (before the umask).
 * @returns Its name, the open file (for writing) and a reference to it; the
 * caller closes both.
 *
 * @example
 * ```ts
 * import { createUploadTemporary, removeUnowned } from "./temporaries.ts";
 * import { openBackend } from "./fd_backend.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * const fs = openBackend(dir);
 * const temp = createUploadTemporary(fs, fs.root, 0o644);
 * deepEqual(removeUnowned(fs, fs.root, temp.name), false); // locked: in use
 * temp.file.close();
 * fs.release(temp.ref);
 * deepEqual(removeUnowned(fs, fs.root, temp.name), true); // unlocked: nobody's
 * await Deno.remove(dir);
 * ```
 */
export function createUploadTemporary(fs: TreeBackend, dir: Ref, mode: number): LockedTemporary {
  // A fresh name each time: one that another server's clean-up holds (it found it unlocked
  // between our open and our lock) is about to be removed.
  const { name, opened } = openLockedAt(
    fs,
    dir,
    uploadTemporaryName,
    (name) => fs.createFile(dir, name, mode, true),
    "fresh",
  )!;
  return { name, ...opened };
}

/**
 * Opens (or creates) a resumable upload's kept part and locks it.
 *
 * @param fs The served root's backend.
 * @param dir The target's folder.
 * @param name Its name (made by {@linkcode resumeTemporaryName}).
 * @param mode The permission bits it is created with, when it is new.
 * @returns The open, locked file, or `null` when another upload holds it now.
 *
 * @example
 * ```ts
 * import { openResumeTemporary, resumeTemporaryName } from "./temporaries.ts";
 * import { openBackend } from "./fd_backend.ts";
 * import { deepEqual, ok } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * const fs = openBackend(dir);
 * const name = resumeTemporaryName("0".repeat(64));
 * const temp = openResumeTemporary(fs, fs.root, name, 0o644);
 * ok(temp !== null);
 * deepEqual(openResumeTemporary(fs, fs.root, name, 0o644), null); // busy
 * temp.file.close();
 * fs.release(temp.ref);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openResumeTemporary(
  fs: TreeBackend,
  dir: Ref,
  name: string,
  mode: number,
): LockedTemporary | null {
  const opened = openLockedAt(
    fs,
    dir,
    () => name,
    (name) => fs.createFile(dir, name, mode, false),
    "kept",
  );
  return opened === null ? null : { name, ...opened.opened };
}

/**
 * Removes a server temporary file if no process holds it: one that can be
 * locked at once was left by a server that is gone (killed, a power cut).
 * One in use by any server, this one or another on the same folder, stays.
 * A link of that name is never followed (it is not a file the server made).
 *
 * @param fs The served root's backend.
 * @param dir Its folder.
 * @param name Its name (already checked against {@linkcode UPLOAD_TEMP_NAME}
 * or {@linkcode RESUME_TEMP_NAME}).
 * @param when A further condition, checked once the file is locked (a kept
 * resumable part: that it has expired).
 * @returns Whether it was removed.
 *
 * @example
 * ```ts
 * import { removeUnowned } from "./temporaries.ts";
 * import { openBackend } from "./fd_backend.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * const name = `.bftp-tmp-${crypto.randomUUID()}.part`;
 * await Deno.writeTextFile(`${dir}/${name}`, "left by a crash");
 * deepEqual(removeUnowned(openBackend(dir), undefined, name), true);
 * await Deno.remove(dir);
 * ```
 */
export function removeUnowned(
  fs: TreeBackend,
  dir: Ref | undefined,
  name: string,
  when: (stat: FsStat) => boolean = () => true,
): boolean {
  const folder = dir ?? fs.root;
  let ref: Ref | undefined;
  let file: ReadFile | undefined;
  try {
    ref = fs.openNoFollow(folder, name);
    const stat = fs.stat(ref);
    if (stat.type !== "file") return false;
    file = fs.openFile(ref);
    if (!file.tryLockSync(true) || !when(fs.stat(ref))) return false;
    fs.unlinkAt(folder, name, false);
    return true;
  } catch (e) {
    // Gone already, or not ours to remove.
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      return false;
    }
    throw e;
  } finally {
    file?.close();
    if (ref !== undefined) fs.release(ref);
  }
}
