/**
 * The remote side of a tree's listing pass (`get -r`, a sync's server
 * side): the server's folder listed level by level, each level's LISTs
 * pipelined, into a {@linkcode TreePlan} (`tree_plan.ts` has the plan,
 * `local_plan.ts` the local side). Every name from the server is checked
 * here, so a hostile listing anywhere in the tree is refused before
 * anything is created.
 *
 * @module
 */

import { normalize } from "../local_path.ts";
import { BftpError, ProtocolError, RemoteError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import type { BftpClient } from "./client.ts";
import { checkListedName, unfetchableName } from "./local.ts";
import { quotePath } from "../root/paths.ts";
import { checkTreeDepth, visibleShort } from "./tree_depth.ts";
import {
  dryTargetListing,
  EXCLUDED,
  type ListingCounts,
  localChild,
  lockedByBits,
  MAX_TREE_ENTRIES,
  type PlanDownloadOptions,
  type PlannedEntry,
  type TreePlan,
  unlistedEntry,
} from "./tree_plan.ts";
import { joinRemote } from "./url.ts";
import { TaskWindow } from "./window.ts";
import { setFolderAttributes } from "./folder_attributes.ts";

/**
 * Lists `folders` with up to a window of LIST requests in flight; answers
 * in order. `check` sees each answer as it arrives, and may refuse it.
 */
async function listAll(
  client: BftpClient,
  folders: readonly string[],
  limit: number | undefined,
  check: (folder: string, entries: Entry[]) => void,
  top: boolean,
): Promise<(Entry[] | RemoteError)[]> {
  const answers: (Entry[] | RemoteError)[] = new Array(folders.length);
  const window = new TaskWindow({ limit });
  try {
    for (const [i, folder] of folders.entries()) {
      await window.add(async () => {
        let entries: Entry[];
        try {
          entries = await client.list(folder);
        } catch (e) {
          // A folder below the top that the server will not list (denied, gone meanwhile) is
          // that folder's failure; the session goes on, and so does the tree.
          if (top || !(e instanceof RemoteError)) throw e;
          answers[i] = e;
          return;
        }
        check(folder, entries);
        answers[i] = entries;
      });
    }
    await window.drain();
  } catch (e) {
    await window.settle();
    throw e;
  }
  return answers;
}

/** A folder of a listing pass: its path, its path below the top, its bits as its parent listed them. */
interface ListedFolder {
  path: string;
  relative: string;
  mode: number | null | undefined;
}

/** The path of `name` below the top, in the folder at `relative`. */
function below(relative: string, name: string): string {
  return relative === "" ? name : `${relative}/${name}`;
}

/** The folders of the next level: those `entered` of this level's listings, which are kept. */
function nextLevel(
  level: readonly ListedFolder[],
  answers: readonly (Entry[] | RemoteError)[],
  listings: Map<string, Entry[]>,
  unlisted: Map<string, RemoteError>,
  entered: (entry: Entry, relative: string) => boolean,
): ListedFolder[] {
  const next: ListedFolder[] = [];
  for (const [i, entries] of answers.entries()) {
    const { path, relative } = level[i]!;
    if (entries instanceof RemoteError) {
      unlisted.set(path, entries);
      continue;
    }
    listings.set(path, entries);
    for (const entry of entries) {
      const child = below(relative, entry.name);
      if (entered(entry, child)) {
        next.push({ path: joinRemote(path, entry.name), relative: child, mode: entry.mode });
      }
    }
  }
  return next;
}

/**
 * Gives the folders of `level` whose bits deny their owner reading or
 * searching them `u+rx` (SETSTAT, pipelined: `setFolderAttributes`), so
 * that they can be listed (`listLocked`); each given them goes to
 * `unlocked` with its own bits. One that cannot be given them (another's,
 * SETSTAT refused) is left as it is: its listing fails as before. The
 * served root and a read-only session's folders keep theirs.
 */
async function unlockLevel(
  client: BftpClient,
  level: readonly ListedFolder[],
  unlocked: PlannedEntry[],
): Promise<void> {
  if (client.readOnly || !client.supports("setstat")) return;
  const locked: PlannedEntry[] = [];
  for (const f of level) {
    if (f.path !== "/" && lockedByBits(f.mode)) {
      locked.push({ remote: f.path, local: "", relative: f.relative, mode: f.mode });
    }
  }
  const refused = new Set<string>();
  const opened = locked.map((f) => ({ ...f, mode: f.mode! | 0o500 }));
  await setFolderAttributes(client, opened, "remote", {
    fail: (f) => refused.add(f.remote),
    parentsFirst: true,
  });
  unlocked.push(...locked.filter((f) => !refused.has(f.remote)));
}

/**
 * Plans a download of the remote folder `remote` into the local `dest`:
 * lists the tree level by level (each level's folders pipelined), checks
 * every name ({@linkcode checkListedName}: the listing is refused) and the
 * depth with `checkTreeDepth`, and leaves out what is not a file or a
 * folder (links, devices) and, as failures, what cannot be fetched by its
 * name ({@linkcode unfetchableName}). Reads and writes nothing locally.
 *
 * @param client A connected client.
 * @param remote The remote folder.
 * @param dest The local folder it becomes.
 * @param options The window of LIST requests.
 * @returns The plan.
 * @throws {ProtocolError} On a name no folder can hold, a
 *   tree deeper than `MAX_TREE_DEPTH` or with more than `maxEntries`
 *   entries: before anything is created.
 *
 * @example
 * ```ts
 * import { planDownload } from "./remote_plan.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/t/sub`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/t/a.txt`, "hi");
 * await Deno.writeTextFile(`${dir}/t/sub/b.txt`, "there");
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const plan = await planDownload(client, "/t", "out");
 * deepEqual(plan.files.map((f) => f.relative), ["a.txt", "sub/b.txt"]);
 * deepEqual(plan.totalBytes, 7);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function planDownload(
  client: BftpClient,
  remote: string,
  dest: string,
  options: PlanDownloadOptions = {},
): Promise<TreePlan> {
  const kind = (entry: Entry) =>
    entry.link === true && (options.followLinks === false || entry.type === "dir")
      ? "link"
      : entry.type;
  const { filter } = options;
  // A folder left out is not listed, nor one whose path a LIST cannot carry.
  const entered = (entry: Entry, relative: string) =>
    kind(entry) === "dir" && unfetchableName(entry.name) === null &&
    (filter?.(relative, true) ?? true);
  const listed = await listTree(client, remote, options, entered);
  return planOf(listed, { remote, local: normalize(dest), relative: "" }, options, kind);
}

/** The listings of a tree's folders, and those the server refused to list, with why. */
interface TreeListings {
  listings: Map<string, Entry[]>;
  unlisted: Map<string, RemoteError>;
}

/**
 * Lists the tree at `remote` level by level, each level's LISTs pipelined,
 * into the folders `entered`; with `listLocked`, locked folders are opened
 * for it and given their bits back at the end.
 */
async function listTree(
  client: BftpClient,
  remote: string,
  options: PlanDownloadOptions,
  entered: (entry: Entry, relative: string) => boolean,
): Promise<TreeListings> {
  const listed: TreeListings = { listings: new Map(), unlisted: new Map() };
  const check = listingCheck(options);
  const unlocked: PlannedEntry[] = [];
  // A dry run's locked top is told as a folder it cannot look into, not a failure of the whole.
  const topMayFail = dryTargetListing(options) && lockedByBits(options.topMode);
  try {
    let level: ListedFolder[] = [{ path: remote, relative: "", mode: options.topMode }];
    for (let depth = 0; level.length > 0; depth++) {
      for (const folder of level) checkTreeDepth(depth, folder.path);
      if (options.listLocked) await unlockLevel(client, level, unlocked);
      const paths = level.map((f) => f.path);
      const top = depth === 0 && !topMayFail;
      const answers = await listAll(client, paths, options.window, check, top);
      level = nextLevel(level, answers, listed.listings, listed.unlisted, entered);
    }
  } finally {
    // Their own bits back, the deepest first; one gone meanwhile, or refused, is left.
    await setFolderAttributes(client, unlocked, "remote", { fail: () => {} });
  }
  return listed;
}

/**
 * Checks each listing as it comes (a name at most once, a name a folder
 * can hold, at most `maxEntries` in the tree) and tells the counts so far.
 */
function listingCheck(options: PlanDownloadOptions): (folder: string, entries: Entry[]) => void {
  const maxEntries = options.maxEntries ?? MAX_TREE_ENTRIES;
  let count = 0;
  const listed: ListingCounts = { folders: 0, files: 0, bytes: 0 };
  return (folder, entries) => {
    const names = new Set<string>();
    for (const entry of entries) {
      // A folder holds a name once: a listing naming one twice, or a name no folder can hold,
      // is not a folder's.
      checkListedName(entry.name);
      if (names.has(entry.name)) {
        throw new ProtocolError(
          `Refused a listing that names "${visibleShort(entry.name)}" twice: "${
            visibleShort(folder)
          }"`,
        );
      }
      names.add(entry.name);
    }
    count += entries.length;
    if (count > maxEntries) {
      throw new ProtocolError(
        `Refused a folder tree of more than ${maxEntries} entries from the server: "${
          visibleShort(folder)
        }"`,
      );
    }
    listed.folders++;
    for (const entry of entries) {
      if (entry.type !== "file") continue;
      listed.files++;
      listed.bytes += entry.size;
    }
    options.onListed?.({ ...listed });
  };
}

/** The plan of a listed tree whose top is `top`: its files, folders, and what is left out. */
function planOf(
  { listings, unlisted }: TreeListings,
  top: PlannedEntry,
  options: PlanDownloadOptions,
  kind: (entry: Entry) => Entry["type"] | "link",
): TreePlan {
  const { filter } = options;
  const dry = dryTargetListing(options);
  const plan: TreePlan = { files: [], folders: [], totalBytes: 0, skipped: [] };
  const visit = (folder: PlannedEntry) => {
    plan.folders.push(folder);
    for (const entry of listings.get(folder.remote) ?? []) {
      const child = {
        remote: joinRemote(folder.remote, entry.name),
        local: localChild(folder.local, entry.name),
        relative: below(folder.relative, entry.name),
      };
      const type = kind(entry);
      const cannot = unfetchableName(entry.name);
      if (!(filter?.(child.relative, type === "dir") ?? true)) {
        plan.skipped.push({ path: child.remote, why: EXCLUDED, relative: child.relative });
      } else if (
        (cannot !== null && (type === "dir" || type === "file")) ||
        (type === "other" && entry.name.includes("\uFFFD"))
      ) {
        // U+FFFD in an "other": the server's name for one that is not UTF-8 on its disk.
        const why = cannot ?? "its name on the server is not valid UTF-8: no request can name it";
        const error = new BftpError("BAD_PATH", `Cannot fetch ${quotePath(child.remote)}: ${why}`);
        plan.skipped.push({ path: child.remote, why, relative: child.relative, error });
      } else if (type === "dir" && unlisted.has(child.remote)) {
        if (options.keepUnlisted) {
          plan.folders.push({ ...child, mtime: entry.mtime, mode: entry.mode });
        }
        const error = unlisted.get(child.remote)!;
        plan.skipped.push(unlistedEntry(child.remote, child.relative, error, entry.mode, dry));
      } else if (type === "dir") {
        visit({ ...child, mtime: entry.mtime, mode: entry.mode });
      } else if (type === "file") {
        plan.files.push({ ...child, size: entry.size, mtime: entry.mtime, mode: entry.mode });
        plan.totalBytes += entry.size;
      } else {
        plan.skipped.push({
          path: child.remote,
          why: leftOut(type, entry),
          relative: child.relative,
        });
      }
    }
  };
  visit(top);
  const topError = unlisted.get(top.remote);
  if (topError !== undefined) {
    plan.skipped.push(unlistedEntry(top.remote, "", topError, options.topMode, dry));
  }
  return plan;
}

/** Why an entry that is neither a file nor a folder to enter is left out. */
function leftOut(type: Entry["type"] | "link", entry: Entry): string {
  return type !== "link"
    ? "not a regular file or folder"
    : entry.type === "dir"
    ? "a symbolic link to a folder"
    : "a symbolic link";
}
