/**
 * Where an upload goes: its target resolved beneath the root (its folder,
 * its name) and what is there, looked at as the upload begins, or where
 * the new file can be unnamed only once its link finds the name taken
 * (`uploads.ts`).
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { Resolved } from "./beneath.ts";
import { type Confined, splitPath } from "./confined.ts";
import { about, folderNotFound, fsError, permissionBits, statOrNull } from "./fs_errors.ts";
import { quotePath } from "./paths.ts";
import type { TreeBackend } from "./tree_backend.ts";
import type { UploadFolders } from "./upload_folders.ts";

/** Where an upload goes, and how it lands. */
export interface UploadTarget {
  /** The served tree. */
  fs: TreeBackend;
  /** The target's folder and name, resolved beneath the root; the upload owns it. */
  at: Resolved;
  /** The target's virtual path, for messages. */
  vpath: string;
  /** The permission bits of the regular file it replaces, or `null` for none (or not looked at yet). */
  replaced: number | null;
  /** Whether nothing was at the target when it was checked (or it was not looked at yet). */
  absent: boolean;
  /**
   * Whether what is at the target is still to be looked at: an upload to an
   * unnamed file looks only if its link finds the name taken.
   */
  unseen?: boolean;
  /** Whether an existing file may be replaced. */
  overwrite: boolean;
  /** Flush the file and its folder before and after the rename. */
  fsync: boolean;
}

/**
 * Checks an upload's target: resolves its folder beneath the root, and
 * finds the permission bits of the regular file it would replace (`null`:
 * none). The caller has checked that the root is writable.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { checkUploadTarget } from "./upload_target.ts";
 * import { startUpload } from "./uploads.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   const target = checkUploadTarget(new Confined(dir), "/a.txt", false, false);
 *   equal(target.replaced, null);
 *   const upload = startUpload(target);
 *   await upload.sink.write(new TextEncoder().encode("hi"));
 *   await upload.commit();
 *   equal(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param c The confined tree.
 * @param vpath A normalized virtual path of the target file.
 * @param overwrite Whether an existing file may be replaced.
 * @param fsync Flush the file and its folder around the rename.
 * @param options The request's upload folders; whether the look at the target may wait.
 * @returns The target; its `at` is the caller's to dispose of (an upload started on it does).
 */
export function checkUploadTarget(
  c: Confined,
  vpath: string,
  overwrite: boolean,
  fsync: boolean,
  options: CheckUploadTargetOptions = {},
): UploadTarget {
  const { folders } = options;
  if (vpath === "/") throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
  c.checkLength(vpath);
  let at: Resolved;
  try {
    const parts = splitPath(vpath);
    at = folders ? folders.resolve(parts) : c.beneath.resolve(parts, false);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw folderNotFound(vpath);
    }
    throw fsError(e, vpath);
  }
  const target = { fs: c.fs, at, vpath, replaced: null, absent: true, overwrite, fsync };
  if (options.lookLater && c.fs.createUnnamed !== undefined) return { ...target, unseen: true };
  try {
    return { ...target, ...lookAtTarget(target) };
  } catch (e) {
    at[Symbol.dispose]();
    throw e;
  }
}

/** Options for {@linkcode checkUploadTarget}. */
export interface CheckUploadTargetOptions {
  /** The folders of the request's uploads so far (an MPUT's), to resolve the target's folder from. */
  folders?: UploadFolders | undefined;
  /**
   * The body follows at once (an eager PUT): what is at the target is looked
   * at only when needed, where new files can be unnamed (a new file is linked
   * under its name, which tells that the name is free: one `statx` less for
   * each new file of a tree).
   *
   * @default {false}
   */
  lookLater?: boolean | undefined;
}

/**
 * What is at an upload's target, as far as the upload goes: refused when a
 * folder, or a file not to be replaced.
 *
 * @param target The target, resolved.
 * @returns The bits of the file it replaces (`null`: none) and whether nothing is there.
 * @throws {RemoteError} IS_DIR for a folder, EXISTS for a file without leave to replace it.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { checkUploadTarget, lookAtTarget } from "./upload_target.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${dir}/a.txt`, "old", { mode: 0o600 });
 * const target = checkUploadTarget(new Confined(dir), "/a.txt", true, false, { lookLater: true });
 * try {
 *   deepEqual(lookAtTarget(target), { replaced: 0o600, absent: false });
 * } finally {
 *   target.at[Symbol.dispose]();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export function lookAtTarget(target: UploadTarget): Pick<UploadTarget, "replaced" | "absent"> {
  const { fs, at, vpath } = target;
  const existing = about(vpath, () => statOrNull(fs, at.dir, at.name));
  if (existing?.type === "dir") {
    throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
  }
  if (existing && !target.overwrite) {
    throw new RemoteError("EXISTS", `${quotePath(vpath)} already exists`);
  }
  return { replaced: permissionBits(existing), absent: existing === null };
}
