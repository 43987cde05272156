/**
 * The plan of a tree transfer (`get -r`, `put -r`, a sync): before any file
 * moves, the whole tree is walked (LIST on the server, pipelined:
 * `remote_plan.ts`; `readDir` on the local disk: `local_plan.ts`) into a
 * {@linkcode TreePlan}: the files with their sizes, the folders, the total
 * and what is left out. A progress line can then show the whole tree's
 * figures, and `sync` can compare two plans.
 *
 * @module
 */

import { BftpError } from "../errors.ts";

/** A file or folder of a plan, on both sides. */
export interface PlannedEntry {
  /** The path on the server. */
  remote: string;
  /** The local path. */
  local: string;
  /**
   * The path below the tree's top, names joined by `/` (`""` for the top
   * itself): what a progress line shows. Not escaped.
   */
  relative: string;
  /**
   * Its modification time when listed (ms since the epoch), if known: what
   * `sync` compares for a file, and gives the target's folder once the
   * folder's files are in.
   */
  mtime?: number | null | undefined;
  /**
   * Its permission bits when listed, if known: what `sync` compares for a
   * file, and gives the target's folder with its time.
   */
  mode?: number | null | undefined;
}

/** A file of a plan. */
export interface PlannedFile extends PlannedEntry {
  /** Its size when listed, in bytes (0 when {@linkcode PlannedFile.unsized}). */
  size: number;
  /**
   * Planned from its folder's listing alone, as a regular file there, and
   * not looked up (`PlanUploadOptions.lookUp`): its size, time and bits are
   * found when it is opened to be read; `size` says 0 meanwhile.
   */
  unsized?: true | undefined;
  /**
   * A local file the walk reached through a symbolic link it followed: it
   * is read through a link. One listed as a plain file is read only as
   * one, so a link put in its place since is refused, not followed.
   */
  link?: boolean | undefined;
}

/** An entry the transfer leaves out, and why (`bftp: Skipping …`). */
export interface SkippedEntry {
  /** The path, on the side the tree is read from. */
  path: string;
  /** Why, e.g. `not a regular file`. */
  why: string;
  /** The path below the tree's top, names joined by `/` (as {@linkcode PlannedEntry}'s). */
  relative?: string | undefined;
  /**
   * Set when the entry was not left out by choice but cannot be fetched
   * (its name: {@linkcode unfetchableName}): a failure of the tree, told
   * as the others are.
   */
  error?: BftpError | undefined;
  /**
   * A folder that could not be listed and is kept among the plan's folders
   * too (`keepUnlisted`): its contents are unknown.
   */
  unlisted?: boolean | undefined;
}

/**
 * The entry of a path that fails rather than is left out by choice: told
 * as a failure of the tree (`error`), its message as the reason.
 *
 * @param path The path, on the side the tree is read from.
 * @param relative The path below the tree's top.
 * @param error Why it fails.
 * @returns The entry, for a plan's `skipped`.
 *
 * @example
 * ```ts
 * import { failedEntry } from "./tree_plan.ts";
 * import { BftpError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const error = new BftpError("BAD_PATH", "no");
 * deepEqual(failedEntry("/t/a", "a", error), { path: "/t/a", why: "no", relative: "a", error });
 * ```
 */
export function failedEntry(path: string, relative: string, error: BftpError): SkippedEntry {
  return { path, why: error.message, relative, error };
}

/**
 * Whether a folder's bits deny its owner reading or searching it (`0000`,
 * `0100`, `0200`...): what `listLocked` opens.
 *
 * @param mode Its permission bits, when known.
 * @returns Whether they do.
 *
 * @example
 * ```ts
 * import { lockedByBits } from "./tree_plan.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([0o100, 0o200, 0o500, null].map(lockedByBits), [true, true, false, false]);
 * ```
 */
export function lockedByBits(mode: number | null | undefined): mode is number {
  return typeof mode === "number" && (mode & 0o500) !== 0o500;
}

/**
 * Whether a listing is a sync's target listed by a dry run: a folder that
 * cannot be listed is kept (`keepUnlisted`), and one locked by its bits is
 * not opened (no `listLocked`), as a real sync's listing would open it.
 *
 * @param options The listing's options.
 * @returns Whether it is.
 *
 * @example
 * ```ts
 * import { dryTargetListing } from "./tree_plan.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(dryTargetListing({ keepUnlisted: true }), true);
 * deepEqual(dryTargetListing({ keepUnlisted: true, listLocked: true }), false);
 * deepEqual(dryTargetListing({}), false);
 * ```
 */
export function dryTargetListing(
  options: Pick<PlanUploadOptions, "keepUnlisted" | "listLocked">,
): boolean {
  return options.keepUnlisted === true && options.listLocked !== true;
}

/**
 * The failure of a folder that could not be listed (`unlisted`): in a
 * sync's dry run ({@linkcode dryTargetListing}), where its bits are why
 * ({@linkcode lockedByBits}), the message says the sync itself opens it.
 *
 * @param path The folder's path, on the side the tree is read from.
 * @param relative The path below the tree's top.
 * @param error Why it could not be listed.
 * @param mode Its permission bits, when known.
 * @param dryTarget Whether this is a sync's target listed by a dry run.
 * @returns The entry, for a plan's `skipped`.
 *
 * @example
 * ```ts
 * import { unlistedEntry } from "./tree_plan.ts";
 * import { BftpError } from "../errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * const error = new BftpError("DENIED", "\"/t/a\": permission denied");
 * equal(unlistedEntry("/t/a", "a", error, 0o100, true).why, `"/t/a": permission denied (its bits deny its owner; a sync, not a dry run, opens it to list it)`);
 * equal(unlistedEntry("/t/a", "a", error, 0o100, false).why, `"/t/a": permission denied`);
 * equal(unlistedEntry("/t/a", "a", error, 0o700, true).why, `"/t/a": permission denied`);
 * ```
 */
export function unlistedEntry(
  path: string,
  relative: string,
  error: BftpError,
  mode: number | null | undefined,
  dryTarget: boolean,
): SkippedEntry {
  const told = dryTarget && lockedByBits(mode)
    ? new BftpError(
      error.code,
      `${error.message} (its bits deny its owner; a sync, not a dry run, opens it to list it)`,
    )
    : error;
  return { ...failedEntry(path, relative, told), unlisted: true };
}

/** What a tree transfer will move, from its listing pass. */
export interface TreePlan {
  /** The files, in transfer order (folder by folder, names sorted, depth first). */
  files: PlannedFile[];
  /** The folders, the top first and each parent before its children. */
  folders: PlannedEntry[];
  /** The sum of the files' sizes. */
  totalBytes: number;
  /** The entries left out. */
  skipped: SkippedEntry[];
}

/**
 * How many entries a download plan holds at most: the plan is kept whole,
 * and a hostile server could otherwise answer each LIST with more folders
 * until the client runs out of memory.
 */
export const MAX_TREE_ENTRIES = 2_000_000;

/** How far a listing pass has got. */
export interface ListingCounts {
  /** Folders listed. */
  folders: number;
  /** Files found. */
  files: number;
  /** Their bytes. */
  bytes: number;
}

/** Why an entry a plan's `filter` leaves out is in `skipped` (and not announced). */
export const EXCLUDED = "excluded";

/** Options for {@linkcode planUpload}. */
export interface PlanUploadOptions {
  /** Told how far the listing pass has got, after each folder. */
  onListed?: ((counts: ListingCounts) => void) | undefined;
  /**
   * Whether each file is looked up (a `statx`) for its size, time and
   * bits. With `false`, an entry its folder's listing calls a regular file
   * is planned {@linkcode PlannedFile.unsized}, described when it is read
   * (a push with no progress to show: the walk comes before the first byte
   * is sent, and 5,000 files' lookups were 13 ms of a 39 ms walk here); a
   * link, or an entry of a kind the listing does not tell, is looked up
   * still.
   *
   * @default {true}
   */
  lookUp?: boolean | undefined;
  /**
   * Which entries take part, by their path below the top (`sync --exclude`):
   * one left out goes to `skipped` as {@linkcode EXCLUDED}, and a folder
   * left out is not read. All take part when absent.
   */
  filter?: ((relative: string, isFolder: boolean) => boolean) | undefined;
  /**
   * A listing of the other side runs at the same time (a sync): the local
   * walk lets the network in as it goes (see `pauses`).
   *
   * @default {false}
   */
  besideListing?: boolean | undefined;
  /**
   * Take a link to a file (on the server, LIST's `link: true`) as that
   * file; with `false`, as a link: left out (a mirror onto that side
   * removes or replaces it rather than going through it). A link to a
   * folder is never entered: it is left out, so a loop of links cannot
   * lead the listing on.
   *
   * @default {true}
   */
  followLinks?: boolean | undefined;
  /**
   * The tree is to be sent: a name no request can carry (a control
   * character, a backslash: `unsendableName`) is that entry's failure and
   * is not walked. `false` for a tree that is only compared (a pull's
   * local target, whose entries are never sent).
   *
   * @default {true}
   */
  sending?: boolean | undefined;
  /**
   * A folder below the top whose bits deny its owner reading or searching
   * it (`0000`, `0100`, `0200`) gets `u+rx` to be listed, and its own bits
   * back once the whole tree is listed (a sync's target: the sync then
   * gives it write and search as it needs, and the source's bits at the
   * end, as rsync does). Without it, or where its bits cannot be changed,
   * such a folder is its own failure.
   *
   * @default {false}
   */
  listLocked?: boolean | undefined;
  /**
   * A folder below the top that cannot be listed (another's, or locked
   * where `listLocked` cannot open it) stays among the plan's `folders`,
   * besides its failure in `skipped` (marked `unlisted`): a sync's target,
   * where it is still a folder, not a file in the way nor one to remove.
   * Without it, only its failure is kept.
   *
   * @default {false}
   */
  keepUnlisted?: boolean | undefined;
  /**
   * The top folder's permission bits, when known (a remote top's, from its
   * STAT): with `listLocked`, a top its owner may not list is opened too.
   */
  topMode?: number | null | undefined;
}

/** Options for `planDownload` (`remote_plan.ts`). */
export interface PlanDownloadOptions extends Omit<PlanUploadOptions, "besideListing" | "sending"> {
  /**
   * How many LIST requests are in flight at once.
   *
   * @default {32}
   */
  window?: number | undefined;
  /**
   * The most entries (files, folders and others) the tree may hold.
   *
   * @default {MAX_TREE_ENTRIES}
   */
  maxEntries?: number | undefined;
}

/**
 * A local path below a normalized folder path (a plain join: the names are
 * single names, checked, and `node:path`'s join, which normalizes again,
 * cost a tree of 5,000 files about 10 ms).
 *
 * @param folder A normalized folder path.
 * @param name A single name in it, already checked ({@linkcode safeLocalName}).
 * @returns The path of `name` in `folder`.
 *
 * @example
 * ```ts
 * import { localChild } from "./tree_plan.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(localChild("dl/sub", "a.txt"), "dl/sub/a.txt");
 * equal(localChild("/", "a.txt"), "/a.txt");
 * ```
 */
export function localChild(folder: string, name: string): string {
  return folder.endsWith("/") ? folder + name : `${folder}/${name}`;
}

/**
 * The folder part of a path made by {@linkcode localChild}, up to and with
 * its last `/`: the key a download finds a file's folder by (the folder's
 * own is `localChild(folder, "")`). A slice, where
 * `node:path`'s `dirname` (twice a file) cost a 5,000-file pull about 6 ms
 * of a profile.
 *
 * @param local A path made by {@linkcode localChild}.
 * @returns What comes before its name.
 *
 * @example
 * ```ts
 * import { localChild, localFolderKey } from "./tree_plan.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(localFolderKey(localChild("/tmp/dl", "a.txt")), "/tmp/dl/");
 * equal(localFolderKey(localChild("/", "a.txt")), "/");
 * equal(localChild("/tmp/dl", ""), "/tmp/dl/");
 * ```
 */
export function localFolderKey(local: string): string {
  return local.slice(0, local.lastIndexOf("/") + 1);
}
