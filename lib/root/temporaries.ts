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
 * @module
 */

import { join } from "node:path";
import { RESUME_PREFIX, TEMP_PREFIX } from "./paths.ts";

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

/** Whether the open `file` is still the one at `path` (a clean-up may have removed it). */
async function stillThere(file: Deno.FsFile, path: string): Promise<boolean> {
  const mine = await file.stat();
  const there = await Deno.lstat(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  });
  return there !== null && there.ino === mine.ino && there.dev === mine.dev;
}

/**
 * Opens a file with `open` and locks it, again until the locked file is the
 * one at its path (a clean-up may remove it between the open and the lock).
 * A lock someone else holds means: with `busy` "retry", open another;
 * with "give up", `null`.
 */
async function openLocked(
  open: () => Promise<{ path: string; file: Deno.FsFile }>,
  busy: "retry" | "give up",
): Promise<{ path: string; file: Deno.FsFile } | null> {
  for (let attempt = 1;; attempt++) {
    const opened = await open();
    const { path, file } = opened;
    try {
      if (await file.tryLock(true)) {
        if (await stillThere(file, path)) return opened;
      } else if (busy === "give up") {
        file.close();
        return null;
      }
    } catch (e) {
      file.close();
      throw e;
    }
    file.close();
    if (attempt >= 3) throw new Deno.errors.NotFound("The temporary file keeps disappearing");
  }
}

/**
 * Creates an upload's temporary file in `dir`, new and locked: the lock
 * lasts as long as the file stays open, and tells every server's clean-up
 * ({@linkcode removeUnowned}) that it is in use.
 *
 * @param dir The target's folder.
 * @param mode The permission bits it is created with (before the umask).
 * @returns Its path and the open file, for writing; the caller closes it.
 *
 * @example
 * ```ts
 * import { createUploadTemporary, removeUnowned } from "./temporaries.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const { temp, file } = await createUploadTemporary(dir, 0o644);
 * deepEqual(await removeUnowned(temp), false); // locked: in use
 * file.close();
 * deepEqual(await removeUnowned(temp), true); // unlocked: nobody's
 * await Deno.remove(dir);
 * ```
 */
export async function createUploadTemporary(
  dir: string,
  mode: number,
): Promise<{ temp: string; file: Deno.FsFile }> {
  // A fresh name each time: one that another server's clean-up holds (it found it unlocked
  // between our open and our lock) is about to be removed.
  const { path, file } = (await openLocked(async () => {
    const path = join(dir, `${TEMP_PREFIX}${crypto.randomUUID()}.part`);
    return { path, file: await Deno.open(path, { write: true, createNew: true, mode }) };
  }, "retry"))!;
  return { temp: path, file };
}

/**
 * Opens (or creates) a resumable upload's kept part and locks it.
 *
 * @param path Its path (named by {@linkcode resumeTemporaryName}).
 * @param mode The permission bits it is created with, when it is new.
 * @returns The open, locked file, or `null` when another upload holds it now.
 *
 * @example
 * ```ts
 * import { openResumeTemporary, resumeTemporaryName } from "./temporaries.ts";
 * import { deepEqual, ok } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/${resumeTemporaryName("0".repeat(64))}`;
 * const file = await openResumeTemporary(path, 0o644);
 * ok(file !== null);
 * deepEqual(await openResumeTemporary(path, 0o644), null); // busy
 * file.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openResumeTemporary(
  path: string,
  mode: number,
): Promise<Deno.FsFile | null> {
  const opened = await openLocked(async () => ({
    path,
    file: await Deno.open(path, { read: true, write: true, create: true, mode }),
  }), "give up");
  return opened?.file ?? null;
}

/**
 * Removes a server temporary file if no process holds it: one that can be
 * locked at once was left by a server that is gone (killed, a power cut).
 * One in use by any server, this one or another on the same folder, stays.
 *
 * @param path The file (its name already checked against
 * {@linkcode UPLOAD_TEMP_NAME} or {@linkcode RESUME_TEMP_NAME}).
 * @param when A further condition, checked once the file is locked (a kept
 * resumable part: that it has expired).
 * @returns Whether it was removed.
 *
 * @example
 * ```ts
 * import { removeUnowned } from "./temporaries.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/.bftp-tmp-${crypto.randomUUID()}.part`;
 * await Deno.writeTextFile(path, "left by a crash");
 * deepEqual(await removeUnowned(path), true);
 * await Deno.remove(dir);
 * ```
 */
export async function removeUnowned(
  path: string,
  when: (info: Deno.FileInfo) => boolean = () => true,
): Promise<boolean> {
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path, { read: true });
    if (!(await file.tryLock(true)) || !when(await file.stat())) return false;
    await Deno.remove(path);
    return true;
  } catch (e) {
    // Gone already, or not ours to remove.
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      return false;
    }
    throw e;
  } finally {
    file?.close();
  }
}
