/**
 * Removing an entry below a local folder without following a symbolic
 * link on the way: each folder between the top and the entry is opened
 * relative to the one above it, refusing a link (`O_NOFOLLOW` with
 * `O_DIRECTORY`), and the entry is removed relative to the last one
 * (`unlinkat`), so a folder swapped for a link while a `sync --delete`
 * runs cannot lead the removal outside the top. Where there is no libc
 * (not Linux), by path, as Deno removes.
 *
 * @module
 */

import { AT, Libc, O } from "../libc/mod.ts";

/** How an opened folder is held: a descriptor that only names it. */
const FOLDER_FLAGS = O.O_PATH | O.O_DIRECTORY | O.O_CLOEXEC;

/**
 * Removes `relative` below the folder `top`: a file, a link (itself) or,
 * with `folder`, an empty folder. A folder on the way that is a link (or
 * is not a folder) is refused (`NotADirectory` or `FilesystemLoop`), and
 * nothing is removed.
 *
 * @param top The top folder (a link there is followed: it is the caller's).
 * @param relative The entry's path below it, names joined by `/`.
 * @param folder Whether the entry is a folder.
 * @throws {Deno.errors.NotFound} (and Deno's other error classes) As
 * `Deno.remove` does.
 *
 * @example
 * ```ts
 * import { removeBeneath } from "./remove_beneath.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/top/sub`, { recursive: true });
 * await Deno.mkdir(`${dir}/outside`);
 * await Deno.writeTextFile(`${dir}/outside/a`, "keep");
 * await Deno.symlink(`${dir}/outside`, `${dir}/top/link`);
 * throws(() => removeBeneath(`${dir}/top`, "link/a", false));
 * equal(await Deno.readTextFile(`${dir}/outside/a`), "keep");
 * removeBeneath(`${dir}/top`, "sub", true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function removeBeneath(top: string, relative: string, folder: boolean): void {
  const libc = Libc.load();
  if (libc === null) return Deno.removeSync(`${top}/${relative}`);
  const names = relative.split("/");
  const name = names.pop()!;
  let fd = libc.openat(-100, top, FOLDER_FLAGS);
  try {
    for (const step of names) {
      const next = libc.openat(fd, step, FOLDER_FLAGS | O.O_NOFOLLOW);
      libc.close(fd);
      fd = next;
    }
    libc.unlinkat(fd, name, folder ? AT.REMOVEDIR : 0);
  } finally {
    libc.close(fd);
  }
}
