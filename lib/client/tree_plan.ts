/**
 * The listing pass of a tree transfer (`get -r`, `put -r`): before any file
 * moves, the whole tree is walked (LIST on the server, pipelined, here;
 * `readDir` on the local disk, `local_plan.ts`) into a
 * {@linkcode TreePlan}: the files with their sizes, the folders, the total
 * and what is left out. Every name from the
 * server is checked here, so a hostile listing anywhere in the tree is
 * refused before anything is created. A progress line can then show the
 * whole tree's figures, and `sync` can compare two plans.
 *
 * @module
 */

import { normalize } from "node:path";
import { BftpError, ProtocolError, RemoteError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import type { BftpClient } from "./client.ts";
import { checkListedName, unfetchableName } from "./local.ts";
import { quotePath } from "../root/paths.ts";
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
  /**
   * Its permission bits when listed, if known: what `sync` compares for a
   * file, and gives the target's folder with its time.
   */
  mode?: number | null | undefined;
}

/** A file of a plan. */
export interface PlannedFile extends PlannedEntry {
  /** Its size when listed, in bytes. */
  size: number;
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
}

/** Options for {@linkcode planDownload}. */
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
  // The folders below the top that the server refused to list, with why.
  const unlisted = new Map<string, RemoteError>();
  const maxEntries = options.maxEntries ?? MAX_TREE_ENTRIES;
  let count = 0;
  const listed: ListingCounts = { folders: 0, files: 0, bytes: 0 };
  const check = (folder: string, entries: Entry[]) => {
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
  const { filter } = options;
  const below = (relative: string, name: string) => relative === "" ? name : `${relative}/${name}`;
  const kind = (entry: Entry) =>
    entry.link === true && (options.followLinks === false || entry.type === "dir")
      ? "link"
      : entry.type;
  let level = [{ path: remote, relative: "" }];
  for (let depth = 0; level.length > 0; depth++) {
    for (const folder of level) checkTreeDepth(depth, folder.path);
    const paths = level.map((f) => f.path);
    const answers = await listAll(client, paths, options.window, check, depth === 0);
    const next: typeof level = [];
    for (const [i, entries] of answers.entries()) {
      const { path, relative } = level[i]!;
      if (entries instanceof RemoteError) {
        unlisted.set(path, entries);
        continue;
      }
      listings.set(path, entries);
      for (const entry of entries) {
        const child = { path: joinRemote(path, entry.name), relative: below(relative, entry.name) };
        // A folder left out is not listed, nor one whose path a LIST cannot carry.
        if (
          kind(entry) === "dir" && unfetchableName(entry.name) === null &&
          (filter?.(child.relative, true) ?? true)
        ) next.push(child);
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
        plan.skipped.push(failedEntry(child.remote, child.relative, unlisted.get(child.remote)!));
      } else if (type === "dir") {
        visit({ ...child, mtime: entry.mtime, mode: entry.mode });
      } else if (type === "file") {
        plan.files.push({ ...child, size: entry.size, mtime: entry.mtime, mode: entry.mode });
        plan.totalBytes += entry.size;
      } else {
        plan.skipped.push({
          path: child.remote,
          why: type !== "link"
            ? "not a regular file or folder"
            : entry.type === "dir"
            ? "a symbolic link to a folder"
            : "a symbolic link",
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
