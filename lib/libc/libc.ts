/**
 * The few libc calls that resolve and change paths relative to an open
 * folder (`openat`, `renameat`, `unlinkat`, `mkdirat`, `fchmodat`,
 * `readlinkat`, `statx`, and `openat2` through `syscall`), reached through
 * `Deno.dlopen` on Linux. Deno has
 * no descriptor-relative file calls of its own; these are what confining a
 * path beneath the served root atomically needs.
 *
 * Failures are thrown as Deno's own error classes (`Deno.errors.NotFound`
 * for `ENOENT`, ...) or as an `Error` with the errno's `code` (`"ENOSPC"`),
 * so callers map them as they map any file-system error.
 *
 * @module
 */

import { checked, errnoError, lastErrno } from "./errno.ts";
import { AT } from "./flags.ts";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** What `statx` tells of a file, with times to the nanosecond. */
export interface StatX {
  /** `file`, `dir`, `link` or `other` (FIFO, device, socket). */
  type: "file" | "dir" | "link" | "other";
  /** Size in bytes. */
  size: number;
  /** Permission and special bits (`mode & 0o7777`). */
  mode: number;
  /** Device: `major:minor`. */
  dev: string;
  /** Inode number. */
  ino: bigint;
  /** Modification time, ns since the epoch. */
  mtimeNs: bigint;
  /** Change time (any write or attribute change), ns since the epoch. */
  ctimeNs: bigint;
}

/** {@linkcode StatX} in plain numbers ({@linkcode Libc.statxNumbers}), times as seconds and ns. */
export interface StatNumbers {
  /** `file`, `dir`, `link` or `other` (FIFO, device, socket). */
  type: StatX["type"];
  /** Size in bytes. */
  size: number;
  /** Permission and special bits (`mode & 0o7777`). */
  mode: number;
  /** Modification time: seconds since the epoch. */
  mtimeSec: number;
  /** Modification time: nanoseconds into that second. */
  mtimeNsec: number;
  /** Change time: seconds since the epoch. */
  ctimeSec: number;
  /** Change time: nanoseconds into that second. */
  ctimeNsec: number;
}

const SYMBOLS = {
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  renameat: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  linkat: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  fchmodat: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  readlinkat: { parameters: ["i32", "buffer", "buffer", "usize"], result: "isize" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  syscall: { parameters: ["i64", "i32", "buffer", "buffer", "usize"], result: "i64" },
} as const;

/** `openat2`'s number: one table for every architecture since Linux 5.6. */
const SYS_OPENAT2 = 437n;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const ENOENT = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Two buffers for names passed to libc (a rename passes two), reused from
 * call to call: every call is synchronous, so a name is read before the next
 * is written. Encoding each name into a new array cost about 6 us of an
 * upload's server CPU here.
 */
const names = [new Uint8Array(1024), new Uint8Array(1024)];

/** `s` as a NUL-terminated C string, in the reused buffer `slot`. */
function cString(s: string, slot: 0 | 1 = 0): Uint8Array<ArrayBuffer> {
  // UTF-8 takes at most three bytes for each UTF-16 unit.
  if (s.length * 3 + 1 > names[slot]!.length) names[slot] = new Uint8Array(s.length * 3 + 1);
  const bytes = names[slot]!;
  bytes[encoder.encodeInto(s, bytes).written] = 0;
  return bytes;
}

function typeOf(mode: number): StatX["type"] {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "link";
    default:
      return "other";
  }
}

/** Reads a `struct statx_timestamp` (i64 seconds, u32 ns) as ns. */
function timestamp(view: DataView, at: number): bigint {
  return view.getBigInt64(at, true) * 1_000_000_000n + BigInt(view.getUint32(at + 8, true));
}

/** Reads a `struct statx_timestamp`'s seconds (i64) as a number (exact within 2^53). */
function seconds(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getInt32(at + 4, true) * 2 ** 32;
}

const STATX_BASIC_STATS = 0x7ff;

/**
 * A shared library opened with `symbols` under the first of `names` that
 * opens, or `null` where none can be (not Linux, no FFI permission, no such
 * library).
 *
 * @param names The library's file names, in order of preference.
 * @param symbols The functions to bind.
 * @returns Their bindings, or `null`.
 *
 * @example
 * ```ts
 * import { openNative } from "./libc.ts";
 * import { equal } from "node:assert/strict";
 *
 * const lib = openNative(["libc.so.6"], { getpid: { parameters: [], result: "i32" } });
 * if (lib !== null) equal(lib.getpid(), Deno.pid);
 * ```
 */
export function openNative<S extends Deno.ForeignLibraryInterface>(
  names: readonly string[],
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] | null {
  if (Deno.build.os !== "linux") return null;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  for (const name of names) {
    try {
      return Deno.dlopen(name, symbols).symbols;
    } catch (e) {
      if (!(e instanceof Error)) throw e;
    }
  }
  return null;
}

/**
 * libc opened with `symbols`, or `null` where it cannot be (not Linux, no
 * FFI permission, no libc by either name).
 *
 * @param symbols The functions to bind.
 * @returns Their bindings, or `null`.
 *
 * @example
 * ```ts
 * import { openLibc } from "./libc.ts";
 * import { equal } from "node:assert/strict";
 *
 * const lib = openLibc({ getpid: { parameters: [], result: "i32" } });
 * if (lib !== null) equal(lib.getpid(), Deno.pid);
 * ```
 */
export function openLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] | null {
  return openNative(["libc.so.6", "libc.so"], symbols);
}

/**
 * libc's descriptor-relative calls. One per process (or worker), opened on
 * first use; {@linkcode Libc.load} gives `null` where there is no Linux libc
 * to open (another OS, or no FFI permission).
 *
 * @example
 * ```ts
 * import { Libc } from "./libc.ts";
 * import { AT, O } from "./flags.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const libc = Libc.load();
 * if (libc !== null) {
 *   const dir = await Deno.makeTempDir();
 *   const fd = libc.openat(-100, dir, O.O_PATH | O.O_DIRECTORY | O.O_CLOEXEC);
 *   libc.mkdirat(fd, "sub", 0o755);
 *   deepEqual(libc.statx(fd, "sub", AT.SYMLINK_NOFOLLOW).type, "dir");
 *   libc.unlinkat(fd, "sub", AT.REMOVEDIR);
 *   libc.close(fd);
 *   await Deno.remove(dir);
 * }
 * ```
 */
export class Libc {
  static #loaded: Libc | null | undefined;
  /** Whether `linkat`'s `AT_EMPTY_PATH` is allowed here (it needs `CAP_DAC_READ_SEARCH`), once seen. */
  static #emptyPathLinks: boolean | undefined;
  #lib: Lib;
  #statBuffer = new Uint8Array(256);
  #statView = new DataView(this.#statBuffer.buffer);
  #linkBuffer = new Uint8Array(4096);

  private constructor(lib: Lib) {
    this.#lib = lib;
  }

  /**
   * The process's libc, or `null` where it cannot be used (not Linux, or
   * no FFI permission).
   *
   * @returns The bindings, or `null`.
   */
  static load(): Libc | null {
    if (Libc.#loaded === undefined) {
      const lib = openLibc(SYMBOLS);
      Libc.#loaded = lib === null ? null : new Libc(lib);
    }
    return Libc.#loaded;
  }

  #check(call: string, result: number): number {
    return checked(this.#lib, call, result);
  }

  /**
   * `openat(dirfd, path, flags, mode)`.
   *
   * @param dirfd A folder's descriptor, or -100 (`AT_FDCWD`).
   * @param path The path (a single name, for confinement).
   * @param flags `O_*` flags ({@linkcode O}).
   * @param mode Permission bits for a created file.
   * @returns The new descriptor.
   */
  openat(dirfd: number, path: string, flags: number, mode = 0): number {
    return this.#check("openat", this.#lib.openat(dirfd, cString(path), flags, mode));
  }

  /**
   * `openat2(dirfd, path, {flags, mode: 0, resolve})` (Linux 5.6): the whole
   * path resolved by the kernel in one call, under the `resolve` rules.
   *
   * @param dirfd A folder's descriptor.
   * @param path A relative path (several names).
   * @param flags `O_*` flags ({@linkcode O}); nothing that creates.
   * @param resolve `RESOLVE_*` flags (`RESOLVE` in `flags.ts`).
   * @returns The new descriptor.
   */
  openat2(dirfd: number, path: string, flags: number, resolve: number): number {
    const how = new BigUint64Array([BigInt(flags), 0n, BigInt(resolve)]);
    const bytes = new Uint8Array(how.buffer);
    const fd = this.#lib.syscall(SYS_OPENAT2, dirfd, cString(path), bytes, 24n);
    return this.#check("openat2", Number(fd));
  }

  /**
   * `close(fd)`; errors are ignored (the descriptor is gone either way).
   *
   * @param fd The descriptor.
   */
  close(fd: number): void {
    this.#lib.close(fd);
  }

  /**
   * `renameat(olddirfd, oldname, newdirfd, newname)`.
   *
   * @param fromDir The source's folder.
   * @param from The source's name.
   * @param toDir The target's folder.
   * @param to The target's name.
   */
  renameat(fromDir: number, from: string, toDir: number, to: string): void {
    this.#check("renameat", this.#lib.renameat(fromDir, cString(from, 0), toDir, cString(to, 1)));
  }

  /**
   * Gives the unnamed file open at `fd` (an `O_TMPFILE`) the name `name` in
   * `dirfd`: `linkat` of the descriptor itself where allowed, else of
   * `/proc/self/fd/N`. An existing name is never replaced.
   *
   * @param fd The unnamed file's descriptor.
   * @param dirfd The folder, or -100 (`AT_FDCWD`).
   * @param name Its new name (a path, with -100).
   * @throws {Deno.errors.AlreadyExists} When something has that name already.
   */
  linkFd(fd: number, dirfd: number, name: string): void {
    if (Libc.#emptyPathLinks !== false) {
      const result = this.#lib.linkat(fd, cString("", 0), dirfd, cString(name, 1), AT.EMPTY_PATH);
      // Without the capability the kernel answers ENOENT, as for a missing folder.
      if (result === 0 || lastErrno(this.#lib) !== ENOENT) {
        Libc.#emptyPathLinks = true;
        this.#check("linkat", result);
        return;
      }
    }
    const proc = cString(`/proc/self/fd/${fd}`, 0);
    this.#check("linkat", this.#lib.linkat(-100, proc, dirfd, cString(name, 1), AT.SYMLINK_FOLLOW));
    Libc.#emptyPathLinks ??= false;
  }

  /**
   * `unlinkat(dirfd, name, flags)`.
   *
   * @param dirfd The folder.
   * @param name The entry.
   * @param flags 0 for a file, `AT.REMOVEDIR` for an empty folder.
   */
  unlinkat(dirfd: number, name: string, flags: number): void {
    this.#check("unlinkat", this.#lib.unlinkat(dirfd, cString(name), flags));
  }

  /**
   * `mkdirat(dirfd, name, mode)`.
   *
   * @param dirfd The folder.
   * @param name The new folder's name.
   * @param mode Its permission bits (before the umask).
   */
  mkdirat(dirfd: number, name: string, mode: number): void {
    this.#check("mkdirat", this.#lib.mkdirat(dirfd, cString(name), mode));
  }

  /**
   * `fchmodat(dirfd, name, mode, 0)` (follows a final link: call it on
   * names the server made itself).
   *
   * @param dirfd The folder.
   * @param name The entry.
   * @param mode The permission bits.
   */
  fchmodat(dirfd: number, name: string, mode: number): void {
    this.#check("fchmodat", this.#lib.fchmodat(dirfd, cString(name), mode, 0));
  }

  /**
   * The target of the symbolic link `fd` (opened with `O_PATH | O_NOFOLLOW`).
   *
   * @param fd The link's descriptor.
   * @returns Its target, as stored.
   */
  readlink(fd: number): string {
    const n = Number(
      this.#lib.readlinkat(fd, cString(""), this.#linkBuffer, BigInt(this.#linkBuffer.length)),
    );
    this.#check("readlinkat", n);
    if (n >= this.#linkBuffer.length) throw errnoError("readlinkat", 36);
    return decoder.decode(this.#linkBuffer.subarray(0, n));
  }

  /**
   * `statx(dirfd, name, flags)`: of `name` in `dirfd`, or with `name` empty
   * of `dirfd` itself.
   *
   * @param dirfd The folder (or the file itself, with `name` "").
   * @param name The entry, or "".
   * @param flags `AT.SYMLINK_NOFOLLOW` to describe a link itself.
   * @returns What it is.
   */
  statx(dirfd: number, name: string, flags: number): StatX {
    const found = this.statxIfAny(dirfd, name, flags);
    if (found === null) throw errnoError("statx", ENOENT);
    return found;
  }

  /**
   * {@linkcode Libc.statx}, with `null` for a name that does not exist: no
   * error is made (an upload of a new file asks twice; an error with its
   * stack costs more than the call).
   *
   * @param dirfd The folder (or the file itself, with `name` "").
   * @param name The entry, or "".
   * @param flags `AT.SYMLINK_NOFOLLOW` to describe a link itself.
   * @returns What it is, or `null`.
   */
  statxIfAny(dirfd: number, name: string, flags: number): StatX | null {
    const view = this.#statxView(dirfd, name, flags);
    if (view === null) return null;
    const mode = view.getUint16(28, true);
    return {
      type: typeOf(mode),
      size: Number(view.getBigUint64(40, true)),
      mode: mode & 0o7777,
      dev: `${view.getUint32(136, true)}:${view.getUint32(140, true)}`,
      ino: view.getBigUint64(32, true),
      ctimeNs: timestamp(view, 96),
      mtimeNs: timestamp(view, 112),
    };
  }

  /**
   * {@linkcode Libc.statx} in plain numbers: no `bigint`, no string, one
   * object. For loops over many files (a tree's walk and reads, three a
   * file): with it and a read that waits on no promise, the reads of a
   * 5,000-file push (4 KiB files, tmpfs) took 47-62 ms instead of 104-114.
   *
   * @param dirfd The folder (or the file itself, with `name` "").
   * @param name The entry, or "".
   * @param flags `AT.SYMLINK_NOFOLLOW` to describe a link itself.
   * @returns What it is.
   */
  statxNumbers(dirfd: number, name: string, flags: number): StatNumbers {
    const view = this.#statxView(dirfd, name, flags);
    if (view === null) throw errnoError("statx", ENOENT);
    const mode = view.getUint16(28, true);
    return {
      type: typeOf(mode),
      size: view.getUint32(40, true) + view.getUint32(44, true) * 2 ** 32,
      mode: mode & 0o7777,
      mtimeSec: seconds(view, 112),
      mtimeNsec: view.getUint32(120, true),
      ctimeSec: seconds(view, 96),
      ctimeNsec: view.getUint32(104, true),
    };
  }

  /** `statx` into the reused buffer, or `null` for a name that does not exist. */
  #statxView(dirfd: number, name: string, flags: number): DataView | null {
    const at = name === "" ? flags | AT.EMPTY_PATH : flags;
    const result = this.#lib.statx(dirfd, cString(name), at, STATX_BASIC_STATS, this.#statBuffer);
    if (result < 0) {
      const errno = lastErrno(this.#lib);
      if (errno === ENOENT) return null;
      throw errnoError("statx", errno);
    }
    return this.#statView;
  }
}
