/**
 * The files a check moves: generated files of random content (hashed as
 * they are written) and the user's own files (hashed once before the run),
 * with names that are unique on the server.
 *
 * @module
 */

import { createHash, randomFillSync } from "node:crypto";
import { basename, join } from "../local_path.ts";
import { BftpError, LocalIoError, localIoError } from "../errors.ts";
import { sizeName } from "./sizes.ts";
import type { CheckFile } from "./types.ts";

const PIECE = 1 << 20;

/**
 * Hashes a local file with SHA-256, reading it in 1 MiB pieces.
 *
 * @param path The file.
 * @returns Its size and hash (lowercase hex).
 * @throws {LocalIoError} When it cannot be read.
 *
 * @example
 * ```ts
 * import { hashLocalFile } from "./files.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * try {
 *   const { size, sha256 } = await hashLocalFile(path);
 *   deepEqual(size, 0);
 *   deepEqual(sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function hashLocalFile(path: string): Promise<{ size: number; sha256: string }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw localIoError("read", path, e);
  }
  try {
    const hash = createHash("sha256");
    const buf = new Uint8Array(PIECE);
    let size = 0;
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      size += n;
    }
    return { size, sha256: hash.digest("hex") };
  } catch (e) {
    throw localIoError("read", path, e);
  } finally {
    file.close();
  }
}

/**
 * Writes a file of `size` random bytes into `dir`, named after its size
 * (`64MiB.bin`; `64MiB-2.bin` for a second one of that size: each file
 * keeps its own bytes), hashing it as it is written. Every 16 MiB it lets the
 * event loop run, so that Ctrl-C is heard, and stops when `signal` is
 * aborted (the check then removes its folder).
 *
 * @param dir The folder.
 * @param size The size in bytes.
 * @param signal Stops the writing (Ctrl-C, SIGTERM).
 * @returns The file, ready to check.
 * @throws {BftpError} INTERRUPTED when `signal` is aborted.
 *
 * @example
 * ```ts
 * import { generateFile } from "./files.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const file = await generateFile(dir, 1024);
 *   deepEqual([file.name, file.size, (await Deno.stat(file.path)).size], ["1KiB.bin", 1024, 1024]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function generateFile(
  dir: string,
  size: number,
  signal?: AbortSignal,
): Promise<CheckFile> {
  let name = `${sizeName(size)}.bin`;
  let path = join(dir, name);
  let file: Deno.FsFile | undefined;
  // Never over one made before (`--sizes 1KiB,1024B`): its hash would no longer be its bytes'.
  for (let i = 2; file === undefined; i++) {
    try {
      file = await Deno.open(path, { write: true, createNew: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw localIoError("write", path, e);
      name = `${sizeName(size)}-${i}.bin`;
      path = join(dir, name);
    }
  }
  const hash = createHash("sha256");
  try {
    const buf = new Uint8Array(Math.min(size, PIECE));
    for (let left = size, n = 1; left > 0; n++) {
      const piece = buf.subarray(0, Math.min(buf.byteLength, left));
      randomFillSync(piece);
      hash.update(piece);
      for (let done = 0; done < piece.byteLength;) done += file.writeSync(piece.subarray(done));
      left -= piece.byteLength;
      // A large file takes seconds: the signal's listeners run only between tasks.
      if (n % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      if (signal?.aborted) throw new BftpError("INTERRUPTED", "Interrupted");
    }
  } catch (e) {
    throw localIoError("write", path, e);
  } finally {
    file.close();
  }
  return { name, path, size, sha256: hash.digest("hex"), origin: "generated" };
}

/**
 * Describes a user's file for a check: its size and hash, taken once.
 *
 * @param path The file.
 * @returns The file, named by its base name.
 * @throws {LocalIoError} When it is missing, a folder, or unreadable.
 *
 * @example
 * ```ts
 * import { userFile } from "./files.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const file = await userFile(import.meta.filename!);
 * deepEqual([file.name, file.origin], ["files.ts", "user"]);
 * ```
 */
export async function userFile(path: string): Promise<CheckFile> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw localIoError("read", path, e);
  }
  if (!info.isFile) throw new LocalIoError(`Cannot check "${path}": not a regular file`);
  const { size, sha256 } = await hashLocalFile(path);
  return { name: basename(path), path, size, sha256, origin: "user" };
}

/**
 * Makes the names of a list of files unique, so that no two share a file
 * on the server: a repeated name gets `-2`, `-3`... before its extension.
 *
 * @param files The files, in order.
 * @returns The same files, renamed where needed.
 *
 * @example
 * ```ts
 * import { uniqueNames } from "./files.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const f = (name: string) => ({ name, path: name, size: 0, sha256: "", origin: "user" as const });
 * deepEqual(uniqueNames([f("a.txt"), f("a.txt"), f("b")]).map((x) => x.name), ["a.txt", "a-2.txt", "b"]);
 * ```
 */
export function uniqueNames(files: readonly CheckFile[]): CheckFile[] {
  const seen = new Set<string>();
  return files.map((file) => {
    let name = file.name;
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let i = 2; seen.has(name); i++) name = `${stem}-${i}${ext}`;
    seen.add(name);
    return name === file.name ? file : { ...file, name };
  });
}
