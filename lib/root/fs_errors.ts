/**
 * What the served root's operations share: file-system errors turned into
 * typed remote errors about a virtual path (never a host path), and small
 * helpers over a {@linkcode TreeBackend}.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import { OutsideRoot, TooDeep } from "./beneath.ts";
import { quotePath } from "./paths.ts";
import type { FsStat, Ref, TreeBackend } from "./tree_backend.ts";

/**
 * Turns a file-system error into a typed remote error about `vpath`, or
 * rethrows it when it is not one we expect.
 *
 * @param e What was thrown.
 * @param vpath The virtual path the operation was about.
 * @returns The remote error to answer with.
 *
 * @example
 * ```ts
 * import { fsError } from "./fs_errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(fsError(new Deno.errors.NotFound("x"), "/a").code, "NOT_FOUND");
 * ```
 */
export function fsError(e: unknown, vpath: string): RemoteError {
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
  return codeError(e, p);
}

/**
 * The errors known only by their `code`: space, emptiness, invalid moves,
 * long names, a read-only disk, another file system, descriptors.
 */
function codeError(e: unknown, p: string): RemoteError {
  const code = (e as { code?: unknown } | null)?.code;
  // An operator's ordinary set-ups (a read-only mount served, a mount inside the root), not the
  // server's failure: they were "Internal server error", exit 18.
  if (code === "EROFS") return new RemoteError("DENIED", `${p}: the server's disk is read-only`);
  if (code === "EXDEV") {
    return new RemoteError("DENIED", `${p}: cannot be moved to another file system on the server`);
  }
  if (code === "EBUSY" || code === "ETXTBSY") {
    return new RemoteError("DENIED", `${p} is in use on the server`);
  }
  if (outOfDescriptors(e)) {
    return new RemoteError("BUSY", "The server has no file descriptor left: try again later");
  }
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
 * Runs `fn`, turning a file-system error into a remote error about `vpath`.
 *
 * @example
 * ```ts
 * import { about } from "./fs_errors.ts";
 * import { throws } from "node:assert/strict";
 *
 * throws(() => about("/a", () => Deno.statSync("/no/such/file")), /not found/);
 * ```
 */
export function about<T>(vpath: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fsError(e, vpath);
  }
}

/**
 * The NOT_FOUND of a path whose folder is missing (a PUT, RENAME, MKDIR or
 * DELETE under a folder that is not there): it names the folder, not the
 * path, which nobody expected to find.
 *
 * @param vpath A normalized virtual path (not the root).
 * @returns The error.
 *
 * @example
 * ```ts
 * import { folderNotFound } from "./fs_errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(folderNotFound("/a/b/c.txt").message, 'Folder "/a/b" not found');
 * equal(folderNotFound("/c.txt").message, 'Folder "/" not found');
 * ```
 */
export function folderNotFound(vpath: string): RemoteError {
  const folder = vpath.slice(0, vpath.lastIndexOf("/")) || "/";
  return new RemoteError("NOT_FOUND", `Folder ${quotePath(folder)} not found`);
}

/**
 * Runs `fn` now; its result or error as a promise.
 *
 * @example
 * ```ts
 * import { promised } from "./fs_errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(await promised(() => 1), 1);
 * ```
 */
export function promised<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * What is at `name` in `dir` (a link itself), or `null` for nothing.
 *
 * @example
 * ```ts
 * import { statOrNull } from "./fs_errors.ts";
 * import { PathBackend } from "./tree_backend.ts";
 * import { equal } from "node:assert/strict";
 *
 * const fs = new PathBackend("/");
 * equal(statOrNull(fs, fs.root, "no-such-name-here"), null);
 * ```
 */
export function statOrNull(fs: TreeBackend, dir: Ref, name: string): FsStat | null {
  return fs.statAtIfAny(dir, name);
}

/**
 * The permission bits (read, write, execute for owner, group, others; not
 * set-user-ID and the like) of a regular file, or `null` for anything else,
 * nothing, or on Windows.
 *
 * @example
 * ```ts
 * import { permissionBits } from "./fs_errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(permissionBits(null), null);
 * ```
 */
export function permissionBits(stat: FsStat | null): number | null {
  if (Deno.build.os === "windows" || stat?.type !== "file" || stat.mode === null) return null;
  return stat.mode & 0o777;
}

/**
 * Whether a system call failed for want of a file descriptor: the
 * process's limit (EMFILE) or the system's (ENFILE).
 *
 * @param e What the call threw.
 * @returns Whether it is one of those.
 *
 * @example
 * ```ts
 * import { outOfDescriptors } from "./fs_errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(outOfDescriptors(Object.assign(new Error("x"), { code: "EMFILE" })), true);
 * deepEqual(outOfDescriptors(new Deno.errors.NotFound("x")), false);
 * ```
 */
export function outOfDescriptors(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}
