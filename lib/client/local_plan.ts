/**
 * The local side of a tree's listing pass (`put -r`, either side of a
 * sync): the folder walked with `readDir` and a `statx` a file into a
 * {@linkcode TreePlan} (`tree_plan.ts` has the plan and the server's side).
 *
 * @module
 */

import { nextTurn } from "../event_turn.ts";
import { normalize } from "../local_path.ts";
import { BftpError, localIoError } from "../errors.ts";
import { applyAttributesHere } from "../local_file/attributes.ts";
import { type LocalFacts, localFactsIn, openLocalFolder } from "./source_file.ts";
import {
  dryTargetListing,
  EXCLUDED,
  failedEntry,
  localChild,
  lockedByBits,
  type PlannedEntry,
  type PlannedFile,
  type PlanUploadOptions,
  type TreePlan,
  unlistedEntry,
} from "./tree_plan.ts";
import { joinRemote } from "./url.ts";
import { unsendableName } from "./local.ts";
import { quotePath } from "../root/paths.ts";

/**
 * The words for a name that is not valid UTF-8 on the disk: Deno reads it
 * with U+FFFD in place of each bad byte, so no call finds it by that name
 * ("not found"), and no BFTP path could carry it either.
 */
function notUtf8(path: string): { notFound?: string } {
  return path.includes("\uFFFD")
    ? { notFound: "its name is not valid UTF-8, which no BFTP path can carry" }
    : {};
}

/** A local folder's entries, sorted by name. */
function readFolder(path: string): Deno.DirEntry[] {
  try {
    // Synchronous: one call for the folder, where the asynchronous iterator hops to Deno's I/O
    // pool and back for each entry (5,000 files in 50 folders: 5.6-7 ms against 14-31 ms).
    const entries = [...Deno.readDirSync(path)];
    return entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  } catch (e) {
    throw localIoError("read folder", path, e, notUtf8(path));
  }
}

/** A local folder's modification time (ms) and permission bits, `null` each when unknown. */
function folderFacts(path: string): { mtime: number | null; mode: number | null } {
  try {
    const info = Deno.statSync(path);
    return {
      mtime: info.mtime?.getTime() ?? null,
      mode: info.mode === null ? null : info.mode & 0o7777,
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      return { mtime: null, mode: null };
    }
    throw e;
  }
}

/** {@linkcode folderFacts} of a folder that could not be read: `null`s where it cannot be looked at either. */
function unlistedFacts(path: string): { mtime: number | null; mode: number | null } {
  try {
    return folderFacts(path);
  } catch (e) {
    // A path too long, say: its failure is the listing's, told already.
    if (e instanceof Error) return { mtime: null, mode: null };
    throw e;
  }
}

/** What a plan keeps of a local file. */
type PlannedFacts = Pick<PlannedFile, "size" | "mtime" | "mode" | "link" | "unsized">;

/** A regular file by its folder's listing, not looked up (`PlanUploadOptions.lookUp`). */
const UNSIZED: Readonly<PlannedFacts> = { size: 0, mtime: null, mode: null, unsized: true };

/** The size (and time and mode) of a file a plan takes, or why it is left out. */
function uploadable(d: Deno.DirEntry, path: string, folder: number | null): PlannedFacts | string {
  let facts: LocalFacts | null;
  try {
    // Synchronous: an asynchronous stat hops to Deno's I/O pool, per file of the tree.
    facts = localFactsIn(folder, d.name, path);
  } catch (e) {
    if (!d.isSymlink) throw localIoError("read", path, e, notUtf8(d.name));
    facts = null;
  }
  if (facts?.type === "file") {
    const planned = { size: facts.size, mtime: facts.mtime, mode: facts.mode };
    return d.isSymlink ? { ...planned, link: true } : planned;
  }
  return !d.isSymlink
    ? "not a regular file"
    : facts === null
    ? "a symbolic link to nothing"
    : facts.type === "dir"
    ? "a symbolic link to a folder"
    : "a symbolic link to something not a regular file";
}

/**
 * The size (time, mode) of each file of `entries`, looked up in their
 * folder's descriptor (a regular file only with `files`, else
 * {@linkcode UNSIZED}); a file that cannot be looked at (gone, denied, a
 * name that is not UTF-8) is its own failure, the others go on.
 */
function lookUp(
  local: string,
  entries: { d: Deno.DirEntry; at: { local: string } }[],
  followLinks: boolean,
  files: boolean,
): (PlannedFacts | string | BftpError | null)[] {
  using folder = openLocalFolder(local);
  return entries.map(({ d, at }) => {
    if (d.isDirectory) return null;
    // A name that is not UTF-8 is looked up still, for the failure that says so.
    if (d.isFile && !files && !d.name.includes("\uFFFD")) return UNSIZED;
    if (d.isSymlink && !followLinks) return "a symbolic link";
    try {
      return uploadable(d, at.local, folder.fd);
    } catch (e) {
      if (e instanceof BftpError) return e;
      throw e;
    }
  });
}

/** How long a local walk works before it lets the event loop run (ms). */
const PAUSE_EVERY_MS = 4;

/** How long a walk beside a listing works before it lets the network in (ms). */
const NETWORK_PAUSE_EVERY_MS = 10;

/**
 * A pause for the event loop once some work has passed since the last: the
 * local walk is synchronous (one `readdir` and a `statx` a file). A turn
 * of the event loop (`event_turn.ts`, an immediate: about 4.5 us)
 * lets what is queued run but not the network in (tried: a socket's
 * reply waited the whole of a 20 ms walk that took a turn every
 * millisecond): Deno's loop looks at its sockets only when it waits, and a timer makes
 * it (`setTimeout(0)`, about a millisecond here). So beside another
 * listing (a sync lists the other side at the same time) the walk pauses
 * for a timer every 10 ms, and that listing's replies come in and its
 * next folders go out meanwhile: a sync pull after changes on tmpfs, 8
 * interleaved runs, 227 -> 210 ms median (with immediates the server's
 * first answer waited for the whole 32 ms walk); alone, a turn every
 * 4 ms.
 */
function pauses(network: boolean): () => Promise<void> {
  const everyMs = network ? NETWORK_PAUSE_EVERY_MS : PAUSE_EVERY_MS;
  let since = performance.now();
  return async () => {
    if (performance.now() - since < everyMs) return;
    await (network ? new Promise((resolve) => setTimeout(resolve, 0)) : nextTurn());
    since = performance.now();
  };
}

/**
 * Plans an upload of the local folder `source` into the remote folder
 * `remote`: walks it with `readDir`, names sorted. Symbolic links to files
 * are followed (unless `options.followLinks` is `false`); links to folders
 * are not entered (no loops) and are left out, as are FIFOs, devices,
 * sockets and links to nothing.
 *
 * @param source The local folder.
 * @param remote The remote folder it becomes.
 * @param options Told how far the pass has got.
 * @returns The plan.
 * @throws {LocalIoError} When `source` itself cannot be read (a folder below
 *   it that cannot be read is left out with its error, in `skipped`).
 *
 * @example
 * ```ts
 * import { planUpload } from "./local_plan.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/sub`);
 * await Deno.writeTextFile(`${dir}/sub/b.txt`, "there");
 * const plan = await planUpload(dir, "/up");
 * deepEqual(plan.files.map((f) => [f.remote, f.size]), [["/up/sub/b.txt", 5]]);
 * deepEqual(plan.folders.map((f) => f.remote), ["/up", "/up/sub"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function planUpload(
  source: string,
  remote: string,
  options: PlanUploadOptions = {},
): Promise<TreePlan> {
  const plan: TreePlan = { files: [], folders: [], totalBytes: 0, skipped: [] };
  const pause = pauses(options.besideListing ?? false);
  // An entry that cannot be looked at is its own failure, as rsync and scp -r tell it.
  const failed = (at: { local: string; relative: string }, error: BftpError) =>
    plan.skipped.push(failedEntry(at.local, at.relative, error));
  // The locked folders given u+rx to be listed, with their own bits (options.listLocked).
  const unlocked: { path: string; mode: number }[] = [];
  const visit = async (folder: PlannedEntry) => {
    await pause();
    let all: Deno.DirEntry[];
    let facts: ReturnType<typeof folderFacts> | null = null;
    try {
      all = readFolder(folder.local);
    } catch (e) {
      if (!(e instanceof BftpError)) throw e;
      facts = unlistedFacts(folder.local);
      const opened = options.listLocked ? readLocked(folder.local, facts.mode, unlocked) : null;
      if (opened === null) {
        const dry = dryTargetListing(options);
        // Below the top (denied, a path too long), the others go on; and a dry run's locked top.
        if (folder.relative === "" && !(dry && lockedByBits(facts.mode))) throw e;
        if (options.keepUnlisted) plan.folders.push({ ...folder, ...facts });
        plan.skipped.push(unlistedEntry(folder.local, folder.relative, e, facts.mode, dry));
        return;
      }
      all = opened;
    }
    plan.folders.push({ ...folder, ...(facts ?? folderFacts(folder.local)) });
    const child = (d: Deno.DirEntry) => ({
      remote: joinRemote(folder.remote, d.name),
      local: localChild(folder.local, d.name),
      relative: folder.relative === "" ? d.name : `${folder.relative}/${d.name}`,
    });
    // What the filter leaves out is neither looked at nor walked; nor is what no request can
    // name on the server (told as a failure, where the server would refuse each).
    const entries = all.map((d) => ({ d, at: child(d) })).filter(({ d, at }) => {
      if (!(options.filter?.(at.relative, d.isDirectory) ?? true)) {
        plan.skipped.push({ path: at.local, why: EXCLUDED, relative: at.relative });
        return false;
      }
      const why = options.sending === false ? null : unsendableName(d.name);
      if (why === null) return true;
      failed(at, new BftpError("BAD_PATH", `Cannot send ${quotePath(at.local)}: ${why}`));
      return false;
    });
    // The files' sizes first, each looked up in the folder's descriptor; the folders are
    // walked after, in order.
    const kinds = lookUp(
      folder.local,
      entries,
      options.followLinks ?? true,
      options.lookUp ?? true,
    );
    for (const [i, { at }] of entries.entries()) {
      const kind = kinds[i] ?? null;
      if (kind === null) {
        await visit(at);
      } else if (kind instanceof BftpError) {
        failed(at, kind);
      } else if (typeof kind !== "string") {
        plan.files.push({ ...at, ...kind });
        plan.totalBytes += kind.size;
      } else {
        plan.skipped.push({ path: at.local, why: kind, relative: at.relative });
      }
    }
    options.onListed?.({
      folders: plan.folders.length,
      files: plan.files.length,
      bytes: plan.totalBytes,
    });
  };
  try {
    await visit({ remote, local: normalize(source), relative: "" });
  } finally {
    // The deepest first: a folder's own bits may shut the way to those below it.
    for (const { path, mode } of unlocked.reverse()) giveBits(path, mode);
  }
  return plan;
}

/**
 * The entries of the folder at `path`, whose bits `mode` deny its owner
 * reading or searching them, read after giving it `u+rx` (kept until the
 * walk ends, in `unlocked`); `null` when its bits are not why, or cannot
 * be changed (another's folder, or a link there now).
 */
function readLocked(
  path: string,
  mode: number | null,
  unlocked: { path: string; mode: number }[],
): Deno.DirEntry[] | null {
  if (!lockedByBits(mode) || !giveBits(path, mode | 0o500)) return null;
  unlocked.push({ path, mode });
  try {
    return readFolder(path);
  } catch (e) {
    if (e instanceof BftpError) return null;
    throw e;
  }
}

/**
 * Gives the folder at `path` the bits `mode`, never through a link
 * (`applyAttributesHere`); whether it did: not if it is gone, another's,
 * or no folder now.
 */
function giveBits(path: string, mode: number): boolean {
  try {
    return applyAttributesHere(path, { mtime: null, mode }, "folder");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      return false;
    }
    throw e;
  }
}
