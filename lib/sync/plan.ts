/**
 * What `bftp sync` will do, from two listing passes (`tree_plan.ts`): the
 * source's plan and the target's, compared path by path below their tops.
 * A file is sent when the target lacks it or differs in size, modification
 * time or permission bits (rsync's quick check; with `--checksum`, files of
 * one size are compared by content instead: see `content.ts`); with
 * `--delete`, what the target has and the source lacks is removed. A
 * filter leaves paths out on both sides: neither sent nor deleted.
 *
 * @module
 */

import {
  EXCLUDED,
  failedEntry,
  type PlannedEntry,
  type PlannedFile,
  type SkippedEntry,
  type TreePlan,
} from "../client/tree_plan.ts";
import { type BftpError, LocalIoError, RemoteError } from "../errors.ts";
import { quotePath } from "../root/paths.ts";
import { unstickyBits } from "../local_file/attributes.ts";

/** Which paths take part, as `PathFilter` (`filter.ts`) decides. */
export interface SyncFilter {
  /** Whether `relative` (names joined by `/`) takes part. */
  includes(relative: string, isFolder: boolean): boolean;
}

/** A file to send, and why. */
export interface SyncSend {
  /** `new`: the target lacks it; `changed`: the target's differs. */
  kind: "new" | "changed";
  /** The source's file (its `local` and `remote` paths both set). */
  file: PlannedFile;
  /**
   * The target's file has the source's bytes and differs in its time or
   * permission bits only (its bits alone by the quick check; with `-c`,
   * either, its content found the same): they are given without the body,
   * on a push by SETSTAT where the server offers it, on a pull to the
   * local file itself (never through a link).
   */
  attributesOnly?: boolean;
}

/** Something on the target to remove (`--delete`). */
export interface SyncDelete {
  /** The path below the target's top. */
  relative: string;
  /** The path on the target's side (remote or local). */
  path: string;
  /** A folder (removed once empty) rather than a file, a link or the like. */
  folder: boolean;
  /** Its size, for a file. */
  size: number;
}

/** A source file and the target's file of the same path. */
export interface FilePair {
  /** The source's. */
  source: PlannedFile;
  /** The target's. */
  target: PlannedFile;
}

/** What a sync will do. */
export interface SyncPlan {
  /** How many source files were compared. */
  checked: number;
  /** The source's folders that take part, the top first, parents before children. */
  folders: PlannedEntry[];
  /** The relative paths of the folders the target lacks. */
  missingFolders: Set<string>;
  /** The files to send, in the source's order. */
  sends: SyncSend[];
  /** What to remove: files first, then folders, the deepest first. */
  deletes: SyncDelete[];
  /** The source's entries left out (links, FIFOs, devices). */
  skipped: SkippedEntry[];
  /** With a content check, the files of one size on both sides, still to compare. */
  unsure: FilePair[];
  /**
   * The relative paths of the source's folders whose time or permission
   * bits the target's folder lacks (a missing folder, or another
   * modification time or mode): after the files, the target's folders are
   * given the source's.
   */
  staleTimes: Set<string>;
  /**
   * The target's top folder keeps its own time and bits: a link to a
   * folder on the server, which SETSTAT does not go through (its files are
   * synced through it, as through a local DST that is a link).
   */
  keepTop?: boolean | undefined;
  /**
   * The target's folders whose bits deny their owner reading, writing or
   * searching them (a read-only folder a sync kept from its source): one
   * this sync changes something in is given `u+rwx` first, as rsync gives
   * write, and gets its bits back with the others at the end.
   *
   * @default {[]}
   */
  lockedFolders?: PlannedEntry[] | undefined;
}

/** Options for {@linkcode compareTrees}. */
export interface CompareOptions {
  /** Which side the target is on: its paths to remove are `remote` or `local`. */
  targetSide: "local" | "remote";
  /**
   * Remove what the target has and the source lacks.
   *
   * @default {false}
   */
  deleting?: boolean | undefined;
  /**
   * Compare files of one size by content (left in `unsure`), not by time.
   *
   * @default {false}
   */
  checksum?: boolean | undefined;
  /**
   * Leave alone a file whose target copy is newer (`-u`, as rsync's
   * `--update`): modified later than the source's.
   *
   * @default {false}
   */
  update?: boolean | undefined;
  /**
   * Leave alone every file the target has already, sending only new ones
   * (`--ignore-existing`, as rsync's).
   *
   * @default {false}
   */
  ignoreExisting?: boolean | undefined;
  /** The paths that take part; all when absent. */
  filter?: SyncFilter | undefined;
}

/** Whether the target's copy is to be left alone, whatever differs (`-u`, `--ignore-existing`). */
function keptAsItIs(file: PlannedFile, other: PlannedFile, options: CompareOptions): boolean {
  if (options.ignoreExisting === true) return true;
  return options.update === true && typeof file.mtime === "number" &&
    typeof other.mtime === "number" && other.mtime > file.mtime;
}

/**
 * Whether two files differ by the quick check: size, modification time
 * (whole milliseconds) or permission bits, each where both sides know it.
 *
 * @param a One file.
 * @param b The other.
 * @returns `true` when they differ.
 *
 * @example
 * ```ts
 * import { quickDiffers } from "./plan.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const f = { remote: "/a", local: "a", relative: "a", size: 2, mtime: 1000, mode: 0o644 };
 * deepEqual(quickDiffers(f, { ...f }), false);
 * deepEqual(quickDiffers(f, { ...f, mtime: 2000 }), true);
 * deepEqual(quickDiffers(f, { ...f, mode: 0o600 }), true);
 * deepEqual(quickDiffers(f, { ...f, size: 3 }), true);
 * ```
 */
export function quickDiffers(a: PlannedFile, b: PlannedFile): boolean {
  if (a.size !== b.size) return true;
  const known = (x: number | null | undefined): x is number => typeof x === "number";
  if (known(a.mtime) && known(b.mtime) && Math.trunc(a.mtime) !== Math.trunc(b.mtime)) return true;
  return known(a.mode) && known(b.mode) && (a.mode & 0o777) !== (b.mode & 0o777);
}

/** Whether two files that differ by the quick check differ in their permission bits alone. */
function modeOnly(a: PlannedFile, b: PlannedFile): boolean {
  return typeof a.mode === "number" && typeof a.mtime === "number" &&
    typeof b.mtime === "number" && !quickDiffers(a, { ...b, mode: a.mode });
}

/**
 * Whether the target's folder (if any) lacks the source folder's time or
 * permission bits, each where the source knows it.
 */
function folderDiffers(
  source: PlannedEntry,
  target: PlannedEntry | undefined,
  side: "local" | "remote",
): boolean {
  const timeOff = typeof source.mtime === "number" && target?.mtime !== source.mtime;
  // The bits the target is given (a folder here keeps a sticky bit; one on the server cannot).
  const bits = (mode: number) => side === "local" ? mode & 0o1777 : unstickyBits(mode);
  const bitsOff = typeof source.mode === "number" &&
    (typeof target?.mode !== "number" || (target.mode & 0o1777) !== bits(source.mode));
  return timeOff || bitsOff;
}

/**
 * The owner's read, write and search bits: write and search are what a
 * folder needs to have an entry made or removed, and read what a server
 * that flushes needs to open it for its `fsync` (a 0300 folder took the
 * file but answered "permission denied").
 */
const OWNER_ALL = 0o700;

/** How deep a relative path is: `""` 0, `a` 1, `a/b` 2. */
function depth(relative: string): number {
  return relative === "" ? 0 : relative.split("/").length;
}

/** A path's kind in a plan: a file, a folder, or an entry it leaves out (a link, a FIFO...). */
type Kind = "file" | "dir" | "other";

/** Each path's {@linkcode Kind} in a plan (what a filter excluded not among them). */
function kinds(plan: TreePlan): Map<string, Kind> {
  const out = new Map<string, Kind>();
  for (const f of plan.files) out.set(f.relative, "file");
  for (const f of plan.folders) out.set(f.relative, "dir");
  for (const s of plan.skipped) {
    if (s.why !== EXCLUDED && s.relative !== undefined) out.set(s.relative, "other");
  }
  return out;
}

/**
 * The target's entries to remove: with `--delete`, what the source lacks;
 * and always what stands where the source has another kind of entry (a
 * file or a link where a folder goes, a link where a file goes), which
 * must go for the source's to land, as rsync replaces them. A folder where
 * the source has a file goes only with `--delete`, with all in it. A name
 * the source leaves out (a link of its own) keeps the target's entry, and
 * all below it. Files and links come first, then folders, deepest first.
 */
function findDeletes(
  source: TreePlan,
  target: TreePlan,
  side: "local" | "remote",
  taking: (relative: string, folder: boolean) => boolean,
  deleting: boolean,
): SyncDelete[] {
  const mine = kinds(source);
  const leftOut = [...mine].filter(([, kind]) => kind === "other").map(([relative]) => relative);
  const shielded = (relative: string) =>
    mine.get(relative) === "other" || leftOut.some((l) => relative.startsWith(`${l}/`));
  const goes = (relative: string, kind: Kind): boolean => {
    const theirs = mine.get(relative);
    if (theirs === undefined) return deleting;
    if (theirs === kind) return false;
    return kind === "dir" ? deleting : true;
  };
  const files: SyncDelete[] = [];
  const kept: string[] = [];
  const consider = (relative: string, path: string, size: number, kind: Kind) => {
    if (shielded(relative)) kept.push(relative);
    else if (!goes(relative, kind)) return;
    else if (taking(relative, false)) files.push({ relative, path, folder: false, size });
    else kept.push(relative);
  };
  for (const f of target.files) consider(f.relative, f[side], f.size, "file");
  const unlisted = new Set<string>();
  for (const s of target.skipped) {
    // What the listing left out by the filter is kept, folders with all in them; and so is a
    // folder it could not list (its failure is told), whose contents are unknown.
    if (s.relative === undefined) continue;
    if (s.unlisted) unlisted.add(s.relative);
    if (s.why === EXCLUDED || s.unlisted) kept.push(s.relative);
    else consider(s.relative, s.path, 0, "other");
  }
  const folders: SyncDelete[] = [];
  for (const f of target.folders) {
    if (f.relative === "" || unlisted.has(f.relative)) continue;
    if (shielded(f.relative) || !goes(f.relative, "dir")) continue;
    if (!taking(f.relative, true)) {
      kept.push(f.relative);
      continue;
    }
    folders.push({ relative: f.relative, path: f[side], folder: true, size: 0 });
  }
  // A folder that holds something kept (left out by the filter, or by the source) stays, and so
  // do its parents.
  const holdsKept = (folder: string) => kept.some((k) => k.startsWith(`${folder}/`));
  const removable = folders.filter((f) => !holdsKept(f.relative));
  removable.sort((a, b) => depth(b.relative) - depth(a.relative));
  return [...files, ...removable];
}

/**
 * Compares a source's plan with a target's (both from `planDownload` or
 * `planUpload`, mapped onto the same paths) into a {@linkcode SyncPlan}.
 * Reads and writes nothing.
 *
 * @param source The source's plan.
 * @param target The target's plan (empty when the target folder is missing).
 * @param options The target's side, `--delete`, `--checksum` and the filter.
 * @returns The plan.
 *
 * @example
 * ```ts
 * import { compareTrees } from "./plan.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const top = { remote: "/t", local: "t", relative: "" };
 * const file = (relative: string, size: number) =>
 *   ({ remote: `/t/${relative}`, local: `t/${relative}`, relative, size, mtime: 5, mode: 0o644 });
 * const source = { files: [file("a", 1), file("b", 2)], folders: [top], totalBytes: 3, skipped: [] };
 * const target = { files: [file("b", 3), file("c", 4)], folders: [top], totalBytes: 7, skipped: [] };
 * const plan = compareTrees(source, target, { targetSide: "remote", deleting: true });
 * deepEqual(plan.sends.map((s) => [s.kind, s.file.relative]), [["new", "a"], ["changed", "b"]]);
 * deepEqual(plan.deletes.map((d) => d.path), ["/t/c"]);
 * ```
 */
export function compareTrees(
  source: TreePlan,
  target: TreePlan,
  options: CompareOptions,
): SyncPlan {
  const filter = options.filter;
  const taking = (relative: string, folder: boolean) =>
    relative === "" || filter === undefined || filter.includes(relative, folder);
  const theirs = new Map(target.files.map((f) => [f.relative, f]));
  const targetFolders = new Map(target.folders.map((f) => [f.relative, f]));
  const folders = source.folders.filter((f) => taking(f.relative, true));
  const plan: SyncPlan = {
    checked: 0,
    folders,
    missingFolders: new Set(
      folders.filter((f) => !targetFolders.has(f.relative)).map((f) => f.relative),
    ),
    sends: [],
    deletes: [],
    skipped: [
      ...source.skipped.filter((s) =>
        s.why !== EXCLUDED && (s.relative === undefined || taking(s.relative, false))
      ),
      // A target folder that could not be listed: what is in it is not known, nor compared.
      ...target.skipped.filter((s) => s.unlisted),
    ],
    unsure: [],
    staleTimes: new Set(
      folders.filter((f) => folderDiffers(f, targetFolders.get(f.relative), options.targetSide))
        .map((f) => f.relative),
    ),
    lockedFolders: target.folders.filter((f) =>
      typeof f.mode === "number" && (f.mode & OWNER_ALL) !== OWNER_ALL
    ),
  };
  for (const file of source.files) {
    if (!taking(file.relative, false)) continue;
    plan.checked++;
    const other = theirs.get(file.relative);
    if (other === undefined) {
      plan.sends.push({ kind: "new", file });
    } else if (keptAsItIs(file, other, options)) {
      continue;
    } else if (options.checksum === true && file.size === other.size) {
      plan.unsure.push({ source: file, target: other });
    } else if (options.checksum === true || quickDiffers(file, other)) {
      plan.sends.push({
        kind: "changed",
        file,
        ...(modeOnly(file, other) ? { attributesOnly: true } : {}),
      });
    }
  }
  plan.deletes = findDeletes(source, target, options.targetSide, taking, options.deleting === true);
  // A folder where a file goes, and not removed (no --delete): that file's failure, told by a dry
  // run as by the sync itself, which sends nothing there.
  const removed = new Set(plan.deletes.map((d) => d.relative));
  plan.sends = plan.sends.filter(({ file }) => {
    if (!targetFolders.has(file.relative) || removed.has(file.relative)) return true;
    const error = folderInTheWay(file, options.targetSide);
    plan.skipped.push(failedEntry(file.remote, file.relative, error));
    return false;
  });
  return plan;
}

/** The failure of a file whose path is a folder on the target, as writing there fails. */
function folderInTheWay(file: PlannedFile, side: "local" | "remote"): BftpError {
  return side === "remote"
    ? new RemoteError("IS_DIR", `${quotePath(file.remote)} is a folder`)
    : new LocalIoError(`Cannot write "${file.local}": is a folder`);
}
