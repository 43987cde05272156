/**
 * A file used through a raw descriptor (Linux, through `Deno.dlopen`):
 * `read`, `write`, `lseek`, `fdatasync`, `futimens`, `flock` and
 * `ftruncate` on it. Deno cannot adopt a raw descriptor, so a file that
 * `openat` made would otherwise be opened a second time through
 * `/proc/self/fd/N` (and duplicated for each flush on Deno's I/O pool):
 * four more system calls an upload, about a tenth of a small upload's
 * server CPU here. The server's temporaries and small reads and the
 * client's small uploads and downloads use it.
 *
 * @module
 */

import { checked, errnoError } from "./errno.ts";
import { openLibc } from "./libc.ts";

const SYMBOLS = {
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  futimens: { parameters: ["i32", "buffer"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // On a thread of Deno's pool: a flush to disk takes milliseconds.
  fdatasync: { parameters: ["i32"], result: "i32", nonblocking: true },
  syncfs: { parameters: ["i32"], result: "i32", nonblocking: true },
  sync_file_range: { parameters: ["i32", "i64", "i64", "u32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EIO = 5;
const SYNC_FILE_RANGE_WRITE = 2;
const F_SETPIPE_SZ = 1031;

let loaded: Lib | undefined;

/** The bindings, opened on first use; `undefined` where libc cannot be opened. */
function loadIfAny(): Lib | undefined {
  return loaded ??= openLibc(SYMBOLS) ?? undefined;
}

/**
 * Opens the bindings now rather than at the first file (about 1-2 ms
 * here); nothing where libc cannot be opened.
 *
 * @example
 * ```ts
 * import { openFdFileCalls } from "./fd_file.ts";
 *
 * openFdFileCalls();
 * openFdFileCalls(); // opened once
 * ```
 */
export function openFdFileCalls(): void {
  loadIfAny();
}

/** The bindings; only made by those who hold a descriptor, so libc is there. */
function load(): Lib {
  const lib = loadIfAny();
  if (lib === undefined) throw new Deno.errors.NotSupported("libc cannot be opened here");
  return lib;
}

/** The size bftp asks for its pipes: the two ends then take turns every 1 MiB, not 64 KiB. */
export const PIPE_BYTES = 1 << 20;

/**
 * Widens the pipe on descriptor `fd` to hold `bytes` (Linux's
 * `F_SETPIPE_SZ`; an unprivileged process may go up to
 * `/proc/sys/fs/pipe-max-size`, 1 MiB by default). A pipe holds 64 KiB
 * otherwise, so its two ends take turns every 64 KiB: `cat FILE | bftp
 * send` moved 1 GiB in 1,217 ms with that, 960 ms with 1 MiB (8 runs each,
 * interleaved). Nothing happens where `fd` is not a pipe or libc cannot be
 * reached.
 *
 * @param fd The descriptor (0 for stdin).
 * @param bytes The size wanted ({@linkcode PIPE_BYTES} unless given).
 * @returns The pipe's size now, or `null` when it was left alone.
 *
 * @example
 * ```ts
 * import { widenPipe } from "./fd_file.ts";
 * import { equal } from "node:assert/strict";
 *
 * // A descriptor that is not open is left alone.
 * equal(widenPipe(987_654, 1 << 20), null);
 * ```
 */
export function widenPipe(fd: number, bytes: number = PIPE_BYTES): number | null {
  const size = loadIfAny()?.fcntl(fd, F_SETPIPE_SZ, bytes) ?? -1;
  return size < 0 ? null : size;
}

/**
 * A raw descriptor as a file (it has what `root/tree_backend.ts`'s
 * `TempFile` and `ReadFile` ask). {@linkcode FdFile.close} ends the use of
 * this view (every later call fails); it closes the descriptor too when the
 * view `owns` it, else the creator closes it (and with it the file's lock).
 *
 * @example
 * ```ts
 * import { FdFile } from "./fd_file.ts";
 * import { Libc } from "./libc.ts";
 * import { O } from "./flags.ts";
 * import { equal } from "node:assert/strict";
 *
 * const libc = Libc.load();
 * if (libc !== null) {
 *   const dir = await Deno.makeTempDir();
 *   const fd = libc.openat(-100, `${dir}/a`, O.O_RDWR | O.O_CREAT | O.O_EXCL, 0o644);
 *   const file = new FdFile(fd);
 *   equal(file.tryLockSync(true), true);
 *   equal(file.writeSync(new TextEncoder().encode("hi")), 2);
 *   await file.syncData();
 *   await file.syncVolume();
 *   file.utimeSync(new Date(), new Date(1_000_000_000_000));
 *   file.close();
 *   libc.close(fd);
 *   equal(await Deno.readTextFile(`${dir}/a`), "hi");
 *   equal((await Deno.stat(`${dir}/a`)).mtime?.getTime(), 1_000_000_000_000);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class FdFile {
  readonly #lib: Lib = load();
  readonly #fd: number;
  readonly #owns: boolean;
  #closed = false;

  /**
   * @param fd An open descriptor.
   * @param owns Whether {@linkcode FdFile.close} closes the descriptor too (else its creator does).
   */
  constructor(fd: number, owns = false) {
    this.#fd = fd;
    this.#owns = owns;
  }

  #open(): number {
    if (this.#closed) throw new Deno.errors.BadResource("The temporary file is closed");
    return this.#fd;
  }

  #check(call: string, result: number | bigint): number {
    return checked(this.#lib, call, result);
  }

  writeSync(p: Uint8Array): number {
    return this.#check("write", this.#lib.write(this.#open(), p, BigInt(p.byteLength)));
  }

  /** Reads at the file's position, synchronously; `null` at its end. */
  readSync(p: Uint8Array): number | null {
    const n = this.#check("read", this.#lib.read(this.#open(), p, BigInt(p.byteLength)));
    return n === 0 && p.byteLength > 0 ? null : n;
  }

  read(p: Uint8Array): Promise<number | null> {
    try {
      return Promise.resolve(this.readSync(p));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  truncateSync(len = 0): void {
    this.#check("ftruncate", this.#lib.ftruncate(this.#open(), BigInt(len)));
  }

  async syncData(): Promise<void> {
    // The flush ran on another thread, whose errno this one cannot read: a failure is EIO,
    // never retried (a second fdatasync after a failed one may well succeed, having dropped
    // the data the first could not write).
    if (await this.#lib.fdatasync(this.#open()) < 0) throw errnoError("fdatasync", EIO);
  }

  /**
   * Starts writing the file's dirty pages to disk without waiting for them
   * (`sync_file_range(SYNC_FILE_RANGE_WRITE)` over the whole file), so that
   * a flush at the end finds little left to write. A hint: its failure (a
   * file system without it) is ignored; the flush reports what matters.
   * Writing 1 GiB here, a start every 8 MiB cost 26-32 ms in all (at most
   * 2.6 ms each) and left the final `fdatasync` 5 ms instead of 450-500.
   */
  startWriteBack(): void {
    this.#lib.sync_file_range(this.#open(), 0n, 0n, SYNC_FILE_RANGE_WRITE);
  }

  /**
   * Flushes everything written to the file's whole file system (`syncfs`):
   * since Linux 5.8 it fails when any write-back there failed since this
   * descriptor was opened. A failure is EIO, as for {@linkcode FdFile.syncData}.
   */
  async syncVolume(): Promise<void> {
    if (await this.#lib.syncfs(this.#open()) < 0) throw errnoError("syncfs", EIO);
  }

  utimeSync(atime: Date, mtime: Date): void {
    const times = new BigInt64Array([...timespec(atime), ...timespec(mtime)]);
    this.#check("futimens", this.#lib.futimens(this.#open(), new Uint8Array(times.buffer)));
  }

  /** Sets the file's permission bits (`fchmod`). */
  chmodSync(mode: number): void {
    this.#check("fchmod", this.#lib.fchmod(this.#open(), mode));
  }

  tryLockSync(exclusive = false): boolean {
    const how = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
    try {
      this.#check("flock", this.#lib.flock(this.#open(), how));
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === "EAGAIN") return false;
      throw e;
    }
  }

  seek(offset: number, whence: Deno.SeekMode): Promise<number> {
    try {
      return Promise.resolve(
        this.#check("lseek", this.#lib.lseek(this.#open(), BigInt(offset), whence)),
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owns) this.#lib.close(this.#fd);
  }
}

/** A time as a `struct timespec` (seconds, and nanoseconds from 0 up, before 1970 too). */
function timespec(time: Date): [bigint, bigint] {
  const ms = BigInt(time.getTime());
  const rest = ((ms % 1000n) + 1000n) % 1000n;
  return [(ms - rest) / 1000n, rest * 1_000_000n];
}
