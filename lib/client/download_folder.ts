/**
 * A tree download's local folders: the top made and held
 * ({@linkcode openTop}, a `LocalTree`), then each folder below it made (or,
 * when there, checked and its stale temporaries swept) before its files
 * land, relative to its parent's descriptor: a link where a remote folder
 * goes is refused rather than followed, also one put there meanwhile.
 *
 * @module
 */

import { newFolderBits } from "../local_file/attributes.ts";
import { LocalIoError, localIoError } from "../errors.ts";
import { LocalTree, sweepFolder } from "../local_file/mod.ts";
import { localChild, type PlannedEntry } from "./tree_plan.ts";

/**
 * Makes a download's top folder if missing (parents too; a link there is
 * followed: the top is the user's DEST) and holds it: every folder and
 * file below it is then reached from it without following a link
 * (`undefined` where there is no libc: by path). A top the download names
 * itself in the user's folder (`nested`: DEST/NAME) is not followed when
 * it is a link, and its folder must exist.
 *
 * @param path The top folder.
 * @param made Where it is noted when this call creates it.
 * @param nested Whether the top is a name the download adds to the user's DEST.
 * @returns The tree, or `undefined`.
 * @throws {LocalIoError} When it cannot be made or opened.
 *
 * @example
 * ```ts
 * import { openTop } from "./download_folder.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const made: string[] = [];
 * using tree = openTop(`${dir}/new/top`, made);
 * deepEqual([made, tree?.top ?? `${dir}/new/top`], [[`${dir}/new/top`], `${dir}/new/top`]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openTop(path: string, made: string[], nested = false): LocalTree | undefined {
  try {
    const opened = nested ? LocalTree.openNested(path) : undefined;
    if (opened !== undefined) {
      if (opened.made) made.push(path);
      return opened.tree;
    }
    try {
      Deno.mkdirSync(path);
      made.push(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        Deno.mkdirSync(path, { recursive: true });
        made.push(path);
      } else if (!(e instanceof Deno.errors.AlreadyExists) || !isFolder(path)) throw e;
    }
    return LocalTree.open(path);
  } catch (e) {
    throw localIoError("create folder", path, e);
  }
}

/** Whether `path` is a folder, or a link to one (the user's DEST may be). */
function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

/**
 * Makes (or checks) one local folder of a download; returns the names in it
 * (stale temporaries swept). A symbolic link where a remote folder goes is
 * refused, never followed (the top DEST is the user's, and may be one).
 * With the download's `tree`, the folder is made and read relative to its
 * parent's descriptor (the top: made by {@linkcode openTop}).
 *
 * @param path The local folder.
 * @param top Whether it is the tree's top (made and opened by {@linkcode openTop}: only swept).
 * @param made Where a folder this call creates is noted.
 * @param tree The download's tree, if held.
 * @param mode The server's bits for the folder, if known: a new one gets them (and its owner's
 *   own), less the umask, as scp and rsync make it; else as `mkdir` does.
 * @returns The names in the folder.
 * @throws {LocalIoError} For a link, or when it cannot be made or read.
 *
 * @example
 * ```ts
 * import { prepareFolder } from "./download_folder.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const made: string[] = [];
 * deepEqual(prepareFolder(`${dir}/new`, false, made), new Set());
 * deepEqual(made, [`${dir}/new`]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function prepareFolder(
  path: string,
  top: boolean,
  made: string[],
  tree?: LocalTree,
  mode?: number | null,
): Set<string> {
  // The owner's own bits too: the download writes into it.
  const bits = newFolderBits(mode);
  // The top is made and opened already (`openTop`): only swept, unless it is new.
  if (top) return made.includes(path) ? new Set() : sweepFolder(path, tree?.folder(path));
  if (tree === undefined) return prepareByPath(path, made, bits);
  let folder: { made: boolean; fd: number };
  try {
    // Made and opened relative to its parent: a link or a file in its place is refused (and
    // told), also one put there since it was listed.
    folder = tree.makeFolder(path, bits);
  } catch (e) {
    throw localIoError("create folder", path, e);
  }
  if (!folder.made) return sweepFolder(path, folder.fd);
  made.push(path);
  return new Set();
}

/** {@linkcode prepareFolder} without a tree (no libc): by path, a link looked for first. */
function prepareByPath(path: string, made: string[], bits: number): Set<string> {
  // Synchronous, as nothing else is under way yet: a tree's 51 folders took 6.5-7.3 ms to look
  // at and make through Deno's I/O pool (a hop there and back each call), 0.9-1.1 ms so.
  let there: Deno.FileInfo | null;
  try {
    there = Deno.lstatSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw localIoError("create folder", path, e);
    there = null;
  }
  if (there?.isSymlink) {
    throw new LocalIoError(`Cannot write into "${path}": it is a symbolic link`);
  }
  try {
    Deno.mkdirSync(path, { recursive: true, mode: bits });
  } catch (e) {
    throw localIoError("create folder", path, e);
  }
  if (there !== null) return sweepFolder(path);
  made.push(path);
  return new Set();
}

/**
 * Makes a download's local folders ({@linkcode prepareFolder}), the top
 * first, each with the names already in it into `present` (keyed by the
 * folder's path and a `/`). One below the top that cannot be made or
 * entered (a file or a link in its place, no permission) goes to `failed`:
 * when that answers `true` (told), it and everything below it are left out
 * of `present` and the others go on; else the error is thrown.
 *
 * @param folders The plan's folders, parents before children.
 * @param made Where the folders this download makes are added.
 * @param present Where each folder's names go.
 * @param failed Told a folder below the top that failed; `false` throws.
 * @param tree The download's tree (its top made by {@linkcode openTop}), if held.
 *
 * @example
 * ```ts
 * import { prepareFolders } from "./download_folder.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/b`, "a file where a folder goes");
 * const folders = ["", "a", "b", "b/c"].map((r) => ({ local: r ? `${dir}/${r}` : dir, relative: r, remote: "" }));
 * const present = new Map<string, ReadonlySet<string>>();
 * const told: string[] = [];
 * prepareFolders(folders, [], present, (f) => (told.push(f.relative), true));
 * deepEqual([...present.keys()], [`${dir}/`, `${dir}/a/`]);
 * deepEqual(told, ["b"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function prepareFolders(
  folders: readonly PlannedEntry[],
  made: string[],
  present: Map<string, ReadonlySet<string>>,
  failed: (folder: PlannedEntry, e: unknown) => boolean,
  tree?: LocalTree,
): void {
  const left: string[] = [];
  for (const [i, folder] of folders.entries()) {
    const key = localChild(folder.local, "");
    if (left.some((f) => key.startsWith(f))) continue;
    try {
      present.set(key, prepareFolder(folder.local, i === 0, made, tree, folder.mode));
    } catch (e) {
      if (i === 0 || !failed(folder, e)) throw e;
      left.push(key);
    }
  }
}
