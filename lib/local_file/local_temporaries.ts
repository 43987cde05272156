/**
 * The temporaries local writers leave beside their destinations
 * (`.NAME.bftp-tmp-<UUID>`, see `atomic_file.ts`): their names, and the
 * sweep that removes those a killed process left, once nobody holds their
 * lock.
 *
 * @module
 */

import { join } from "node:path";
import { hiddenStem } from "./hidden_names.ts";

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
 * deepEqual(await removeStaleTemporaries(dir, "a.txt"), 1);
 * deepEqual([...Deno.readDirSync(dir)].length, 0);
 * await Deno.remove(dir);
 * ```
 */
export async function removeStaleTemporaries(dir: string, name?: string): Promise<number> {
  return (await sweep(dir, name)).removed;
}

/**
 * Removes the stale temporaries of a whole folder, as
 * {@linkcode removeStaleTemporaries} does, and tells the names left in it:
 * one reading of the folder for both (a tree's download makes one call per
 * folder).
 *
 * @param dir The local folder.
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
 * deepEqual([...await sweepFolder(dir)], ["b.txt"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sweepFolder(dir: string): Promise<Set<string>> {
  return (await sweep(dir)).left;
}

/** Reads `dir` once, removes the stale temporaries (of `name`, or all), tells what is left. */
async function sweep(dir: string, name?: string): Promise<{ removed: number; left: Set<string> }> {
  let entries: Deno.DirEntry[];
  try {
    // Synchronous: one call for the folder, where the asynchronous iterator hops to Deno's I/O
    // pool and back for each entry (5,000 files in 50 folders: 5.6-7 ms against 14-31 ms).
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      return { removed: 0, left: new Set() };
    }
    throw e;
  }
  const stem = name === undefined ? "." : `${hiddenStem(name)}.bftp-`;
  const left = new Set<string>();
  let removed = 0;
  for (const d of entries) {
    const stale = d.isFile && d.name.startsWith(stem) && isLocalTemporaryName(d.name) &&
      await removeIfUnlocked(join(dir, d.name));
    if (stale) removed++;
    else left.add(d.name);
  }
  return { removed, left };
}

/** Removes the file at `path` if its lock can be taken at once (nobody writes it). */
async function removeIfUnlocked(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      return false;
    }
    throw e;
  }
  try {
    if (!(await file.tryLock(true))) return false;
    await Deno.remove(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  } finally {
    file.close();
  }
}
