/**
 * Paths whose form names a folder (`a/`, `a/.`: {@linkcode namesFolder}),
 * given to a request that takes a file (GET, BLOCKS, MGET, HASH, PUT,
 * MPUT, DELETE) or to STAT: refused with the code the kernel would give,
 * as `cat file/` and `rm file/` fail on Linux. A request that takes a file
 * never runs on such a path: the look at what is there only chooses the
 * message, so nothing is done on a name checked earlier.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import { namesFolder, notAFolder, quotePath } from "../root/paths.ts";
import type { ServedRoot } from "../root/served_root.ts";

/**
 * The resolved path of a request that takes a file; a path sent in a
 * folder's form is refused: `IS_DIR` where a folder is, `NOT_DIR` where
 * something else is, `NOT_FOUND` where nothing is.
 *
 * @param root The served folder (looked at only for a folder's form).
 * @param path The path as the client sent it.
 * @param vpath The same, resolved.
 * @returns `vpath` (at once, without a promise, for the usual path: an
 * MGET takes it for each of its files).
 * @throws {RemoteError} For a path in a folder's form (the promise rejects).
 *
 * @example
 * ```ts
 * import { fileOnly } from "./folder_form.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const root = await ServedRoot.open(dir);
 * deepEqual(fileOnly(root, "a.txt", "/a.txt"), "/a.txt");
 * await rejects(async () => await fileOnly(root, "a.txt/", "/a.txt"), /"\/a.txt\/" is not a folder/);
 * await rejects(async () => await fileOnly(root, "/", "/"), /"\/" is a folder/);
 * root.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function fileOnly(
  root: ServedRoot,
  path: string,
  vpath: string,
): string | Promise<string> {
  return namesFolder(path) ? refusedAsFile(root, vpath) : vpath;
}

/** The refusal of a path in a folder's form, by what is there. */
async function refusedAsFile(root: ServedRoot, vpath: string): Promise<never> {
  const entry = await root.stat(vpath);
  if (entry.type !== "dir") throw notAFolder(vpath);
  throw new RemoteError("IS_DIR", `${quotePath(vpath === "/" ? "/" : `${vpath}/`)} is a folder`);
}

/**
 * STAT's answer checked against its path's form: an entry that is not a
 * folder, reached by a path in a folder's form, is refused (`NOT_DIR`).
 *
 * @param path The path as the client sent it.
 * @param vpath The same, resolved.
 * @param entry What STAT found there.
 * @returns `entry`.
 * @throws {RemoteError} NOT_DIR when the form and the entry disagree.
 *
 * @example
 * ```ts
 * import { statInForm } from "./folder_form.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const file = { name: "a", type: "file", size: 2, mtime: 0, mode: 0o644 } as const;
 * deepEqual(statInForm("a", "/a", file), file);
 * throws(() => statInForm("a/", "/a", file), /"\/a\/" is not a folder/);
 * ```
 */
export function statInForm(path: string, vpath: string, entry: Entry): Entry {
  if (entry.type !== "dir" && namesFolder(path)) throw notAFolder(vpath);
  return entry;
}
