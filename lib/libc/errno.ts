/**
 * libc's error numbers as errors: the Deno error class for the number where
 * there is one (`ENOENT` is `Deno.errors.NotFound`), else an `Error`
 * carrying the number's name as `code` (`"ENOSPC"`), so that callers map
 * them as they map any file-system error (`fs_errors.ts`).
 *
 * @module
 */

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  7: "E2BIG",
  9: "EBADF",
  11: "EAGAIN",
  13: "EACCES",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  27: "EFBIG",
  28: "ENOSPC",
  30: "EROFS",
  31: "EMLINK",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  95: "EOPNOTSUPP",
  122: "EDQUOT",
};

/** What the common numbers mean, worded as the system says it (`strerror`). */
const MEANINGS: Record<string, string> = {
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  EIO: "Input/output error",
  EACCES: "Permission denied",
  EEXIST: "File exists",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EMFILE: "Too many open files",
  EFBIG: "File too large",
  ENOSPC: "No space left on device",
  EROFS: "Read-only file system",
  ENAMETOOLONG: "File name too long",
  ELOOP: "Too many levels of symbolic links",
  EDQUOT: "Disk quota exceeded",
};

const CLASSES: Record<string, new (message: string) => Error> = {
  ENOENT: Deno.errors.NotFound,
  EEXIST: Deno.errors.AlreadyExists,
  EACCES: Deno.errors.PermissionDenied,
  EPERM: Deno.errors.PermissionDenied,
  ENOTDIR: Deno.errors.NotADirectory,
  EISDIR: Deno.errors.IsADirectory,
  ELOOP: Deno.errors.FilesystemLoop,
  EBUSY: Deno.errors.Busy,
};

/**
 * A libc error as the Deno error class for it, or an `Error` carrying its
 * `code`.
 *
 * @param call The call that failed (`"openat"`), for the message.
 * @param errno Its error number.
 * @returns The error: message `"<meaning> (<code>, <call>)"`, property `code`.
 *
 * @example
 * ```ts
 * import { errnoError } from "./errno.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * ok(errnoError("openat", 2) instanceof Deno.errors.NotFound);
 * const full = errnoError("write", 28) as Error & { code: string };
 * equal(full.code, "ENOSPC");
 * equal(full.message, "No space left on device (ENOSPC, write)");
 * ```
 */
export function errnoError(call: string, errno: number): Error {
  const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
  const Class = CLASSES[code];
  const message = `${MEANINGS[code] ?? "System error"} (${code}, ${call})`;
  const error = Class ? new Class(message) : new Error(message);
  Object.defineProperty(error, "code", { value: code, enumerable: true });
  return error;
}

/** What reads the calling thread's `errno`: libc's `__errno_location`. */
export interface ErrnoSource {
  /** libc's `__errno_location()`. */
  __errno_location(): Deno.PointerValue;
}

/**
 * The calling thread's `errno`, read through `lib`'s `__errno_location`.
 *
 * @param lib A libc opened with `__errno_location` among its symbols.
 * @returns The error number (0 when it cannot be read).
 *
 * @example
 * ```ts
 * import { lastErrno } from "./errno.ts";
 * import { openLibc } from "./libc.ts";
 * import { equal } from "node:assert/strict";
 *
 * const lib = openLibc({
 *   __errno_location: { parameters: [], result: "pointer" },
 *   close: { parameters: ["i32"], result: "i32" },
 * });
 * if (lib !== null) {
 *   equal(lib.close(-1), -1);
 *   equal(lastErrno(lib), 9); // EBADF: no such descriptor
 * }
 * ```
 */
export function lastErrno(lib: ErrnoSource): number {
  const p = lib.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/**
 * A libc call's result, or its `errno` thrown as {@linkcode errnoError}
 * makes it when the result is negative.
 *
 * @param lib The libc the call went through (for its `errno`).
 * @param call The call's name, for the message.
 * @param result What it returned.
 * @returns The result, as a number.
 * @throws {Error} The call's `errno` as {@linkcode errnoError} makes it,
 * when `result` is negative.
 *
 * @example
 * ```ts
 * import { checked } from "./errno.ts";
 * import { openLibc } from "./libc.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const lib = openLibc({
 *   __errno_location: { parameters: [], result: "pointer" },
 *   close: { parameters: ["i32"], result: "i32" },
 *   getpid: { parameters: [], result: "i32" },
 * });
 * if (lib !== null) {
 *   equal(checked(lib, "getpid", lib.getpid()), Deno.pid);
 *   throws(() => checked(lib, "close", lib.close(-1)), { code: "EBADF" });
 * }
 * ```
 */
export function checked(lib: ErrnoSource, call: string, result: number | bigint): number {
  const n = Number(result);
  if (n < 0) throw errnoError(call, lastErrno(lib));
  return n;
}
