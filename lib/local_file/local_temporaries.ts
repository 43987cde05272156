/**
 * The temporaries local writers leave beside their destinations
 * (`.NAME.bftp-tmp-<UUID>`, see `atomic_file.ts`): their names, and the
 * sweep that removes those a killed process left, once nobody holds their
 * lock.
 *
 * @module
 */

import { join } from "../local_path.ts";
import { FdFile } from "../libc/fd_file.ts";
import { O } from "../libc/flags.ts";
import { Libc } from "../libc/libc.ts";
import { hiddenStem } from "./hidden_names.ts";
import { folderEntries } from "./local_tree.ts";

/** The infix of a local temporary file's name. */
export const LOCAL_TEMP_INFIX = ".bftp-tmp-";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/** A local temporary file: `.NAME.bftp-tmp-<UUID>`. */
export const LOCAL_TEMP_NAME: RegExp = new RegExp(`^\\..+\\.bftp-tmp-${UUID}$`);

/** The temporary names `http-get` used before. */
const OLD_TEMP_NAME = /^\..+\.bftp-[0-9a-f]{12}\.tmp$/;

/**
 * Whether `name` is the name of a local temporary file: today's
 * `.NAME.bftp-tmp-<UUID>`, or the `.NAME.bftp-<12 hex>.tmp` that `http-get`
 * used before, so that a clean-up still recognises those.
 *
 * @param name A file name (no folder).
 * @returns Whether it names a temporary.
 *
 * @example
 * ```ts
 * import { isLocalTemporaryName } from "./local_temporaries.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(isLocalTemporaryName(`.a.txt.bftp-tmp-${crypto.randomUUID()}`));
 * ok(isLocalTemporaryName(".a.txt.bftp-0123456789ab.tmp"));
 * ok(!isLocalTemporaryName("a.txt"));
 * ```
 */
export function isLocalTemporaryName(name: string): boolean {
  // Hidden names only: most names of a tree are not, and skip both patterns (in a profile of
  // a sync, its 5,000 names took about 10 ms through them).
  if (name.charCodeAt(0) !== 46) return false;
  return LOCAL_TEMP_NAME.test(name) || OLD_TEMP_NAME.test(name);
}

/**
 * Removes the temporary files that writers into `dir` left when they were
 * killed (SIGKILL, a power cut): a running writer holds an exclusive lock
 * on its temporary file, so a file that can be locked has no owner left.
 *
 * @param dir The local folder.
 * @param name Only the temporaries of this destination name; all when absent.
 * @returns How many were removed.
 *
 * @example
 * ```ts
 * import { removeStaleTemporaries } from "./local_temporaries.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/.a.txt.bftp-tmp-${crypto.randomUUID()}`, "half");
 * deepEqual(removeStaleTemporaries(dir, "a.txt"), 1);
 * deepEqual([...Deno.readDirSync(dir)].length, 0);
 * await Deno.remove(dir);
 * ```
 */
export function removeStaleTemporaries(dir: string, name?: string): number {
  return sweep(dir, name).removed;
}

/**
 * Removes the stale temporaries of a whole folder, as
 * {@linkcode removeStaleTemporaries} does, and tells the names left in it:
 * one reading of the folder for both (a tree's download makes one call per
 * folder).
 *
 * @param dir The local folder.
 * @param fd Its descriptor, where a tree holds it: read and swept through it, never by name.
 * @returns The names in it after the sweep (none when it cannot be read).
 *
 * @example
 * ```ts
 * import { sweepFolder } from "./local_temporaries.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/.a.txt.bftp-tmp-${crypto.randomUUID()}`, "half");
 * await Deno.writeTextFile(`${dir}/b.txt`, "b");
 * deepEqual([...sweepFolder(dir)], ["b.txt"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function sweepFolder(dir: string, fd?: number): Set<string> {
  return sweep(dir, undefined, fd).left;
}

/**
 * Reads `dir` once (by its descriptor `fd` where given: a held folder of a
 * tree), removes the stale temporaries (of `name`, or all), tells what is left.
 */
function sweep(dir: string, name?: string, fd?: number): { removed: number; left: Set<string> } {
  const entries = folderEntries(dir, fd);
  const stem = name === undefined ? "." : `${hiddenStem(name)}.bftp-`;
  const left = new Set<string>();
  const libc = fd === undefined ? null : Libc.load();
  let removed = 0;
  for (const d of entries) {
    const stale = d.isFile && d.name.startsWith(stem) && isLocalTemporaryName(d.name) &&
      (libc === null
        ? removeIfUnlocked(
          () => Deno.openSync(join(dir, d.name), { read: true }),
          () => Deno.removeSync(join(dir, d.name)),
        )
        : removeIfUnlocked(
          () => new FdFile(libc.openat(fd!, d.name, READ_NOFOLLOW), true),
          () => libc.unlinkat(fd!, d.name, 0),
        ));
    if (stale) removed++;
    else left.add(d.name);
  }
  return { removed, left };
}

/** How a stale temporary is opened to take its lock (non-blocking: a FIFO put in its place does not hold the open). */
const READ_NOFOLLOW = O.O_RDONLY | O.O_NOFOLLOW | O.O_NONBLOCK | O.O_CLOEXEC;

/**
 * Removes a temporary if its lock can be taken at once (nobody writes it):
 * opened by `open` (gone, not ours to open or a link: left alone), locked,
 * then `remove`d.
 */
function removeIfUnlocked(
  open: () => { tryLockSync(exclusive: boolean): boolean; close(): void },
  remove: () => void,
): boolean {
  let file;
  try {
    file = open();
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.FilesystemLoop
    ) return false;
    throw e;
  }
  try {
    if (!file.tryLockSync(true)) return false;
    remove();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  } finally {
    file.close();
  }
}
