/**
 * Where an earlier `get -r --resume` of a remote tree landed: a local
 * folder holding, at any depth, the partial download of a file of that
 * very tree (`.NAME.bftp-partial.json` beside the file cut short, naming
 * the remote file at the same place in the tree). A second run of the same
 * command then continues in that folder, rather than taking it for an
 * existing folder to put a new copy in (as cp and scp -r would).
 *
 * @module
 */

import { basename, dirname, join } from "../local_path.ts";
import { folderEntries } from "../local_file/local_tree.ts";
import { PARTIAL_STATE_SUFFIX, partialName, readPartialState } from "./resume.ts";

/**
 * The most entries {@linkcode holdsPartsOf} reads looking for a cut run: a
 * DEST of a million files is not read through for every `get -r --resume`.
 */
export const RESUME_LOOK_ENTRIES = 50_000;

/**
 * Whether `folder` holds the state of a cut download of a file of the
 * remote folder `remote`, at the same place below it (a file's state lies
 * beside it): `a/.b.bftp-partial.json` naming `REMOTE/a/b`. Folders are
 * read breadth first, links not followed, up to
 * {@linkcode RESUME_LOOK_ENTRIES} entries.
 *
 * @param folder The local folder.
 * @param remote The remote folder, absolute.
 * @returns `true` when such a state is there.
 *
 * @example
 * ```ts
 * import { holdsPartsOf } from "./resumed_tree.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/2024`);
 * const state = { path: "/photos/2024/a.jpg", version: { size: 10, mtime: null } };
 * await Deno.writeTextFile(`${dir}/2024/.a.jpg.bftp-partial.json`, JSON.stringify(state));
 * equal(await holdsPartsOf(dir, "/photos"), true);
 * equal(await holdsPartsOf(dir, "/music"), false);
 * equal(await holdsPartsOf(`${dir}/2024`, "/photos"), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function holdsPartsOf(folder: string, remote: string): Promise<boolean> {
  const top = remote.endsWith("/") ? remote.slice(0, -1) : remote;
  // Breadth first, by an index into the queue (not shift(): up to 50,000 entries).
  const queue = [""];
  for (let next = 0, read = 0; next < queue.length && read < RESUME_LOOK_ENTRIES; next++) {
    const relative = queue[next]!;
    const entries = folderEntries(join(folder, relative));
    read += entries.length;
    // The remote folder a state file found here must name.
    const here = (relative === "" ? top : `${top}/${relative}`) || "/";
    for (const entry of entries) {
      const below = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory) queue.push(below);
      if (!entry.isFile || !entry.name.endsWith(PARTIAL_STATE_SUFFIX)) continue;
      const state = await readPartialState(join(folder, below));
      const path = state?.path ?? "";
      if (dirname(path) === here && `${partialName(basename(path))}.json` === entry.name) {
        return true;
      }
    }
  }
  return false;
}
