/**
 * A tree download's local folders: each made (or, when there, checked and
 * its stale temporaries swept) before its files land, a link where a
 * remote folder goes refused rather than followed.
 *
 * @module
 */

import { LocalIoError, localIoError } from "../errors.ts";
import { sweepFolder } from "../local_file/mod.ts";
import { localChild, type PlannedEntry } from "./tree_plan.ts";

/**
 * Makes (or checks) one local folder of a download; returns the names in it
 * (stale temporaries swept). A symbolic link where a remote folder goes is
 * refused, never followed (the top DEST is the user's, and may be one).
 *
 * @param path The local folder.
 * @param top Whether it is the tree's top (which may be a link).
 * @param made Where a folder this call creates is noted.
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
 * deepEqual(await prepareFolder(`${dir}/new`, false, made), new Set());
 * deepEqual(made, [`${dir}/new`]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function prepareFolder(
  path: string,
  top: boolean,
  made: string[],
): Promise<Set<string>> {
  // Synchronous, as nothing else is under way yet: a tree's 51 folders took 6.5-7.3 ms to look
  // at and make through Deno's I/O pool (a hop there and back each call), 0.9-1.1 ms so.
  let there: Deno.FileInfo | null;
  try {
    there = Deno.lstatSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw localIoError("create folder", path, e);
    there = null;
  }
  if (!top && there?.isSymlink) {
    throw new LocalIoError(`Cannot write into "${path}": it is a symbolic link`);
  }
  try {
    Deno.mkdirSync(path, { recursive: true });
  } catch (e) {
    throw localIoError("create folder", path, e);
  }
  if (there === null) {
    made.push(path);
    return new Set();
  }
  return await sweepFolder(path);
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
 * await prepareFolders(folders, [], present, (f) => (told.push(f.relative), true));
 * deepEqual([...present.keys()], [`${dir}/`, `${dir}/a/`]);
 * deepEqual(told, ["b"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function prepareFolders(
  folders: readonly PlannedEntry[],
  made: string[],
  present: Map<string, ReadonlySet<string>>,
  failed: (folder: PlannedEntry, e: unknown) => boolean,
): Promise<void> {
  const left: string[] = [];
  for (const [i, folder] of folders.entries()) {
    const key = localChild(folder.local, "");
    if (left.some((f) => key.startsWith(f))) continue;
    try {
      present.set(key, await prepareFolder(folder.local, i === 0, made));
    } catch (e) {
      if (i === 0 || !failed(folder, e)) throw e;
      left.push(key);
    }
  }
}
