/**
 * Files this program keeps beside a destination between runs (a resumable
 * download's partial file and its state), opened and written never
 * through a link someone planted under their names: in a folder others
 * can write to, such a link would turn the download into a write
 * wherever it points.
 *
 * @module
 */

import { LocalIoError } from "../errors.ts";
import { sameFile } from "./lock.ts";

/** How often {@linkcode openOwnFile} looks again at a name that keeps changing. */
const ATTEMPTS = 3;

/**
 * Opens the file at `path` for reading and writing, creating it if
 * missing, never through a link: a new one is created exclusively (a link
 * at the name, even one to nothing, is not followed); a link or anything
 * but a regular file in its place is removed first, as not one of ours;
 * an existing file is kept only when the file opened is the one looked at.
 *
 * @param path The file.
 * @param mode Permission bits of a new file.
 * @returns The open file.
 * @throws {LocalIoError} When the name keeps changing under it.
 *
 * @example
 * ```ts
 * import { openOwnFile } from "./own_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/victim`, "theirs");
 * await Deno.symlink(`${dir}/victim`, `${dir}/.a.bftp-partial`);
 * using file = await openOwnFile(`${dir}/.a.bftp-partial`);
 * await file.write(new TextEncoder().encode("ours"));
 * equal(await Deno.readTextFile(`${dir}/victim`), "theirs");
 * equal((await Deno.lstat(`${dir}/.a.bftp-partial`)).isFile, true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openOwnFile(path: string, mode = 0o600): Promise<Deno.FsFile> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      return await Deno.open(path, { read: true, write: true, createNew: true, mode });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    let seen: Deno.FileInfo;
    try {
      seen = await Deno.lstat(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    if (!seen.isFile) {
      await Deno.remove(path);
      continue;
    }
    const file = await Deno.open(path, { read: true, write: true });
    if (sameFile(await file.stat(), seen)) return file;
    file.close();
  }
  throw new LocalIoError(`Cannot open "${path}": it keeps changing`);
}

/**
 * Writes `text` as the whole file at `path`, never through a link: into a
 * new file beside it, then renamed over the name (a link there is
 * replaced, not followed).
 *
 * @param path The file.
 * @param text Its new contents.
 *
 * @example
 * ```ts
 * import { writeOwnText } from "./own_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/victim`, "theirs");
 * await Deno.symlink(`${dir}/victim`, `${dir}/state.json`);
 * await writeOwnText(`${dir}/state.json`, "{}\n");
 * equal(await Deno.readTextFile(`${dir}/victim`), "theirs");
 * equal(await Deno.readTextFile(`${dir}/state.json`), "{}\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeOwnText(path: string, text: string): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(temporary, text, { createNew: true, mode: 0o600 });
    await Deno.rename(temporary, path);
  } catch (e) {
    await Deno.remove(temporary).catch(() => {});
    throw e;
  }
}
