/**
 * A tree download's local folders: each made (or, when there, checked and
 * its stale temporaries swept) before its files land, a link where a
 * remote folder goes refused rather than followed.
 *
 * @module
 */

import { LocalIoError, localIoError } from "../errors.ts";
import { sweepFolder } from "../local_file/mod.ts";

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
