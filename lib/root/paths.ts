/**
 * Virtual paths: the only paths a BFTP client can name. A virtual path is
 * resolved lexically against the session's folder into a normalized
 * absolute form (`/a/b`) that can never climb above the served root, and
 * anything suspicious in it is refused before the file system sees it.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import { quoteUnsafe } from "../terminal_text.ts";
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from "./entry.ts";

/** Names that start with this are bftp's own temporary files: hidden and untouchable. */
export const TEMP_PREFIX = ".bftp-tmp-";

/**
 * The prefix of an interrupted resumable upload's file, kept beside its
 * target for a later resume: `.bftp-tmp-resume-<SHA-256 of the target path,
 * size and content hash>.part`.
 */
export const RESUME_PREFIX = `${TEMP_PREFIX}resume-`;

/** Hours an interrupted resumable upload is kept, counted from its last byte. */
export const RESUME_EXPIRY_HOURS = 24;

const encoder = new TextEncoder();

/**
 * Quotes a client-given path for an error message or a log line, with
 * control characters (C0, DEL and C1, which a terminal may act on) made
 * visible.
 *
 * @param path The path as the client sent it.
 * @returns The path in double quotes, at most 200 characters.
 *
 * @example
 * ```ts
 * import { quotePath } from "./paths.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(quotePath("a\nb"), '"a\\x0ab"');
 * deepEqual(quotePath("\x1b[2J\x9b"), '"\\x1b[2J\\x9b"');
 * ```
 */
export function quotePath(path: string): string {
  return quoteUnsafe(path, 200);
}

function refuse(path: string, why: string): RemoteError {
  return new RemoteError("BAD_PATH", `Refused path ${quotePath(path)}: ${why}`);
}

/**
 * Whether `s` takes more than `max` bytes in UTF-8: counted only when it
 * could (a UTF-16 unit is at most 3 bytes), since encoding every name of
 * every request cost about a tenth of a small upload's path work here.
 */
function utf8Over(s: string, max: number): boolean {
  return s.length * 3 > max && encoder.encode(s).byteLength > max;
}

/**
 * Resolves a client's path against the session folder.
 *
 * Refused (BAD_PATH): NUL and control characters, backslashes, lone UTF-16
 * surrogates (a request decoded from the wire cannot hold one), a drive
 * letter (`C:`), names over 255 bytes, paths over 4096 bytes, `..` that
 * climbs above the root, and bftp's temporary names.
 *
 * @param cwd The session's folder, a normalized virtual path (`/` or `/a/b`).
 * @param path The path the client sent: absolute (from the served root) or relative to `cwd`.
 * @returns The normalized virtual path.
 * @throws {RemoteError} BAD_PATH when the path is refused.
 *
 * @example
 * ```ts
 * import { resolveVirtual } from "./paths.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(resolveVirtual("/docs", "../a/./b.txt"), "/a/b.txt");
 * deepEqual(resolveVirtual("/docs", "/"), "/");
 * throws(() => resolveVirtual("/", "../etc/passwd"));
 * ```
 */
export function resolveVirtual(cwd: string, path: string): string {
  if (utf8Over(path, MAX_PATH_BYTES)) {
    throw refuse(path, `longer than ${MAX_PATH_BYTES} bytes`);
  }
  if (/[\x00-\x1f\x7f]/.test(path)) throw refuse(path, "control characters are not allowed");
  if (path.includes("\\")) throw refuse(path, "backslashes are not allowed");
  // A lone surrogate has no UTF-8 form: it would become U+FFFD, and two paths one file.
  if (!path.isWellFormed()) throw refuse(path, "it holds a lone UTF-16 surrogate");
  const parts = path.startsWith("/") ? [] : cwd.split("/").filter((p) => p !== "");
  for (const name of path.split("/")) {
    if (name === "" || name === ".") continue;
    if (name === "..") {
      if (parts.length === 0) throw refuse(path, "it leads outside the served root");
      parts.pop();
      continue;
    }
    if (name[1] === ":" && /^[A-Za-z]:/.test(name)) {
      throw refuse(path, "drive letters are not allowed");
    }
    if (utf8Over(name, MAX_NAME_BYTES)) {
      throw refuse(path, `a name is longer than ${MAX_NAME_BYTES} bytes`);
    }
    if (name.startsWith(TEMP_PREFIX)) throw refuse(path, "the name is reserved for bftp");
    parts.push(name);
  }
  return "/" + parts.join("/");
}

/**
 * Whether a client's path, as sent, names a folder by its form: it ends in
 * `/`, `/.` or `/..`, or is `.` or `..` (as `rm file/` fails on Linux with
 * "Not a directory"). {@linkcode resolveVirtual} drops that form; a request
 * that needs a file refuses such a path, and STAT answers it only for a folder.
 *
 * @param path The path as the client sent it.
 * @returns Whether it ends as a folder's path does.
 *
 * @example
 * ```ts
 * import { namesFolder } from "./paths.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(["a/", "a/.", "a/..", "/", ".", "a", "a/b", ""].map(namesFolder), [
 *   true, true, true, true, true, false, false, false,
 * ]);
 * ```
 */
export function namesFolder(path: string): boolean {
  const last = path.slice(path.lastIndexOf("/") + 1);
  return path !== "" && (last === "" || last === "." || last === "..");
}

/**
 * The refusal of a path in a folder's form ({@linkcode namesFolder}) where
 * no folder is: `NOT_DIR`, the path shown as the client gave it, with `/`.
 *
 * @param vpath The path, resolved.
 * @returns The error.
 *
 * @example
 * ```ts
 * import { notAFolder } from "./paths.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(notAFolder("/a.txt").message, '"/a.txt/" is not a folder');
 * ```
 */
export function notAFolder(vpath: string): RemoteError {
  return new RemoteError("NOT_DIR", `${quotePath(`${vpath}/`)} is not a folder`);
}

/**
 * The last name of a virtual path (`""` for the root).
 *
 * @param vpath A normalized virtual path.
 * @returns The last component.
 *
 * @example
 * ```ts
 * import { baseName } from "./paths.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(baseName("/a/b.txt"), "b.txt");
 * ```
 */
export function baseName(vpath: string): string {
  return vpath.slice(vpath.lastIndexOf("/") + 1);
}
