/**
 * The listing pass of a tree transfer (`get -r`, `put -r`): before any file
 * moves, the whole tree is walked (LIST on the server, pipelined; `readDir`
 * on the local disk) into a {@linkcode TreePlan}: the files with their
 * sizes, the folders, the total and what is left out. Every name from the
 * server is checked here, so a hostile listing anywhere in the tree is
 * refused before anything is created. A progress line can then show the
 * whole tree's figures, and `sync` can compare two plans.
 *
 * @module
 */

import { normalize } from "node:path";
import { setImmediate } from "node:timers";
import { localIoError, ProtocolError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import type { BftpClient } from "./client.ts";
import { safeLocalName } from "./local.ts";
import { type LocalFacts, localFactsIn, openLocalFolder } from "./source_file.ts";
import { checkTreeDepth, visibleShort } from "./tree_depth.ts";
import { joinRemote } from "./url.ts";
import { TaskWindow } from "./window.ts";

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
}

/** A file of a plan. */
export interface PlannedFile extends PlannedEntry {
  /** Its size when listed, in bytes. */
  size: number;
  /** Its permission bits when listed, if known. */
  mode?: number | null | undefined;
}

/** An entry the transfer leaves out, and why (`bftp: Skipping …`). */
export interface SkippedEntry {
  /** The path, on the side the tree is read from. */
  path: string;
  /** Why, e.g. `not a regular file`. */
  why: string;
  /** The path below the tree's top, names joined by `/` (as {@linkcode PlannedEntry}'s). */
  relative?: string | undefined;
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
}

/** Options for {@linkcode planDownload}. */
export interface PlanDownloadOptions extends Omit<PlanUploadOptions, "besideListing"> {
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
 * Lists `folders` with up to a window of LIST requests in flight; answers
 * in order. `check` sees each answer as it arrives, and may refuse it.
 */
async function listAll(
  client: BftpClient,
  folders: readonly string[],
  limit: number | undefined,
  check: (folder: string, entries: Entry[]) => void,
): Promise<Entry[][]> {
  const answers: Entry[][] = new Array(folders.length);
  const window = new TaskWindow({ limit });
  try {
    for (const [i, folder] of folders.entries()) {
      await window.add(async () => {
        const entries = await client.list(folder);
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

/**
 * Plans a download of the remote folder `remote` into the local `dest`:
 * lists the tree level by level (each level's folders pipelined), checks
 * every name with {@linkcode safeLocalName} and the depth with
 * `checkTreeDepth`, and leaves out what is not a file or a folder (links,
 * devices). Reads and writes nothing locally.
 *
 * @param client A connected client.
 * @param remote The remote folder.
 * @param dest The local folder it becomes.
 * @param options The window of LIST requests.
 * @returns The plan.
 * @throws {ProtocolError} On a name that is not one safe local name, a
 *   tree deeper than `MAX_TREE_DEPTH` or with more than `maxEntries`
 *   entries: before anything is created.
 *
 * @example
 * ```ts
 * import { planDownload } from "./tree_plan.ts";
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
  const listings = new Map<string, Entry[]>();
  const maxEntries = options.maxEntries ?? MAX_TREE_ENTRIES;
  let count = 0;
  const listed: ListingCounts = { folders: 0, files: 0, bytes: 0 };
  const check = (folder: string, entries: Entry[]) => {
    for (const entry of entries) safeLocalName(entry.name);
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
  const { filter } = options;
  const below = (relative: string, name: string) => relative === "" ? name : `${relative}/${name}`;
  let level = [{ path: remote, relative: "" }];
  for (let depth = 0; level.length > 0; depth++) {
    for (const folder of level) checkTreeDepth(depth, folder.path);
    const paths = level.map((f) => f.path);
    const answers = await listAll(client, paths, options.window, check);
    const next: typeof level = [];
    for (const [i, entries] of answers.entries()) {
      const { path, relative } = level[i]!;
      listings.set(path, entries);
      for (const entry of entries) {
        const child = { path: joinRemote(path, entry.name), relative: below(relative, entry.name) };
        // A folder left out is not listed.
        if (entry.type === "dir" && (filter?.(child.relative, true) ?? true)) next.push(child);
      }
    }
    level = next;
  }
  const plan: TreePlan = { files: [], folders: [], totalBytes: 0, skipped: [] };
  const visit = (folder: PlannedEntry) => {
    plan.folders.push(folder);
    for (const entry of listings.get(folder.remote) ?? []) {
      const child = {
        remote: joinRemote(folder.remote, entry.name),
        local: localChild(folder.local, entry.name),
        relative: below(folder.relative, entry.name),
      };
      if (!(filter?.(child.relative, entry.type === "dir") ?? true)) {
        plan.skipped.push({ path: child.remote, why: EXCLUDED, relative: child.relative });
      } else if (entry.type === "dir") {
        visit({ ...child, mtime: entry.mtime });
      } else if (entry.type === "file") {
        plan.files.push({ ...child, size: entry.size, mtime: entry.mtime, mode: entry.mode });
        plan.totalBytes += entry.size;
      } else {
        plan.skipped.push({
          path: child.remote,
          why: "not a regular file or folder",
          relative: child.relative,
        });
      }
    }
  };
  visit({ remote, local: normalize(dest), relative: "" });
  return plan;
}

/**
 * A local path below a normalized folder path (a plain join: the names are
 * single names, checked, and `node:path`'s join, which normalizes again,
 * cost a tree of 5,000 files about 10 ms).
 */
function localChild(folder: string, name: string): string {
  return folder.endsWith("/") ? folder + name : `${folder}/${name}`;
}

/** A local folder's entries, sorted by name. */
function readFolder(path: string): Deno.DirEntry[] {
  try {
    // Synchronous: one call for the folder, where the asynchronous iterator hops to Deno's I/O
    // pool and back for each entry (5,000 files in 50 folders: 5.6-7 ms against 14-31 ms).
    const entries = [...Deno.readDirSync(path)];
    return entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  } catch (e) {
    throw localIoError("read folder", path, e);
  }
}

/** A local folder's modification time (ms), or `null` when it cannot be read. */
function folderTime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return null;
    throw e;
  }
}

/** What a plan keeps of a local file. */
type PlannedFacts = Pick<PlannedFile, "size" | "mtime" | "mode">;

/** The size (and time and mode) of a file a plan takes, or why it is left out. */
function uploadable(d: Deno.DirEntry, path: string, folder: number | null): PlannedFacts | string {
  let facts: LocalFacts | null;
  try {
    // Synchronous: an asynchronous stat hops to Deno's I/O pool, per file of the tree.
    facts = localFactsIn(folder, d.name, path);
  } catch (e) {
    if (!d.isSymlink) throw localIoError("read", path, e);
    facts = null;
  }
  if (facts?.type === "file") return { size: facts.size, mtime: facts.mtime, mode: facts.mode };
  return !d.isSymlink
    ? "not a regular file"
    : facts === null
    ? "a symbolic link to nothing"
    : "a symbolic link to a folder";
}

/** The size (time, mode) of each file of `entries`, looked up in their folder's descriptor. */
function lookUp(
  local: string,
  entries: { d: Deno.DirEntry; at: { local: string } }[],
): (PlannedFacts | string | null)[] {
  using folder = openLocalFolder(local);
  return entries.map(({ d, at }) => d.isDirectory ? null : uploadable(d, at.local, folder.fd));
}

/** How long a local walk works before it lets the event loop run (ms). */
const PAUSE_EVERY_MS = 4;

/** How long a walk beside a listing works before it lets the network in (ms). */
const NETWORK_PAUSE_EVERY_MS = 10;

/**
 * A pause for the event loop once some work has passed since the last: the
 * local walk is synchronous (one `readdir` and a `statx` a file). An
 * immediate lets what is queued run (about 3 us) but not the network in:
 * Deno's loop looks at its sockets only when it waits, and a timer makes
 * it (`setTimeout(0)`, about a millisecond here). So beside another
 * listing (a sync lists the other side at the same time) the walk pauses
 * for a timer every 10 ms, and that listing's replies come in and its
 * next folders go out meanwhile: a sync pull after changes on tmpfs, 8
 * interleaved runs, 227 -> 210 ms median (with immediates the server's
 * first answer waited for the whole 32 ms walk); alone, an immediate every
 * 4 ms.
 */
function pauses(network: boolean): () => Promise<void> {
  const everyMs = network ? NETWORK_PAUSE_EVERY_MS : PAUSE_EVERY_MS;
  let since = performance.now();
  return async () => {
    if (performance.now() - since < everyMs) return;
    await new Promise((resolve) => network ? setTimeout(resolve, 0) : setImmediate(resolve));
    since = performance.now();
  };
}

/**
 * Plans an upload of the local folder `source` into the remote folder
 * `remote`: walks it with `readDir`, names sorted. Symbolic links to files
 * are followed; links to folders are not entered (no loops) and are left
 * out, as are FIFOs, devices, sockets and links to nothing.
 *
 * @param source The local folder.
 * @param remote The remote folder it becomes.
 * @param options Told how far the pass has got.
 * @returns The plan.
 * @throws {LocalIoError} When a folder cannot be read.
 *
 * @example
 * ```ts
 * import { planUpload } from "./tree_plan.ts";
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
  const visit = async (folder: PlannedEntry) => {
    await pause();
    plan.folders.push({ ...folder, mtime: folderTime(folder.local) });
    const all = readFolder(folder.local);
    const child = (d: Deno.DirEntry) => ({
      remote: joinRemote(folder.remote, d.name),
      local: localChild(folder.local, d.name),
      relative: folder.relative === "" ? d.name : `${folder.relative}/${d.name}`,
    });
    // What the filter leaves out is neither looked at nor walked.
    const entries = all.map((d) => ({ d, at: child(d) })).filter(({ d, at }) => {
      if (options.filter?.(at.relative, d.isDirectory) ?? true) return true;
      plan.skipped.push({ path: at.local, why: EXCLUDED, relative: at.relative });
      return false;
    });
    // The files' sizes first, each looked up in the folder's descriptor; the folders are
    // walked after, in order.
    const kinds = lookUp(folder.local, entries);
    for (const [i, { at }] of entries.entries()) {
      const kind = kinds[i] ?? null;
      if (kind === null) {
        await visit(at);
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
  await visit({ remote, local: normalize(source), relative: "" });
  return plan;
}
