/**
 * Resolving a path beneath the served root one name at a time, as
 * `openat2(RESOLVE_BENEATH)` and rsync 3.4's secure open do: each name is
 * opened relative to the folder before it without following it; a link is
 * read and its target walked the same way (an absolute target only when it
 * lies under the root's real path, `..` never above the root). What comes
 * out is an open reference to the folder holding the last name (and to the
 * object itself), so the operation that follows acts on what was checked.
 *
 * @module
 */

import type { FsStat, Ref, TreeBackend } from "./tree_backend.ts";

/** Links followed in one resolution before it is refused, as Linux's `ELOOP` limit. */
export const MAX_LINK_HOPS = 40;

/**
 * Folder levels below the root a path may go through. Each level holds a
 * descriptor while the path is in use; no real tree comes near it.
 */
export const MAX_DEPTH = 255;

/** A path goes deeper than {@linkcode MAX_DEPTH} folders. */
export class TooDeep extends Error {
  /** @param message What was too deep. */
  constructor(message = `The path is more than ${MAX_DEPTH} folders deep`) {
    super(message);
    this.name = "TooDeep";
  }
}

/** A path (or a link in it) leads outside the served root. */
export class OutsideRoot extends Error {
  /** @param message What led out. */
  constructor(message = "The path leads outside the served root") {
    super(message);
    this.name = "OutsideRoot";
  }
}

/**
 * A resolved path: the folders walked (the root first, the folder holding
 * the last name on top) and, when the last name was opened, the object.
 * Holds its references open until disposed.
 */
export class Resolved implements Disposable {
  #fs: TreeBackend;
  #owned: Ref[];
  /**
   * The folders from the root down to the one holding the last name. After
   * a resolution in one call ({@linkcode TreeBackend.openBeneath}) only the
   * root and that folder (a parent resolution), or none (a file opened).
   */
  readonly stack: readonly Ref[];
  /** The last name, when it was not opened (`parent` resolutions); "" otherwise. */
  readonly name: string;
  /** The object itself and what it is, when it was opened; `null` otherwise. */
  readonly target: { ref: Ref; stat: FsStat } | null;
  /** Told once when this is disposed of (a folder shared by an MPUT's files, `upload_folders.ts`). */
  #onDispose: (() => void) | undefined;

  /** @internal */
  constructor(
    fs: TreeBackend,
    owned: Ref[],
    stack: Ref[],
    name: string,
    target: { ref: Ref; stat: FsStat } | null,
    onDispose?: () => void,
  ) {
    this.#fs = fs;
    this.#owned = owned;
    this.stack = stack;
    this.name = name;
    this.target = target;
    this.#onDispose = onDispose;
  }

  /** The folder holding the last name. */
  get dir(): Ref {
    const dir = this.stack.at(-1);
    if (dir === undefined) throw new RangeError("A file resolved in one call has no folder here");
    return dir;
  }

  /**
   * Keeps `ref` (the target) open after disposal: the caller releases it.
   *
   * @param ref A reference this resolution opened.
   * @returns `ref`.
   */
  keep(ref: Ref): Ref {
    const i = this.#owned.indexOf(ref);
    if (i >= 0) this.#owned.splice(i, 1);
    return ref;
  }

  /** Gives up the references this resolution opened. */
  [Symbol.dispose](): void {
    for (const ref of this.#owned.splice(0)) this.#fs.release(ref);
    const told = this.#onDispose;
    this.#onDispose = undefined;
    told?.();
  }
}

function split(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * The resolver of one served root.
 *
 * @example
 * ```ts
 * import { Beneath, OutsideRoot } from "./beneath.ts";
 * import { PathBackend } from "./tree_backend.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.symlink("/etc", `${dir}/out`);
 * const beneath = new Beneath(new PathBackend(dir), dir);
 * throws(() => beneath.resolve(["out", "passwd"], true), OutsideRoot);
 * using found = beneath.resolve([], true);
 * deepEqual(found.target?.stat.type, "dir");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Beneath {
  #fs: TreeBackend;
  #rootParts: string[];

  /**
   * @param fs The backend (its `root` is the served folder).
   * @param realRoot The served folder's real path: absolute link targets under it are inside.
   */
  constructor(fs: TreeBackend, realRoot: string) {
    this.#fs = fs;
    this.#rootParts = split(realRoot);
  }

  /** The parts of an absolute link target below the root, or `null` when it is not under it. */
  #belowRoot(target: string): string[] | null {
    const parts = target.split("/").filter((c) => c !== "");
    const n = this.#rootParts.length;
    if (parts.length < n || this.#rootParts.some((p, i) => parts[i] !== p)) return null;
    return parts.slice(n);
  }

  /**
   * Resolves `parts` (names, no `/`) beneath the root, following links in
   * the folders on the way and, with `follow`, a link at the end.
   *
   * @param parts The names from the root (`[]`: the root itself).
   * @param follow Open the last name, following a link there (otherwise it
   * is left unopened in {@linkcode Resolved.name}).
   * @param from Start from these folders instead of the root (a folder
   * resolved earlier).
   * @returns The resolution; dispose of it.
   * @throws {OutsideRoot} When a link leads out of the root.
   */
  resolve(parts: readonly string[], follow: boolean, from?: readonly Ref[]): Resolved {
    if (from === undefined) {
      const resolved = this.#inOneCall(parts, follow);
      if (resolved !== null) return resolved;
    }
    const owned: Ref[] = [];
    try {
      return this.#walk(parts, follow, from ?? [this.#fs.root], owned);
    } catch (e) {
      for (const ref of owned) this.#fs.release(ref);
      throw e;
    }
  }

  /**
   * The common cases in one system call, where the backend has one: a file
   * to open, or the folder of a name. A folder to open (its callers walk on
   * from every folder above it), and anything the call refuses, go name by
   * name. Three system calls a level fewer: a GET of `d/f` cost about 230 us
   * of server CPU here, 60 of them in the walk.
   */
  #inOneCall(parts: readonly string[], follow: boolean): Resolved | null {
    const fs = this.#fs;
    const names = follow ? parts : parts.slice(0, -1);
    if (
      fs.openBeneath === undefined || names.length === 0 || names.length > MAX_DEPTH ||
      parts.some((p) => p === ".." || p === "." || p === "")
    ) return null;
    // A name's folder is opened as a folder or not at all: no stat to tell.
    const ref = fs.openBeneath(names.join("/"), !follow);
    if (ref === null) return null;
    if (!follow) return new Resolved(fs, [ref], [fs.root, ref], parts[parts.length - 1]!, null);
    let stat: FsStat;
    try {
      stat = fs.stat(ref);
    } catch (e) {
      fs.release(ref);
      throw e;
    }
    if (stat.type !== "dir") return new Resolved(fs, [ref], [], "", { ref, stat });
    fs.release(ref);
    return null;
  }

  #walk(parts: readonly string[], follow: boolean, from: readonly Ref[], owned: Ref[]): Resolved {
    const fs = this.#fs;
    const stack = [...from];
    const todo = [...parts].reverse();
    const top = () => stack[stack.length - 1]!;
    let hops = 0;
    if (!follow && todo.length === 0) throw new RangeError("The root has no parent folder");
    while (todo.length > 0) {
      const name = todo.pop()!;
      const last = todo.length === 0;
      if (name === "..") {
        if (stack.length === 1) throw new OutsideRoot();
        stack.pop();
      } else if (name !== "." && name !== "") {
        if (last && !follow) return new Resolved(fs, owned, stack, name, null);
        const ref = fs.openNoFollow(top(), name);
        owned.push(ref);
        const stat = fs.stat(ref);
        if (stat.type === "link") {
          if (++hops > MAX_LINK_HOPS) throw new Deno.errors.FilesystemLoop("Too many links");
          const target = fs.readlink(ref);
          let next = target.split("/");
          if (target.startsWith("/")) {
            const below = this.#belowRoot(target);
            if (below === null) throw new OutsideRoot();
            next = below;
            stack.length = 1;
          }
          // An empty remainder (a link to the root, or to "."): its last name is the folder.
          for (const part of (next.length === 0 ? ["."] : next).reverse()) todo.push(part);
          continue;
        }
        if (stat.type === "dir") {
          if (stack.length > MAX_DEPTH) throw new TooDeep();
          stack.push(ref);
        } else if (!last) {
          throw new Deno.errors.NotADirectory(`Not a folder: ${name}`);
        } else {
          return new Resolved(fs, owned, stack, "", { ref, stat });
        }
      }
      if (last && !follow) throw new Deno.errors.IsADirectory("The path names a folder");
    }
    // The last name was a folder (or the root): it is on top of the stack.
    return new Resolved(fs, owned, stack, "", { ref: top(), stat: fs.stat(top()) });
  }
}
