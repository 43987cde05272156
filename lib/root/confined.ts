/**
 * Confinement: a served tree and how a client's virtual path is resolved
 * beneath its root. Every operation of the served root starts here, so a
 * path is checked for length and walked one name at a time
 * ({@linkcode Beneath}) before anything is opened, made or removed.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import { Beneath, type Resolved } from "./beneath.ts";
import { openBackend } from "./fd_backend.ts";
import { about, folderNotFound } from "./fs_errors.ts";
import { quotePath } from "./paths.ts";
import type { TreeBackend } from "./tree_backend.ts";

/** The longest host path the system takes, with its terminating NUL (Linux's `PATH_MAX`). */
const HOST_PATH_MAX = 4096;

const encoder = new TextEncoder();

/**
 * The names of a normalized virtual path.
 *
 * @example
 * ```ts
 * import { splitPath } from "./confined.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(splitPath("/a/b"), ["a", "b"]);
 * deepEqual(splitPath("/"), []);
 * ```
 *
 * @param vpath A normalized virtual path.
 * @returns Its names, top first.
 */
export function splitPath(vpath: string): string[] {
  return vpath.split("/").filter(Boolean);
}

/**
 * A served tree and its resolver: what every operation on the served root
 * goes through to reach a host file.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 *   const c = new Confined(dir);
 *   using found = c.resolve("/a.txt", true);
 *   equal(found.target!.stat.size, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class Confined {
  /** The host path of the root (already real: no links in it). */
  readonly hostPath: string;
  /** The served tree. */
  readonly fs: TreeBackend;
  /** The resolver over it. */
  readonly beneath: Beneath;

  /**
   * @param realRoot The root's host path, as `Deno.realPath` gives it.
   */
  constructor(realRoot: string) {
    this.hostPath = realRoot;
    this.fs = openBackend(realRoot);
    this.beneath = new Beneath(this.fs, realRoot);
  }

  /**
   * Resolves `vpath` beneath the root: with `follow`, opens what it names
   * (following links that stay inside); otherwise finds the folder that
   * holds its last name. File-system errors become remote errors naming
   * `vpath`, but a folder missing on the way to a last name names the
   * folder: a PUT or RENAME into it is not told its own path "not found".
   *
   * @param vpath A normalized virtual path.
   * @param follow Open the last name too.
   * @returns What was found; the caller disposes of it.
   */
  resolve(vpath: string, follow: boolean): Resolved {
    this.checkLength(vpath);
    try {
      return about(vpath, () => this.beneath.resolve(splitPath(vpath), follow));
    } catch (e) {
      if (follow || !(e instanceof RemoteError) || e.code !== "NOT_FOUND") throw e;
      throw folderNotFound(vpath);
    }
  }

  /**
   * Refuses a path whose host path would be longer than the system takes
   * (`PATH_MAX`): one name at a time, a tree could be built deeper than any
   * other program could then reach.
   *
   * @param vpath A normalized virtual path.
   * @throws {RemoteError} BAD_PATH when it is too long.
   */
  checkLength(vpath: string): void {
    // UTF-8 takes at most three bytes for each UTF-16 unit: most paths need no encoding.
    if ((this.hostPath.length + vpath.length) * 3 < HOST_PATH_MAX) return;
    if (encoder.encode(this.hostPath).length + encoder.encode(vpath).length >= HOST_PATH_MAX) {
      throw new RemoteError(
        "BAD_PATH",
        `Refused path ${quotePath(vpath)}: name too long for the server`,
      );
    }
  }
}
