/**
 * The served root's namespace operations: remove a file, make and remove
 * folders, rename. Each resolves its path beneath the root and then acts
 * relative to the folder it found (`unlinkat`, `mkdirat`, `renameat` on
 * Linux), so a folder swapped for an outward link meanwhile is never
 * followed.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { Entry } from "./entry.ts";
import { OutsideRoot, type Resolved } from "./beneath.ts";
import { type Confined, splitPath } from "./confined.ts";
import { about, fsError, statOrNull } from "./fs_errors.ts";
import { baseName, notAFolder, quotePath, TEMP_PREFIX } from "./paths.ts";
import type { FileAttributes, FsStat, Ref } from "./tree_backend.ts";

/**
 * A protocol entry for `name`, from what is known of it.
 *
 * @example
 * ```ts
 * import { entryOf } from "./namespace.ts";
 * import { equal } from "node:assert/strict";
 *
 * const stat = { type: "file", size: 3, mode: 0o644, dev: null, ino: null, mtimeNs: 1_500_000n, ctimeNs: null } as const;
 * equal(entryOf("a", stat).mtime, 1);
 * ```
 */
export function entryOf(name: string, stat: FsStat): Entry {
  return {
    name,
    type: stat.type,
    size: stat.type === "file" ? stat.size : 0,
    mtime: stat.mtimeNs === null ? null : Number(stat.mtimeNs / 1_000_000n),
    mode: stat.mode,
  };
}

/**
 * STAT's entry for `vpath`: what it names, a link inside the root followed
 * and then marked `link: true`, as LIST marks it (a recursive removal
 * removes such a link, not what it leads to).
 *
 * @param c The tree.
 * @param vpath A normalized virtual path.
 * @returns The entry (`/` named `/`).
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { statEntry } from "./namespace.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.mkdir(`${dir}/real`);
 * await Deno.symlink("real", `${dir}/via`);
 * const c = new Confined(dir);
 * deepEqual([statEntry(c, "/real").type, statEntry(c, "/real").link], ["dir", undefined]);
 * deepEqual([statEntry(c, "/via").type, statEntry(c, "/via").link], ["dir", true]);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function statEntry(c: Confined, vpath: string): Entry {
  const entry = ((): Entry => {
    using found = c.resolve(vpath, true);
    return entryOf(vpath === "/" ? "/" : baseName(vpath), found.target!.stat);
  })();
  if (vpath === "/") return entry;
  using at = c.resolve(vpath, false);
  const own = about(vpath, () => statOrNull(c.fs, at.dir, at.name));
  return own?.type === "link" ? { ...entry, link: true } : entry;
}

/**
 * Lists a folder, sorted by name. bftp's temporary files are left out; a
 * symlink is shown as its target when that is inside the root (marked
 * `link: true`), and as `link` otherwise.
 *
 * @param c The tree.
 * @param vpath A normalized virtual path to a folder.
 * @returns The entries.
 * @throws {RemoteError} NOT_DIR when `vpath` is not a folder.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { listFolder } from "./namespace.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.mkdir(`${dir}/sub`);
 * await Deno.writeTextFile(`${dir}/b.txt`, "hi");
 * await Deno.writeTextFile(`${dir}/.bftp-tmp-upload`, "half");
 * const c = new Confined(dir);
 * const entries = listFolder(c, "/").map((e) => [e.name, e.type, e.size]);
 * deepEqual(entries, [["b.txt", "file", 2], ["sub", "dir", 0]]);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function listFolder(c: Confined, vpath: string): Entry[] {
  using found = c.resolve(vpath, true);
  const folder = found.target!;
  if (folder.stat.type !== "dir") {
    throw new RemoteError("NOT_DIR", `${quotePath(vpath)} is not a folder`);
  }
  const entries: Entry[] = [];
  for (const { name } of about(vpath, () => c.fs.readDir(folder.ref))) {
    if (name.startsWith(TEMP_PREFIX)) continue;
    const stat = about(vpath, () => statOrNull(c.fs, folder.ref, name));
    if (stat === null) {
      // A name that is not UTF-8 on the disk comes with U+FFFD in place of its bad bytes, and
      // no call finds it by that name: listed as "other", so that a client sees it is there
      // and cannot be asked for (a copy of the folder is then incomplete, and says so).
      if (name.includes("\uFFFD")) {
        entries.push({ name, type: "other", size: 0, mtime: null, mode: null });
      }
      // Otherwise removed while we listed it: left out.
      continue;
    }
    const target = linkTarget(c, stat, name, found);
    // A link followed says so: a mirror must not remove or write through it as a folder.
    entries.push(target === stat ? entryOf(name, stat) : { ...entryOf(name, target), link: true });
  }
  return entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** What a listed link leads to when that is inside the root; the link itself otherwise. */
function linkTarget(c: Confined, stat: FsStat, name: string, folder: Resolved): FsStat {
  if (stat.type !== "link") return stat;
  try {
    using target = c.beneath.resolve([name], true, folder.stack);
    return target.target!.stat;
  } catch (e) {
    if (
      e instanceof OutsideRoot || e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.FilesystemLoop || e instanceof Deno.errors.NotADirectory ||
      e instanceof Deno.errors.PermissionDenied
    ) return stat;
    throw e;
  }
}

/**
 * Removes a file (not a folder; a symlink itself, not its target).
 *
 * @param c The tree.
 * @param vpath A normalized virtual path.
 * @throws {RemoteError} IS_DIR for a folder, NOT_FOUND when nothing is there.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { removeFile } from "./namespace.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * await Deno.mkdir(`${dir}/sub`);
 * const c = new Confined(dir);
 * removeFile(c, "/a.txt");
 * equal([...Deno.readDirSync(dir)].map((e) => e.name).join(), "sub");
 * throws(() => removeFile(c, "/sub"), /is a folder: use rmdir/);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function removeFile(c: Confined, vpath: string): void {
  const isDir = () => new RemoteError("IS_DIR", `${quotePath(vpath)} is a folder: use rmdir`);
  if (vpath === "/") throw isDir();
  using at = c.resolve(vpath, false);
  try {
    c.fs.unlinkAt(at.dir, at.name, false);
  } catch (e) {
    if (e instanceof Deno.errors.IsADirectory) throw isDir();
    throw fsError(e, vpath);
  }
}

/**
 * Makes a folder; with `parents`, missing parents too, and an existing
 * folder is accepted.
 *
 * @param c The tree.
 * @param vpath A normalized virtual path.
 * @param parents As `mkdir -p`.
 * @param mode The bits of the folder `vpath` if it is made, less the
 * umask (its parents made with `parents` get `0o777` less the umask, as
 * `mkdir -p -m` gives them).
 * @throws {RemoteError} EXISTS when something is there already (with
 * `parents`, only when it is not a folder); NOT_FOUND for a missing parent
 * without `parents`.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { makeFolder } from "./namespace.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * const c = new Confined(dir);
 * makeFolder(c, "/a/b", true);
 * equal((await Deno.stat(`${dir}/a/b`)).isDirectory, true);
 * makeFolder(c, "/a", true); // Already there: accepted, as `mkdir -p` does.
 * throws(() => makeFolder(c, "/a", false), /already exists/);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function makeFolder(
  c: Confined,
  vpath: string,
  parents: boolean,
  mode = 0o777,
): void {
  if (vpath === "/") {
    if (parents) return;
    throw new RemoteError("EXISTS", `${quotePath(vpath)} already exists`);
  }
  if (!parents) {
    using at = c.resolve(vpath, false);
    return about(vpath, () => c.fs.mkdirAt(at.dir, at.name, mode));
  }
  about(vpath, () => makeParents(c, splitPath(vpath), vpath, mode));
}

/** `mkdir -p`: one walk down, each missing folder made from the one above it. */
function makeParents(c: Confined, parts: string[], vpath: string, mode: number): void {
  const held: Resolved[] = [];
  try {
    let stack: readonly Ref[] = [c.fs.root];
    for (const [i, name] of parts.entries()) {
      const step = () => c.beneath.resolve([name], true, stack);
      let found: Resolved;
      try {
        found = step();
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        try {
          c.fs.mkdirAt(stack[stack.length - 1]!, name, i === parts.length - 1 ? mode : 0o777);
        } catch (e) {
          if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        }
        found = step();
      }
      held.push(found);
      if (found.target!.stat.type !== "dir") {
        throw i === parts.length - 1
          ? new RemoteError("EXISTS", `${quotePath(vpath)} already exists and is not a folder`)
          : new Deno.errors.NotADirectory("A part of the path is not a folder");
      }
      stack = found.stack;
    }
  } finally {
    for (const found of held) found[Symbol.dispose]();
  }
}

/**
 * Removes an empty folder (never the root).
 *
 * @param c The tree.
 * @param vpath A normalized virtual path.
 * @throws {RemoteError} DENIED for the root, NOT_DIR for what is not a
 * folder, NOT_EMPTY for a folder that is not empty.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { removeFolder } from "./namespace.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.mkdir(`${dir}/empty`);
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const c = new Confined(dir);
 * removeFolder(c, "/empty");
 * equal([...Deno.readDirSync(dir)].map((e) => e.name).join(), "a.txt");
 * throws(() => removeFolder(c, "/a.txt"), /is not a folder/);
 * throws(() => removeFolder(c, "/"), /Cannot remove the served root/);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function removeFolder(c: Confined, vpath: string): void {
  if (vpath === "/") throw new RemoteError("DENIED", "Cannot remove the served root");
  using at = c.resolve(vpath, false);
  try {
    c.fs.unlinkAt(at.dir, at.name, true);
  } catch (e) {
    if (e instanceof Deno.errors.NotADirectory) {
      throw new RemoteError("NOT_DIR", `${quotePath(vpath)} is not a folder`);
    }
    throw fsError(e, vpath);
  }
}

/**
 * Renames or moves a file or folder within the root. An existing file at
 * `to` is replaced, as `mv` does; an existing folder is not, and a folder
 * does not replace a file.
 *
 * @param c The tree.
 * @param from A normalized virtual path.
 * @param to A normalized virtual path.
 * @param folderForm Which of the paths the client sent in a folder's form
 * (`a/`): such a path names a folder, and a file moved from or to it is
 * refused, as `rename(2)` refuses it.
 * @throws {RemoteError} DENIED for the root, BAD_PATH for a move into
 * itself, EXISTS for a folder at `to` (or a file there when `from` is a
 * folder), NOT_FOUND when `from` is not there, NOT_DIR for a file and a
 * path in a folder's form.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { move } from "./namespace.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.mkdir(`${dir}/sub`);
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const c = new Confined(dir);
 * move(c, "/a.txt", "/sub/b.txt");
 * equal(await Deno.readTextFile(`${dir}/sub/b.txt`), "hi");
 * throws(() => move(c, "/sub", "/sub/deeper"), /into itself/);
 * throws(() => move(c, "/sub/b.txt", "/sub/b.txt"), /onto itself/);
 * throws(() => move(c, "/sub/b.txt", "/c.txt", { from: true }), /"\/sub\/b.txt\/" is not a folder/);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function move(
  c: Confined,
  from: string,
  to: string,
  folderForm: { from?: boolean; to?: boolean } = {},
): void {
  if (from === "/" || to === "/") throw new RemoteError("DENIED", "Cannot move the served root");
  if (to === from) throw new RemoteError("BAD_PATH", `Cannot move ${quotePath(from)} onto itself`);
  if (to.startsWith(from + "/")) {
    throw new RemoteError("BAD_PATH", `Cannot move ${quotePath(from)} into itself`);
  }
  using src = c.resolve(from, false);
  using dst = c.resolve(to, false);
  const moved = about(from, () => c.fs.statAt(src.dir, src.name));
  if (moved.type !== "dir" && (folderForm.from || folderForm.to)) {
    const formed = notAFolder(folderForm.from ? from : to);
    throw new RemoteError("NOT_DIR", `Cannot move ${quotePath(from)}: ${formed.message}`);
  }
  about(to, () => {
    const target = statOrNull(c.fs, dst.dir, dst.name);
    if (target?.type === "dir") throw new RemoteError("EXISTS", `${quotePath(to)} already exists`);
    if (target !== null && moved.type === "dir") {
      throw new RemoteError("EXISTS", `${quotePath(to)} already exists and is not a folder`);
    }
    c.fs.renameAt(src.dir, src.name, dst.dir, dst.name);
  });
}

/**
 * Sets a file's or a folder's modification time and permission bits
 * (SETSTAT). A symbolic link at the path is refused, never followed, and
 * so is anything else that is neither; the served root's own are not to be
 * changed.
 *
 * @param c The tree.
 * @param vpath A normalized virtual path.
 * @param attributes The time (ms) and bits to set; either or both.
 * @param folderForm The client sent the path in a folder's form (`a/`):
 * only a folder is changed.
 * @throws {RemoteError} DENIED for the root, NOT_REGULAR for a link or
 * anything else that is neither a file nor a folder, NOT_DIR for a file
 * named in a folder's form.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { setAttributes } from "./namespace.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const c = new Confined(dir);
 * setAttributes(c, "/a.txt", { mtime: 1_000_000_000_000 });
 * equal((await Deno.stat(`${dir}/a.txt`)).mtime?.getTime(), 1_000_000_000_000);
 * throws(() => setAttributes(c, "/", { mtime: 0 }), /served root is left as it is/);
 * throws(() => setAttributes(c, "/a.txt", { mode: 0 }, true), /"\/a.txt\/" is not a folder/);
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function setAttributes(
  c: Confined,
  vpath: string,
  attributes: FileAttributes,
  folderForm = false,
): void {
  if (vpath === "/") {
    throw new RemoteError(
      "DENIED",
      `Refused ${quotePath(vpath)}: the served root is left as it is`,
    );
  }
  using at = c.resolve(vpath, false);
  const type = about(vpath, () => c.fs.setAttributesAt(at.dir, at.name, attributes, folderForm));
  if (type === "file" && folderForm) {
    throw notAFolder(vpath);
  }
  if (type !== "file" && type !== "dir") {
    throw new RemoteError("NOT_REGULAR", `Refused ${quotePath(vpath)}: not a file or a folder`);
  }
}
