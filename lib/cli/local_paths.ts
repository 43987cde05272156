/**
 * The local side of `get` and `put`, shared by the one-shot commands and
 * `bftp shell`: what a local path is, where a download lands (cp's rules:
 * into a folder that exists, under the remote name), the name an upload
 * takes, and the local wildcards of the shell's `put`.
 *
 * @module
 */

import { basename, join, posix, sep } from "../local_path.ts";
import { globToRegExp, hasWildcard } from "../client/glob.ts";
import { safeLocalName } from "../client/local.ts";
import { LocalIoError, localIoError } from "../errors.ts";

/**
 * What is at a local path, following links.
 *
 * @param path The local path.
 * @param action What the caller means to do there, for the error (`"read"`, `"write"`).
 * @returns `"dir"`, `"file"` (anything else that is there), or `null` when nothing is.
 * @throws {LocalIoError} When the path cannot be looked at (permission denied...).
 *
 * @example
 * ```ts
 * import { localKind } from "./local_paths.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(await localKind("/", "read"), "dir");
 * deepEqual(await localKind("/nonexistent/x", "write"), null);
 * ```
 */
export async function localKind(path: string, action: string): Promise<"dir" | "file" | null> {
  try {
    return (await Deno.stat(path)).isDirectory ? "dir" : "file";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw localIoError(action, path, e);
  }
}

/**
 * What an upload's local SRC is, which must exist.
 *
 * @param src The local file or folder.
 * @returns `"dir"` or `"file"`.
 * @throws {LocalIoError} When nothing is there, or it cannot be looked at.
 *
 * @example
 * ```ts
 * import { localSourceKind } from "./local_paths.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * deepEqual(await localSourceKind("/"), "dir");
 * await rejects(localSourceKind("/nonexistent/x"), /Cannot read "\/nonexistent\/x": not found/);
 * ```
 */
export async function localSourceKind(src: string): Promise<"dir" | "file"> {
  const kind = await localKind(src, "read");
  if (kind === null) throw new LocalIoError(`Cannot read "${src}": not found`);
  return kind;
}

/**
 * Where a download of `remote` lands, as with cp and scp. A file goes to
 * LOCAL, or into it when it is a folder, under the remote name (the remote
 * name in the current folder without LOCAL). A folder tree goes to LOCAL
 * itself when that is not a folder yet, and into it otherwise; one that has
 * no name of its own (`/`, `.`, `..`) goes to LOCAL itself, or the current
 * folder.
 *
 * @param remote The remote path.
 * @param local The local destination the user gave, if any.
 * @param tree The remote path is a folder (`-r`).
 * @returns The local file or folder to write.
 * @throws {ProtocolError} When the remote name is not fit for a local file.
 * @throws {LocalIoError} When LOCAL cannot be looked at.
 *
 * @example
 * ```ts
 * import { downloadDestination } from "./local_paths.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * deepEqual(await downloadDestination("/docs/a.txt", undefined, false), "a.txt");
 * deepEqual(await downloadDestination("/docs/a.txt", dir, false), `${dir}/a.txt`);
 * deepEqual(await downloadDestination("/docs", `${dir}/new`, true), `${dir}/new`);
 * deepEqual(await downloadDestination("/docs", dir, true), `${dir}/docs`);
 * deepEqual(await downloadDestination("/", undefined, true), ".");
 * await Deno.remove(dir);
 * ```
 */
export async function downloadDestination(
  remote: string,
  local: string | undefined,
  tree: boolean,
): Promise<string> {
  const name = posix.basename(remote);
  if (tree && (name === "" || name === "." || name === "..")) return local ?? ".";
  const dest = local ?? safeLocalName(name);
  if (tree && local === undefined) return dest;
  return (await localKind(dest, "write")) === "dir" ? join(dest, safeLocalName(name)) : dest;
}

/**
 * The name an upload of a local path takes on the server: its last part
 * (trailing slashes aside), or `root` for `/`.
 *
 * @param src The local file or folder.
 * @returns The name.
 *
 * @example
 * ```ts
 * import { uploadName } from "./local_paths.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(uploadName("photos/2024/"), "2024");
 * deepEqual(uploadName("/"), "root");
 * ```
 */
export function uploadName(src: string): string {
  return basename(src.replace(/[\/\\]+$/, "")) || "root";
}

/**
 * The local paths a wildcard path stands for, as sftp's `put *.log` takes
 * them (in `bftp shell`, where no shell expands them first): the names in
 * its folder that its last part matches (`*`, `?`, `[abc]`; `*` and `?`
 * pass over a leading dot), in name order. The path itself when its last
 * part has no wildcard, a file of that very name exists, or nothing
 * matches (the upload then says it is not found). A match that is neither
 * a file nor a folder (a FIFO, a socket, a device; a link to none of them)
 * is left out and told to `onSkip`, as sftp skips a non-regular file: a
 * FIFO would wait for a writer for ever.
 *
 * @param path The local path, its last part perhaps a pattern.
 * @param onSkip Told of each match left out, with why.
 * @returns The paths, at least one.
 * @throws {LocalIoError} When the folder cannot be read.
 *
 * @example
 * ```ts
 * import { expandLocalGlob } from "./local_paths.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * for (const name of ["b.log", "a.log", "c.txt", ".d.log"]) await Deno.writeTextFile(`${dir}/${name}`, "");
 * deepEqual(await expandLocalGlob(`${dir}/*.log`), [`${dir}/a.log`, `${dir}/b.log`]);
 * deepEqual(await expandLocalGlob(`${dir}/*.png`), [`${dir}/*.png`]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function expandLocalGlob(
  path: string,
  onSkip?: (path: string, why: string) => void,
): Promise<string[]> {
  const cut = Math.max(path.lastIndexOf("/"), sep === "\\" ? path.lastIndexOf("\\") : -1);
  if (!hasWildcard(path.slice(cut + 1)) || (await localKind(path, "read")) !== null) return [path];
  const folder = cut < 0 ? "." : path.slice(0, cut + 1);
  const re = globToRegExp(path.slice(cut + 1));
  let entries: Deno.DirEntry[];
  try {
    entries = (await Array.fromAsync(Deno.readDir(folder))).filter((e) => re.test(e.name));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [path];
    throw localIoError("read", folder, e);
  }
  if (entries.length === 0) return [path];
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const kept: string[] = [];
  for (const entry of entries) {
    const p = path.slice(0, cut + 1) + entry.name;
    if (isFileOrFolder(entry, p)) kept.push(p);
    else onSkip?.(p, "not a regular file or folder");
  }
  return kept;
}

/** A listed entry to send: a file or a folder, or a link to one (its kind read only then). */
function isFileOrFolder(entry: Deno.DirEntry, path: string): boolean {
  if (entry.isFile || entry.isDirectory) return true;
  if (!entry.isSymlink) return false;
  try {
    const info = Deno.statSync(path);
    return info.isFile || info.isDirectory;
  } catch {
    return true; // a link to nothing: its upload says so
  }
}
