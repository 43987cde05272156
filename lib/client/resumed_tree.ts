/**
 * Where an earlier `get -r --resume` of a remote tree landed: a local
 * folder whose partial downloads (`.NAME.bftp-partial.json`, beside each
 * file cut short) name files of that very tree. A second run of the same
 * command then continues in that folder, rather than taking it for an
 * existing folder to put a new copy in (as cp and scp -r would).
 *
 * @module
 */

import { join } from "node:path";
import { PARTIAL_STATE_SUFFIX, readPartialState } from "./resume.ts";

/**
 * Whether `folder` holds the state of a cut download of a file right in
 * the remote folder `remote` (not deeper: a file's state lies beside it).
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
 * const state = { path: "/photos/a.jpg", version: { size: 10, mtime: null } };
 * await Deno.writeTextFile(`${dir}/.a.jpg.bftp-partial.json`, JSON.stringify(state));
 * equal(await holdsPartsOf(dir, "/photos"), true);
 * equal(await holdsPartsOf(dir, "/music"), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function holdsPartsOf(folder: string, remote: string): Promise<boolean> {
  const prefix = remote.endsWith("/") ? remote : `${remote}/`;
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(folder));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
  for (const entry of entries) {
    if (
      !entry.isFile || !entry.name.startsWith(".") || !entry.name.endsWith(PARTIAL_STATE_SUFFIX)
    ) continue;
    const state = await readPartialState(join(folder, entry.name));
    const name = state?.path.startsWith(prefix) ? state.path.slice(prefix.length) : "";
    if (name !== "" && !name.includes("/")) return true;
  }
  return false;
}
