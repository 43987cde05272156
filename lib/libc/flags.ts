/**
 * The flag numbers of libc's descriptor-relative calls (`openat`, `openat2`,
 * `linkat`, `statx`...) for the machine's architecture, and what an
 * `O_TMPFILE` refusal means.
 *
 * @module
 */

/** Flags of `openat(2)` and friends, for the machine's architecture. */
export interface OpenFlags {
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_NONBLOCK: number;
  readonly O_DIRECTORY: number;
  readonly O_NOFOLLOW: number;
  readonly O_CLOEXEC: number;
  readonly O_PATH: number;
  /** An unnamed file in the given folder, named later by `Libc.linkFd` (Linux 3.11). */
  readonly O_TMPFILE: number;
}

const GENERIC = {
  O_RDONLY: 0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
  O_PATH: 0o10000000,
};

/**
 * `openat` flags: x86_64 and the "generic" layout differ only in
 * `O_DIRECTORY` and `O_NOFOLLOW` (and so `O_TMPFILE`, which is
 * `__O_TMPFILE`, 0o20000000, with `O_DIRECTORY`).
 */
export const O: OpenFlags = Deno.build.arch === "aarch64"
  ? { ...GENERIC, O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000, O_TMPFILE: 0o20040000 }
  : { ...GENERIC, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_TMPFILE: 0o20200000 };

/**
 * Whether an `O_TMPFILE` open failed because there are no unnamed files
 * where it was asked (FUSE, NFS: `EOPNOTSUPP`; Linux before 3.11:
 * `EISDIR`), not for the folder's sake (missing, not allowed).
 *
 * @param e What the open threw.
 * @returns Whether to stop asking for unnamed files there.
 *
 * @example
 * ```ts
 * import { noUnnamedFiles } from "./flags.ts";
 * import { errnoError } from "./errno.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(noUnnamedFiles(errnoError("openat", 95)), true);
 * equal(noUnnamedFiles(errnoError("openat", 2)), false);
 * ```
 */
export function noUnnamedFiles(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code ?? "";
  return code === "EOPNOTSUPP" || code === "EISDIR" || code === "EINVAL";
}

/** `AT_*` flags (the same on every Linux architecture). */
export const AT = {
  SYMLINK_NOFOLLOW: 0x100,
  REMOVEDIR: 0x200,
  EMPTY_PATH: 0x1000,
  SYMLINK_FOLLOW: 0x400,
} as const;

/** `RESOLVE_*` flags of `openat2(2)`. */
export const RESOLVE = {
  /** No magic links (`/proc/self/fd/N`, `/proc/PID/root`) on the way. */
  NO_MAGICLINKS: 0x02,
  /** No symbolic link anywhere on the way (`ELOOP`). */
  NO_SYMLINKS: 0x04,
  /** Refuse (`EXDEV`) anything that leads out of the folder: `..` above it, absolute links. */
  BENEATH: 0x08,
} as const;
