/**
 * Local file-system paths: {@linkcode join}, {@linkcode dirname},
 * {@linkcode basename}, {@linkcode normalize} and {@linkcode sep}, by
 * POSIX rules, as `node:path` has them; on Windows, `node:path`'s own,
 * loaded at their first use. Not `node:path` itself everywhere: importing
 * `node:path` or `node:util` makes Deno set up part of its Node layer at
 * start-up (`put --help` 27 ms with them, 20 without, against 13-17 for an
 * empty script, 20 runs each; an empty `put -r`, whose first `setTimeout`
 * sets up Node's timers anyway, 44.2 -> 41.0 ms, 16 interleaved runs).
 * {@linkcode posix} has the POSIX rules on every system (a server's paths).
 *
 * @module
 */

/** The functions of this module, as one system's rules give them. */
export interface PathRules {
  /** The parts joined with the separator, then normalized; `"."` for none. */
  join(...parts: string[]): string;
  /** The path without its last part; `"."` or the root when there is none. */
  dirname(path: string): string;
  /** The path's last part, trailing separators ignored. */
  basename(path: string): string;
  /** `.` and `..` parts resolved, repeated separators made one; a trailing one kept. */
  normalize(path: string): string;
  /** The separator: `"/"`, or `"\\"` on Windows. */
  sep: string;
}

function normalizePosix(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (!absolute) parts.push("..");
  }
  let out = parts.join("/");
  if (out === "" && !absolute) out = ".";
  if (out !== "" && path.endsWith("/")) out += "/";
  return absolute ? `/${out}` : out;
}

function joinPosix(...parts: string[]): string {
  const given = parts.filter((p) => p !== "");
  return given.length === 0 ? "." : normalizePosix(given.join("/"));
}

function dirnamePosix(path: string): string {
  if (path === "") return ".";
  // The separator before the last part (trailing ones are not a part), not looking at the
  // first character: the root's own separator, or a name's first letter.
  let end = path.length - 1;
  while (end >= 1 && path[end] === "/") end--;
  while (end >= 1 && path[end] !== "/") end--;
  if (end < 1) return path.startsWith("/") ? "/" : ".";
  // "//a" keeps both leading separators, and "a//b" gives "a/", as node:path does.
  return path.slice(0, end === 1 && path.startsWith("/") ? 2 : end);
}

function basenamePosix(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

/** The POSIX rules, on every system. */
export const posix: PathRules = {
  join: joinPosix,
  dirname: dirnamePosix,
  basename: basenamePosix,
  normalize: normalizePosix,
  sep: "/",
};

type NodeProcess = { getBuiltinModule(id: "node:path"): { win32: PathRules } };

let windows: PathRules | undefined;

/** Windows' rules: `node:path`'s, through `process` (which loads the Node layer), once. */
function windowsRules(): PathRules {
  windows ??= (globalThis as unknown as { process: NodeProcess }).process
    .getBuiltinModule("node:path").win32;
  return windows;
}

const onWindows = Deno.build.os === "windows";

/**
 * The parts joined with the system's separator, then normalized.
 *
 * @param parts The parts; empty ones are left out.
 * @returns The path, `"."` for none.
 *
 * @example
 * ```ts
 * import { join } from "./local_path.ts";
 * import { equal } from "node:assert/strict";
 *
 * if (Deno.build.os !== "windows") equal(join("/a/b", "../c", "d/"), "/a/c/d/");
 * ```
 */
export function join(...parts: string[]): string {
  return onWindows ? windowsRules().join(...parts) : joinPosix(...parts);
}

/**
 * The path without its last part.
 *
 * @param path A path.
 * @returns Its folder: `"."` for a bare name, the root for the root's entries.
 *
 * @example
 * ```ts
 * import { dirname } from "./local_path.ts";
 * import { equal } from "node:assert/strict";
 *
 * if (Deno.build.os !== "windows") equal(dirname("/a/b/"), "/a");
 * ```
 */
export function dirname(path: string): string {
  return onWindows ? windowsRules().dirname(path) : dirnamePosix(path);
}

/**
 * The path's last part, trailing separators ignored.
 *
 * @param path A path.
 * @returns Its last part (`""` for the root).
 *
 * @example
 * ```ts
 * import { basename } from "./local_path.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(basename("/a/b.txt"), "b.txt");
 * ```
 */
export function basename(path: string): string {
  return onWindows ? windowsRules().basename(path) : basenamePosix(path);
}

/**
 * The path with `.` and `..` parts resolved and repeated separators made
 * one (a trailing separator kept; `..` above the root dropped).
 *
 * @param path A path.
 * @returns It normalized, `"."` for an empty one.
 *
 * @example
 * ```ts
 * import { normalize } from "./local_path.ts";
 * import { equal } from "node:assert/strict";
 *
 * if (Deno.build.os !== "windows") equal(normalize("/a//./b/../c"), "/a/c");
 * ```
 */
export function normalize(path: string): string {
  return onWindows ? windowsRules().normalize(path) : normalizePosix(path);
}

/** The system's separator: `"/"`, or `"\\"` on Windows. */
export const sep: string = onWindows ? "\\" : "/";
