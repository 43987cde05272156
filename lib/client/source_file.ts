/**
 * A local file as an upload reads it: what it is when opened, a reader,
 * and whether it changed since. On Linux (with FFI allowed) a small regular
 * file is opened, described and read through libc on one descriptor
 * (`openat`, `statx`, `read`): Deno's `statSync` builds a `FileInfo` with
 * its `Date`s, about 20 us a call here, and an upload of a tree made three
 * of them per file (the walk, the open, the check at the end), a fifth of
 * the client's CPU for 5,000 files of 4 KiB. Anything else (another OS, a
 * FIFO, a large file, a resumed upload) goes through `Deno.FsFile`.
 *
 * @module
 */

import { fileReader, SYNC_READ_MAX } from "../framing/file_reader.ts";
import { fillNow } from "../framing/read_exact.ts";
import type { ByteReader } from "../framing/types.ts";
import { FdFile } from "../libc/fd_file.ts";
import { O } from "../libc/flags.ts";
import { Libc, type StatNumbers, type StatX } from "../libc/libc.ts";

/** What a local file was when it was looked at. */
export interface LocalFacts {
  /** `file`, `dir`, `link` (only when not followed) or `other`. */
  type: StatX["type"];
  /** Size in bytes. */
  size: number;
  /** Modification time, ms since the epoch, or `null` where unknown. */
  mtime: number | null;
  /** Permission bits (`& 0o777`), or `null` (Windows). */
  mode: number | null;
}

/** A local file open to be sent. */
export interface SourceFile {
  /** What it was when opened (followed through links). */
  facts: LocalFacts;
  /** The open file, when opened by Deno (else `null`): what a resumed upload seeks in. */
  file: Deno.FsFile | null;
  /** A reader from its start: synchronous reads for small files. */
  reader(): ByteReader;
  /**
   * For a small file opened through libc: fills a buffer from its start at
   * once, as far as the file goes (see `fillNow`), and tells how many bytes.
   */
  fill?: ((p: Uint8Array) => number) | undefined;
  /** Whether it still has the size, modification time and change time it was opened with. */
  unchanged(): boolean;
  /** Closes it. */
  close(): void;
}

/** Errors the libc path gives as Deno would; any other is left to Deno's call to word. */
const WORDED = [Deno.errors.NotFound, Deno.errors.PermissionDenied, Deno.errors.NotADirectory];

function factsOfStat(s: StatNumbers): LocalFacts {
  // Floored to the millisecond (the nanoseconds are never negative), as Deno's `mtime` is.
  const mtime = s.mtimeSec * 1000 + Math.floor(s.mtimeNsec / 1_000_000);
  return { type: s.type, size: s.size, mtime, mode: s.mode & 0o777 };
}

function factsOfInfo(info: Deno.FileInfo): LocalFacts {
  const type = info.isFile ? "file" : info.isDirectory ? "dir" : info.isSymlink ? "link" : "other";
  return {
    type,
    size: info.size,
    mtime: info.mtime?.getTime() ?? null,
    mode: info.mode === null || Deno.build.os === "windows" ? null : info.mode & 0o777,
  };
}

/**
 * What `path` is, following links (as `stat`): by one `statx` on Linux.
 *
 * @param path A local path.
 * @returns Its facts.
 * @throws {Deno.errors.NotFound} (and Deno's other error classes) As `Deno.statSync` does.
 *
 * @example
 * ```ts
 * import { localFacts } from "./source_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hi");
 * equal(localFacts(path).size, 2);
 * equal(localFacts(path).type, "file");
 * await Deno.remove(path);
 * ```
 */
export function localFacts(path: string): LocalFacts {
  return localFactsIn(null, path, path);
}

/**
 * {@linkcode localFacts} of `name` in the folder open at `folder` (a
 * descriptor): the kernel looks up one name, not the whole path again
 * (statx by a five-name path about 2.5-3.5 us here, by a descriptor about
 * 1); `path` is the same file's path, where there is no libc.
 *
 * @param folder The folder's descriptor, or `null` to go by `path`.
 * @param name The entry's name in it.
 * @param path The entry's path.
 * @returns What it is, followed through links.
 *
 * @example
 * ```ts
 * import { localFactsIn } from "./source_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * equal(localFactsIn(null, "a.txt", `${dir}/a.txt`).size, 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function localFactsIn(folder: number | null, name: string, path: string): LocalFacts {
  const libc = Libc.load();
  if (libc !== null) {
    try {
      return factsOfStat(
        folder === null ? libc.statxNumbers(-100, path, 0) : libc.statxNumbers(folder, name, 0),
      );
    } catch (e) {
      if (WORDED.some((c) => e instanceof c)) throw e;
    }
  }
  return factsOfInfo(Deno.statSync(path));
}

/** A local folder open for looking up its names ({@linkcode openLocalFolder}). */
export interface LocalFolder extends Disposable {
  /** Its descriptor (`O_PATH`), or `null`: no libc, or it could not be opened. */
  readonly fd: number | null;
}

/**
 * Opens a local folder for looking up its names ({@linkcode localFactsIn});
 * where there is no libc or it cannot be opened, its `fd` is `null` and
 * the names are looked up by path, with the errors that gives.
 *
 * @param path The folder.
 * @returns The folder; dispose of it.
 *
 * @example
 * ```ts
 * import { openLocalFolder } from "./source_file.ts";
 * import { ok } from "node:assert/strict";
 *
 * using folder = openLocalFolder(Deno.cwd());
 * ok(folder.fd === null || folder.fd >= 0);
 * ```
 */
export function openLocalFolder(path: string): LocalFolder {
  const libc = Libc.load();
  let fd: number | null = null;
  try {
    fd = libc?.openat(-100, path, O.O_PATH | O.O_DIRECTORY | O.O_CLOEXEC) ?? null;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
  }
  return {
    fd,
    [Symbol.dispose]: () => {
      if (fd !== null) libc!.close(fd);
    },
  };
}

/**
 * A small regular file on one libc descriptor, or `null` (not one, or no
 * libc). `listed`: a listing has just seen a regular file there (a tree's
 * walk), so it is opened without a look first.
 */
function openByLibc(path: string, listed: boolean, noLink = false): SourceFile | null {
  const libc = Libc.load();
  if (libc === null) return null;
  let fd: number;
  try {
    // Looked at first, unless just listed: opening a FIFO, even without waiting, and closing it
    // again would cut off a writer that came meanwhile. A tree's file is opened at once (one
    // statx a file less, about 3 us of a small upload's): what is there is checked on the
    // descriptor below, and only a FIFO put in a listed file's place since is opened.
    const seen = listed ? null : libc.statxNumbers(-100, path, 0);
    if (seen !== null && (seen.type !== "file" || seen.size > SYNC_READ_MAX)) return null;
    fd = openNoWait(libc, path, noLink);
  } catch (e) {
    if (WORDED.some((c) => e instanceof c) || e instanceof ChangedSinceListed) throw e;
    return null;
  }
  const file = new FdFile(fd, true);
  try {
    const opened = libc.statxNumbers(fd, "", 0);
    // Replaced since it was looked at: not followed to what is there now (a FIFO's open waits).
    if (opened.type !== "file") throw notAFileNow();
    if (opened.size > SYNC_READ_MAX) {
      file.close();
      return null;
    }
    return new LibcSourceFile(libc, fd, file, opened);
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * A small regular file on one libc descriptor ({@linkcode openByLibc}): one
 * object a file, where five closures and their scope were made for each of
 * a tree's thousands.
 */
class LibcSourceFile implements SourceFile {
  readonly facts: LocalFacts;
  readonly file = null;
  #libc: Libc;
  #fd: number;
  #file: FdFile;
  #opened: StatNumbers;

  constructor(libc: Libc, fd: number, file: FdFile, opened: StatNumbers) {
    this.#libc = libc;
    this.#fd = fd;
    this.#file = file;
    this.#opened = opened;
    this.facts = factsOfStat(opened);
  }

  reader(): ByteReader {
    return this.#file;
  }

  fill(p: Uint8Array): number {
    return fillNow(this.#file, p);
  }

  unchanged(): boolean {
    return sameStamp(this.#opened, this.#libc.statxNumbers(this.#fd, "", 0));
  }

  close(): void {
    this.#file.close();
  }
}

/**
 * Opens the local file `path` with Deno, as the regular file a listing saw
 * there: through libc it is opened first without waiting (`O_NONBLOCK`: a
 * FIFO put in its place since does not hold it) and, with `noLink`,
 * without following a link (`O_NOFOLLOW`); what was opened must be a
 * regular file, and Deno opens that same file again through its
 * descriptor's name in `/proc/self/fd`, not by the path a second time.
 * Without libc (another OS), by its path.
 *
 * @param path The file.
 * @param noLink Whether a link there is refused rather than followed.
 * @returns The file, open for reading; the caller closes it.
 * @throws {Error} When it is not a regular file now, or (with `noLink`) a link.
 *
 * @example
 * ```ts
 * import { openListedFile } from "./source_file.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * await Deno.symlink(`${dir}/a.txt`, `${dir}/link`);
 * using file = openListedFile(`${dir}/a.txt`, true);
 * equal(file.statSync().size, 2);
 * if (Deno.build.os === "linux") throws(() => openListedFile(`${dir}/link`, true), /symbolic link now/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openListedFile(path: string, noLink: boolean): Deno.FsFile {
  const libc = Libc.load();
  if (libc === null) return openListedByPath(path, noLink);
  const fd = openNoWait(libc, path, noLink);
  try {
    if (libc.statxNumbers(fd, "", 0).type !== "file") throw notAFileNow();
    return Deno.openSync(`/proc/self/fd/${fd}`, { read: true });
  } finally {
    libc.close(fd);
  }
}

/**
 * {@linkcode openListedFile} without libc (another OS, no FFI): looked at
 * by path before it is opened (not a link with `noLink`, a regular file)
 * and after (the same file, by device and inode). A FIFO raced in between
 * the two can still hold the open: there is no `O_NONBLOCK` here.
 */
function openListedByPath(path: string, noLink: boolean): Deno.FsFile {
  const seen = noLink ? Deno.lstatSync(path) : Deno.statSync(path);
  if (seen.isSymlink) throw nowALink();
  if (!seen.isFile) throw notAFileNow();
  const file = Deno.openSync(path, { read: true });
  try {
    const opened = file.statSync();
    if (opened.ino !== seen.ino || opened.dev !== seen.dev) {
      throw noLink && Deno.lstatSync(path).isSymlink
        ? nowALink()
        : new ChangedSinceListed("it changed while it was opened");
    }
    return file;
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Opens `path` for reading without waiting (`O_NONBLOCK`: a FIFO put in a
 * listed file's place since opens at once, to be refused by its type) and,
 * with `noLink`, without following a link (refused: {@linkcode nowALink}).
 */
function openNoWait(libc: Libc, path: string, noLink: boolean): number {
  try {
    return libc.openat(
      -100,
      path,
      O.O_RDONLY | O.O_NONBLOCK | O.O_CLOEXEC | (noLink ? O.O_NOFOLLOW : 0),
    );
  } catch (e) {
    if (noLink && e instanceof Deno.errors.FilesystemLoop) throw nowALink();
    throw e;
  }
}

/** A listed file that is no longer what its listing saw: refused, never read. */
class ChangedSinceListed extends Error {}

/** A file listed as a plain file that is something else now (a FIFO, a folder): not read. */
function notAFileNow(): Error {
  return new ChangedSinceListed("it changed while it was opened: it is not a regular file now");
}

/** A file listed as a plain file that is a symbolic link now: not followed. */
function nowALink(): Error {
  return new ChangedSinceListed("it changed while it was opened: it is a symbolic link now");
}

/** Whether `a` and `b` have the same size, modification time and change time. */
function sameStamp(a: StatNumbers, b: StatNumbers): boolean {
  return a.size === b.size && a.mtimeSec === b.mtimeSec && a.mtimeNsec === b.mtimeNsec &&
    a.ctimeSec === b.ctimeSec && a.ctimeNsec === b.ctimeNsec;
}

/**
 * {@linkcode openSourceFile} without a promise: a small regular file opened
 * through libc, or `null` where that path does not take it (another OS, a
 * FIFO, a large file): then open it with {@linkcode openSourceFile}. A
 * tree's upload reads thousands of files, each a few microseconds of
 * calls, where waiting on a promise for each added to them.
 *
 * @param path The file.
 * @param listed Whether a listing has just seen a regular file there.
 * @param noLink Whether a link there is refused (a file listed as a plain
 * file, not through a link), rather than followed.
 * @returns The open file (the caller closes it), or `null`.
 * @throws {Deno.errors.NotFound} (and Deno's other error classes) As `Deno.open` does.
 *
 * @example
 * ```ts
 * import { openSourceFileNow } from "./source_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hi");
 * const source = openSourceFileNow(path, true);
 * if (source !== null) {
 *   equal(source.facts.size, 2);
 *   source.close();
 * }
 * await Deno.remove(path);
 * ```
 */
export function openSourceFileNow(path: string, listed = false, noLink = false): SourceFile | null {
  return openByLibc(path, listed, noLink);
}

/** Any file, through `Deno.FsFile`. */
async function openByDeno(path: string, noLink = false, listed = false): Promise<SourceFile> {
  // A tree's file is opened as the plain file it was listed as: never waiting on a FIFO put in
  // its place since, nor (noLink) through a link. Else a regular file synchronously (the
  // asynchronous calls hop to Deno's I/O pool, about 50 us each here), and anything else (a FIFO,
  // whose open waits for its writer: `<(cmd)`) asynchronously.
  const file = listed || noLink
    ? openListedFile(path, noLink)
    : Deno.statSync(path).isFile
    ? Deno.openSync(path, { read: true })
    : await Deno.open(path, { read: true });
  try {
    const info = file.statSync();
    const facts = factsOfInfo(info);
    const stamp = (i: Deno.FileInfo) => `${i.size} ${i.mtime?.getTime()} ${i.ctime?.getTime()}`;
    const before = stamp(info);
    return {
      facts,
      file,
      reader: () => fileReader(file, facts.type === "file" ? facts.size : null),
      unchanged: () => stamp(file.statSync()) === before,
      close: () => file.close(),
    };
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Opens a local file to send.
 *
 * @param path The file.
 * @param seekable Whether the caller needs Deno's own file (a resumed upload seeks in it).
 * @param listed Whether a listing has just seen a regular file there (a
 * tree's walk): it is opened without a look first.
 * @param noLink Whether a link there is refused rather than followed (a
 * tree's file listed as a plain file: a link put in its place since).
 * @returns The open file; the caller closes it.
 * @throws {Deno.errors.NotFound} (and Deno's other error classes) As `Deno.open` does.
 *
 * @example
 * ```ts
 * import { openSourceFile } from "./source_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hi");
 * const source = await openSourceFile(path);
 * try {
 *   equal(source.facts.size, 2);
 *   equal(await source.reader().read(new Uint8Array(8)), 2);
 *   equal(source.unchanged(), true);
 * } finally {
 *   source.close();
 * }
 * await Deno.remove(path);
 * ```
 */
export async function openSourceFile(
  path: string,
  seekable = false,
  listed = false,
  noLink = false,
): Promise<SourceFile> {
  return (seekable ? null : openByLibc(path, listed, noLink)) ??
    await openByDeno(path, noLink, listed);
}
