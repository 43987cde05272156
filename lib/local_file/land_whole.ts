/**
 * A small verified body landed in one go: a new temporary beside the final
 * name (created exclusively and locked, see `lock.ts`), the bytes, the
 * times and bits, then the rename over the final name. On Linux every step
 * is one synchronous libc call on the temporary's own descriptor; without
 * libc it is an {@linkcode AtomicFile}.
 *
 * A clean-up may remove a temporary between its creation and its lock (it
 * removes only those it can lock). An {@linkcode AtomicFile} looks again
 * once locked; here the body is whole in memory, so the rename's `ENOENT`
 * tells it instead, and the landing starts over with a new name: one
 * `statx` less a file, for the many small files of a tree.
 *
 * Where nothing is at the final name (a listing just said so), the body
 * goes into an unnamed file (`O_TMPFILE`) that is then linked under the
 * final name: no temporary name, no lock, no rename, and nothing left
 * behind by a crash. A filesystem without unnamed files, a name taken
 * meanwhile, or a link refused as missing, falls back to the temporary.
 *
 * @module
 */

import { dirname } from "../local_path.ts";
import { localIoError } from "../errors.ts";
import { FdFile } from "../libc/fd_file.ts";
import { noUnnamedFiles, O } from "../libc/flags.ts";
import { Libc } from "../libc/libc.ts";
import { newFileMode, type ServerAttributes, stampFile } from "./attributes.ts";
import { AtomicFile, modeAt, TEMP_FLAGS, TEMP_MODE, temporaryStem } from "./atomic_file.ts";
import { byPath, type EntryAt, type LocalTree } from "./local_tree.ts";

/** Options for {@linkcode landWhole}. */
export interface LandWholeOptions extends ServerAttributes {
  /**
   * Nothing is at the path (a listing just said so): the look for a
   * replaced file's permission bits is skipped.
   *
   * @default {false}
   */
  absent?: boolean | undefined;
  /**
   * The server's permission bits, for a file that replaces none (less the
   * umask, see `newFileMode`); a replaced file keeps its own, and `mode`
   * (`-p`) wins over both.
   *
   * @default {undefined} (`0o644`)
   */
  newMode?: number | null | undefined;
  /** Told how long creating the temporary took (ms), for a lander still deciding. */
  onCreate?: ((ms: number) => void) | undefined;
  /**
   * The tree `dest` is in: its folder is reached from the tree's top
   * without following a link, and the file is made relative to it.
   *
   * @default {undefined} (by path)
   */
  tree?: LocalTree | undefined;
}

/** How many fresh names a landing tries when its temporary keeps being removed. */
const ATTEMPTS = 3;

/**
 * Lands `data` at `dest`, atomically: `dest` is either as it was or the
 * whole new file. A replaced file's permission bits are kept unless `mode`
 * is given; `mtime` is given to the new file.
 *
 * @param dest The final path; its folder exists.
 * @param data The whole verified body.
 * @param options The time and bits to give it, and whether anything is there.
 * @throws {LocalIoError} When it cannot be written (nothing is left behind).
 *
 * @example
 * ```ts
 * import { landWhole } from "./land_whole.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await landWhole(`${dir}/a.txt`, new TextEncoder().encode("hi"), { mtime: 1_000_000_000_000, mode: 0o600 });
 * const info = await Deno.stat(`${dir}/a.txt`);
 * deepEqual([await Deno.readTextFile(`${dir}/a.txt`), info.mtime?.getTime(), info.mode! & 0o777], ["hi", 1_000_000_000_000, 0o600]);
 * deepEqual([...Deno.readDirSync(dir)].length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function landWhole(
  dest: string,
  data: Uint8Array,
  options: LandWholeOptions,
): Promise<void> {
  if (!landWholeNow(dest, data, options)) await landByDeno(dest, data, options);
}

/**
 * {@linkcode landWhole} at once, by libc's synchronous calls; `false`
 * where libc cannot be reached (nothing done: {@linkcode landWhole} is then
 * the way).
 *
 * @param dest The final path; its folder exists.
 * @param data The whole verified body.
 * @param options The time and bits to give it, and whether anything is there.
 * @returns Whether it landed.
 * @throws {LocalIoError} When it cannot be written (nothing is left behind).
 *
 * @example
 * ```ts
 * import { landWholeNow } from "./land_whole.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const landed = landWholeNow(`${dir}/a.txt`, new TextEncoder().encode("hi"), { absent: true, mtime: null, mode: null });
 * if (landed) equal(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function landWholeNow(dest: string, data: Uint8Array, options: LandWholeOptions): boolean {
  const libc = Libc.load();
  if (libc === null) return false;
  try {
    const at = options.tree?.at(dest) ?? byPath(dest);
    // Nothing there (a listing just said so): an unnamed file, made with its bits.
    if (options.absent && landUnnamed(libc, at, data, options)) return true;
    // A replaced file keeps its bits (looked at now: one may have been put there since the
    // listing); a new one gets the server's, less the umask; `-p`'s win.
    const mode = options.mode ?? modeAt(libc, at) ?? newFileMode(options.newMode);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (landOnce(libc, at, data, { ...options, mode })) return true;
    }
    throw new Deno.errors.NotFound("The temporary file keeps disappearing");
  } catch (e) {
    throw localIoError("write", dest, e);
  }
}

/** One attempt: `false` when the temporary was removed under it (start over). */
function landOnce(libc: Libc, at: EntryAt, data: Uint8Array, options: LandWholeOptions): boolean {
  const temp = `${temporaryStem(at.name)}${crypto.randomUUID()}`;
  const started = performance.now();
  // The owner's bits alone until its own are given (a private file is never readable by others).
  const file = new FdFile(libc.openat(at.dir, temp, TEMP_FLAGS, TEMP_MODE), true);
  options.onCreate?.(performance.now() - started);
  try {
    // A fresh random name: a lock held by another is a clean-up's, about to remove it.
    if (!file.tryLockSync(true)) return forget(libc, at.dir, temp);
    writeStamped(file, data, options);
    libc.renameat(at.dir, temp, at.dir, at.name);
    return true;
  } catch (e) {
    // Renamed away from under it: removed by a clean-up that found it before the lock.
    if (e instanceof Deno.errors.NotFound) return forget(libc, at.dir, temp);
    forget(libc, at.dir, temp);
    throw e;
  } finally {
    file.close();
  }
}

/** Whether this process's filesystems have refused an unnamed file (`EOPNOTSUPP`, `EISDIR`). */
let unnamedRefused = false;

/** `openat` flags of an unnamed file in a folder. */
const UNNAMED_FLAGS = O.O_WRONLY | O.O_TMPFILE | O.O_CLOEXEC;

/**
 * Lands `data` as an unnamed file linked under `dest`; `false` when that
 * cannot be done here (no unnamed files, or `dest` taken since it was
 * listed): the caller lands it by a temporary instead.
 */
function landUnnamed(
  libc: Libc,
  at: EntryAt,
  data: Uint8Array,
  options: LandWholeOptions,
): boolean {
  if (unnamedRefused) return false;
  const started = performance.now();
  let fd: number;
  try {
    // Made with its own bits at once: no name shows it before it is whole.
    fd = libc.openat(at.dir, dirname(at.name), UNNAMED_FLAGS, newFileMode(options.newMode));
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    // No unnamed files there: not asked again. Any other refusal (a missing folder) is left to
    // the temporary, whose error says what is wrong.
    if (noUnnamedFiles(e)) unnamedRefused = true;
    return false;
  }
  options.onCreate?.(performance.now() - started);
  // Closed unlinked (any failure below): the kernel frees it, nothing is left anywhere.
  const file = new FdFile(fd, true);
  try {
    writeStamped(file, data, options);
    libc.linkFd(fd, at.dir, at.name);
    return true;
  } catch (e) {
    // Taken meanwhile; or ENOENT, which is also what linking through /proc/self/fd says where
    // /proc is missing (without root's capability): the temporary's way tells which.
    if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotFound) return false;
    throw e;
  } finally {
    file.close();
  }
}

/** Writes all of `data` to a new file, then gives it `options`' bits and time. */
function writeStamped(file: FdFile, data: Uint8Array, options: LandWholeOptions): void {
  for (let done = 0; done < data.byteLength;) done += file.writeSync(data.subarray(done));
  stampFile(file, options);
}

/** Removes a temporary that is not to land (if still there); returns `false`, for a retry. */
function forget(libc: Libc, dir: number, temp: string): false {
  try {
    libc.unlinkat(dir, temp, 0);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return false;
}

/** Without libc: an {@linkcode AtomicFile}. */
async function landByDeno(
  dest: string,
  data: Uint8Array,
  options: LandWholeOptions,
): Promise<void> {
  // No tree: without libc there is none.
  const out = await AtomicFile.create(dest);
  try {
    for (let done = 0; done < data.byteLength;) done += await out.write(data.subarray(done));
  } catch (e) {
    await out.discard();
    throw e;
  }
  await out.commit(options, options.newMode);
}
