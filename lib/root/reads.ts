/**
 * Reads from the served root: a regular file opened beneath the root, with
 * what is known of it (size, times, mode, remembered hashes), and the
 * checks that say whether a remembered hash still vouches for its bytes.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import { hashPrefix } from "../file_hash.ts";
import type { ChecksumName } from "../checksum.ts";
import type { Confined } from "./confined.ts";
import { about, permissionBits } from "./fs_errors.ts";
import { contentKey, type HashCache, settled } from "./hash_cache.ts";
import { quotePath } from "./paths.ts";
import type { ReadFile, Ref } from "./tree_backend.ts";
import { SYNC_READ_MAX } from "../framing/file_reader.ts";

/** A file opened for reading by `ServedRoot.openRead`. */
export interface OpenedFile {
  /** The open file; the caller closes it. */
  file: ReadFile;
  /** Its size when opened. */
  size: number;
  /** Its modification time (ms since the epoch), or `null`. */
  mtime: number | null;
  /** Its permission bits (0 to 0o777), or `null` where there are none. */
  mode: number | null;
  /** Its SHA-256 when already known. */
  sha256: string | undefined;
  /** Its hash in `checksum` when already known (`sha256` for SHA-256). */
  known(checksum: ChecksumName): string | undefined;
  /** Remembers a hash computed while serving it (if the file had settled when opened). */
  remember(hash: string, checksum: ChecksumName): void;
  /**
   * Whether the file is still the version it was when opened (same size
   * and times): a remembered hash vouches for the bytes read only then.
   */
  unchanged(): boolean;
  /**
   * Whether the file's bytes are known to have changed since it was opened
   * (cut shorter, or written in place: the same size, another modification
   * time): the bytes read may then mix two versions. A file that grew is
   * taken for one appended to (a log), and a writer that puts the time back
   * to the nanosecond is not seen.
   */
  changed(): boolean;
  /**
   * Whether the remembered `hash` still vouches for the file's bytes:
   * unchanged, or, when only its status moved (it was renamed, or unlinked
   * by an upload replacing it), its whole content read again from the open
   * file still has that hash and the file stayed still meanwhile.
   */
  stillMatches(hash: string, checksum: ChecksumName): Promise<boolean>;
  /** Closes the file. */
  close(): void;
}

/**
 * Opens a regular file beneath the root for reading, synchronously, as
 * nginx opens files in its event loop: on a local disk each call takes
 * microseconds, where an asynchronous one hops to Deno's I/O pool and back.
 * Folders, FIFOs and devices are refused before anything is opened
 * (opening a FIFO would block).
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { HashCache } from "./hash_cache.ts";
 * import { openForReading } from "./reads.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 *   const opened = openForReading(new Confined(dir), new HashCache(), "/a.txt");
 *   equal(opened.size, 2);
 *   opened.close();
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param c The confined tree.
 * @param hashes The cache of known hashes.
 * @param vpath A normalized virtual path.
 * @returns The open file and what is known of it.
 */
export function openForReading(c: Confined, hashes: HashCache, vpath: string): OpenedFile {
  const openedAt = Date.now();
  using found = c.resolve(vpath, true);
  const { ref, stat } = found.target!;
  if (stat.type === "dir") throw new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder`);
  if (stat.type !== "file") {
    throw new RemoteError("NOT_REGULAR", `Refused ${quotePath(vpath)}: not a regular file`);
  }
  // The descriptor names the very file checked above: it is opened, not its name again.
  const file = about(vpath, () => c.fs.openFile(ref, stat.size <= SYNC_READ_MAX));
  const kept = found.keep(ref);
  const key = contentKey(stat);
  return {
    file,
    size: stat.size,
    mtime: stat.mtimeNs === null ? null : Number(stat.mtimeNs / 1_000_000n),
    mode: permissionBits(stat),
    sha256: hashes.get(key, "sha256"),
    known: (checksum) => hashes.get(key, checksum),
    remember: (hash, checksum) => {
      if (settled(stat, openedAt)) hashes.set(key, hash, checksum);
    },
    unchanged: () => key !== null && contentKey(c.fs.stat(kept)) === key,
    // Size and modification time, not the change time: an upload that renames a new file over
    // this one changes the old file's change time (a link fewer), not its bytes. A file that
    // grew is taken for one appended to (a log being written), whose first `size` bytes, the
    // ones sent, stay as they were; one rewritten and grown at once cannot be told from it.
    changed: () => {
      const now = c.fs.stat(kept);
      return now.size < stat.size || (now.size === stat.size && now.mtimeNs !== stat.mtimeNs);
    },
    stillMatches: (hash, checksum) => stillMatches(c, file, kept, key, hash, checksum),
    close: () => {
      file.close();
      c.fs.release(kept);
    },
  };
}

/** {@linkcode OpenedFile.stillMatches} for the file open at `ref`. */
async function stillMatches(
  c: Confined,
  file: ReadFile,
  ref: Ref,
  key: string | null,
  hash: string,
  checksum: ChecksumName,
): Promise<boolean> {
  if (key === null) return false;
  const before = contentKey(c.fs.stat(ref));
  if (before === key) return true;
  const size = c.fs.stat(ref).size;
  await file.seek(0, Deno.SeekMode.Start);
  const again = await hashPrefix(file, size, checksum);
  return again.bytes === size && again.hash.digest() === hash &&
    contentKey(c.fs.stat(ref)) === before;
}

/**
 * The SHA-256 of an opened file: remembered, or computed by reading it
 * once (and then remembered when the file stayed still meanwhile). The
 * file is not closed.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { HashCache } from "./hash_cache.ts";
 * import { hashOpened, openForReading } from "./reads.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   await Deno.writeTextFile(`${dir}/a.txt`, "");
 *   const opened = openForReading(new Confined(dir), new HashCache(), "/a.txt");
 *   const { sha256 } = await hashOpened(opened, "/a.txt");
 *   opened.close();
 *   equal(sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param opened The open file.
 * @param vpath Its virtual path, for the message when it changed meanwhile.
 * @returns Size and hash.
 * @throws {RemoteError} CHANGED when the file was written to while it was read.
 */
export async function hashOpened(
  opened: OpenedFile,
  vpath: string,
): Promise<{ size: number; sha256: string }> {
  if (opened.sha256 !== undefined) return { size: opened.size, sha256: opened.sha256 };
  const { hash, bytes } = await hashPrefix(opened.file, opened.size);
  const sha256 = hash.digest();
  // Written to meanwhile (in place, as cp and dd do): the bytes hashed may be of two versions.
  // Unchanged (one look, the usual case) says not changed too.
  if (bytes === opened.size && opened.unchanged()) opened.remember(sha256, "sha256");
  else if (bytes !== opened.size || opened.changed()) {
    throw new RemoteError("CHANGED", `${quotePath(vpath)} changed while it was hashed`);
  }
  return { size: bytes, sha256 };
}
