/**
 * Carrying out a {@linkcode SyncPlan}: the removals first (`--delete`),
 * then the folders the target lacks, then the files, with up to a window
 * of transfers in flight on the one session. Each file goes as `get -r -p`
 * and `put -r -p` send it (`local.ts`): verified, landed atomically, with
 * its modification time and permission bits, so that the next sync finds
 * nothing to do. One failing entry is reported and the others go on; a
 * broken session stops the whole.
 *
 * @module
 */

import { newFolderBits } from "../local_file/attributes.ts";
import type { BftpClient } from "../client/client.ts";
import type { LocalTransferOptions } from "../client/local_options.ts";
import { openTop, prepareFolder } from "../client/download_folder.ts";
import { localChild, localFolderKey } from "../client/tree_plan.ts";
import { TaskWindow } from "../client/window.ts";
import { byMget } from "../client/many_downloads.ts";
import { byMput } from "../client/many_uploads.ts";
import { counting, pullMany, pushMany, SyncRun } from "./apply_many.ts";

export { STILL_CHECK_BYTES } from "./apply_many.ts";
import { Lander } from "../local_file/lander.ts";
import type { LocalTree } from "../local_file/local_tree.ts";
import { BftpError, localIoError } from "../errors.ts";
import { pullFile, pushFile } from "./apply_one.ts";
import { keepFolderAttributes, relockFolders, under, unlockFolders } from "./folder_bits.ts";
import type { SyncDelete, SyncPlan, SyncSend } from "./plan.ts";

/**
 * How many files sent one by one a pull keeps in flight: each large one
 * lands only once its STAT after the body has come back, and that STAT is
 * answered after every GET sent before it. With 32 in flight a cut sync
 * kept none of them; with 2, all but the two in flight.
 */
export const LARGE_PULL_WINDOW = 2;

/** A change done: a line of the report. */
export interface DoneChange {
  /** `new`, `changed` or `deleted`. */
  kind: "new" | "changed" | "deleted";
  /** The path below the tops. */
  relative: string;
  /** A folder (only removals name folders). */
  folder: boolean;
  /** Bytes sent, or the size of the file removed. */
  size: number;
}

/** What a sync did. */
export interface SyncTotals {
  /** Files sent. */
  sent: number;
  /** Of them, new. */
  new: number;
  /** Of them, changed. */
  changed: number;
  /** Files and folders removed. */
  deleted: number;
  /** Bytes sent. */
  bytes: number;
  /** Entries that failed (each reported through `onError`). */
  failed: number;
  /** Files not tried because a disk filled up: the sync stopped there ({@linkcode isDiskFull}). */
  notTried: number;
}

/** Options for {@linkcode applySync}. */
export interface ApplyOptions extends Pick<LocalTransferOptions, "progress" | "onFile"> {
  /** `push`: the source is local and the target remote; `pull`: the other way. */
  direction: "push" | "pull";
  /**
   * Send a changed file whole, never only its changed blocks (`-W`).
   *
   * @default {false}
   */
  wholeFile?: boolean | undefined;
  /**
   * How many requests are in flight at once.
   *
   * @default {32}
   */
  window?: number | undefined;
  /** Told of each change once it is done. */
  onChange?: ((change: DoneChange) => void) | undefined;
  /** Told of each entry that failed (the others go on). */
  onError?: ((relative: string, error: BftpError) => void) | undefined;
}

/**
 * Runs `tasks` through a window; an entry's own failure is told and the
 * others go on, until `stopped` says a disk is full.
 */
async function each<T>(
  client: BftpClient,
  items: readonly T[],
  options: ApplyOptions & { stopped?: () => boolean },
  run: (item: T) => Promise<void>,
  fail: (item: T, error: BftpError) => void,
): Promise<void> {
  const window = new TaskWindow({ limit: options.window });
  try {
    for (const item of items) {
      if (options.stopped?.()) break;
      await window.add(async () => {
        try {
          await run(item);
        } catch (e) {
          // A broken session (or Ctrl-C, which closes it) ends the sync; anything else is one entry's.
          if (!(e instanceof BftpError) || !client.usable) throw e;
          fail(item, e);
        }
      });
    }
  } finally {
    await window.settle();
  }
  await window.drain();
}

/**
 * Removes a path on the target: files first (pipelined), then folders,
 * deepest first. A pull's, relative to the folders its local `tree` holds:
 * no link on the way is followed, a folder swapped for one meanwhile is
 * refused (without a tree, no libc: by path).
 */
async function removeAll(
  client: BftpClient,
  deletes: readonly SyncDelete[],
  options: ApplyOptions,
  totals: SyncTotals,
  tree: LocalTree | undefined,
): Promise<void> {
  const fail = (d: SyncDelete, e: BftpError) => {
    totals.failed++;
    options.onError?.(d.relative, e);
  };
  const remove = async (d: SyncDelete) => {
    if (options.direction === "push") {
      await (d.folder ? client.rmdir(d.path) : client.delete(d.path));
    } else {
      // A link is removed itself, never followed; a folder only once empty.
      try {
        if (tree === undefined) await Deno.remove(d.path);
        else if (d.folder) tree.removeFolder(localChild(tree.top, d.relative));
        else tree.removeFile(localChild(tree.top, d.relative));
      } catch (e) {
        throw localIoError("remove", d.path, e);
      }
    }
    totals.deleted++;
    options.onChange?.({ kind: "deleted", relative: d.relative, folder: d.folder, size: d.size });
  };
  await each(client, deletes.filter((d) => !d.folder), options, remove, fail);
  // Folders one after another: a child goes before its parent.
  const folders = deletes.filter((d) => d.folder);
  await each(client, folders, { ...options, window: 1 }, remove, fail);
}

/**
 * Carries out a sync plan: removals, folders, files. The files go with
 * their times and modes kept (`preserve`), each verified and landed
 * atomically; a file that changed while it was sent is reported. A full
 * disk on either side stops it: files not yet tried are left as they are
 * and counted (`notTried`).
 *
 * @param client The session with the server.
 * @param plan The plan (from `compareTrees`, its `unsure` settled).
 * @param options The direction, the window and the callbacks.
 * @returns What was done.
 * @throws Whatever breaks the session; one entry's failure goes to `onError`.
 *
 * @example
 * ```ts
 * import { applySync } from "./apply.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const plan = { checked: 0, folders: [], missingFolders: new Set<string>(), sends: [], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * const totals = await applySync(null as never, plan, { direction: "push" });
 * deepEqual(totals, { sent: 0, new: 0, changed: 0, deleted: 0, bytes: 0, failed: 0, notTried: 0 });
 * ```
 */
export async function applySync(
  client: BftpClient,
  plan: SyncPlan,
  options: ApplyOptions,
): Promise<SyncTotals> {
  const totals: SyncTotals = {
    sent: 0,
    new: 0,
    changed: 0,
    deleted: 0,
    bytes: 0,
    failed: 0,
    notTried: 0,
  };
  // A pull's local top is held open: every folder and file below it is reached from it, never
  // through a link put in a folder's place meanwhile (`LocalTree`).
  const top = options.direction === "pull" ? plan.folders[0]?.local : undefined;
  using tree = top === undefined ? undefined : openTop(top, []);
  // A full disk stops it: every later file would fail the same way.
  const run = new SyncRun();
  const tally = counting(options, totals, run);
  const unlocked = await unlockFolders(
    client,
    plan,
    options,
    (relative, e) => tally.onError({ relative }, e),
    tree,
  );
  if (plan.deletes.length > 0) await removeAll(client, plan.deletes, options, totals, tree);
  const broken = new Set<string>();
  const present = await makeFolders(client, plan, options, (relative, e) => {
    broken.add(relative);
    tally.onError({ relative }, e);
  }, tree);
  const sends = plan.sends.filter((s) => !under(s.file.relative, broken));
  // Small files of a pull land on a second thread (`lander.ts`).
  using lander = options.direction === "pull"
    ? Lander.startFor(sends.map((s) => s.file), tree)
    : undefined;
  // Small files go many to a request (MGET, MPUT: `many_downloads.ts`, `many_uploads.ts`);
  // the rest, and the files whose time or bits alone are to change (no body), one by one.
  const setstat = sends.length > 0 && client.supports("setstat") && !client.readOnly;
  const many = sends.filter((s) =>
    options.direction === "pull"
      ? byMget(client, s.file.size, {}) && !s.attributesOnly
      : byMput(client, s.file.size, {}) && !(s.attributesOnly && setstat)
  );
  if (many.length > 0 && options.direction === "pull") {
    const folderOf = (local: string) => present.get(localFolderKey(local));
    await pullMany(client, many, options, totals, { lander, folderOf, run, tree });
  } else if (many.length > 0) await pushMany(client, many, options, totals, run);
  const send = async (item: SyncSend) => {
    const { kind, file } = item;
    const shown: LocalTransferOptions = {
      preserve: true,
      // A large file's body goes right behind its request: its flush on the server overlaps the
      // next one's transfer.
      eager: true,
      onFile: options.onFile,
      tree,
      ...(options.progress === undefined ? {} : {
        progress: (_label, size, offset) => options.progress!(file.relative, size, offset),
      }),
    };
    const moved = options.direction === "push"
      ? await pushFile(client, item, shown, setstat, options.wholeFile !== true)
      : await pullFile(
        client,
        item,
        shown,
        present.get(localFolderKey(file.local)),
        lander,
        options.wholeFile !== true,
      );
    tally.onDone({ kind, relative: file.relative }, file, moved);
  };
  const byMany = new Set(many);
  const one = byMany.size === 0 ? sends : sends.filter((s) => !byMany.has(s));
  const stopped = () => run.stopped;
  // A pull's large file lands after one more STAT (stillTheSame), which waits behind every GET
  // sent before it: a narrow window lets each land while the next comes, so a cut keeps them.
  const window = options.direction === "pull"
    ? Math.min(LARGE_PULL_WINDOW, options.window ?? 32)
    : options.window;
  await each(
    client,
    one,
    { ...options, window, stopped },
    send,
    (s, e) => tally.onError(s.file, e),
  );
  if (run.stopped) totals.notTried = run.untried(sends.map((s) => s.file.relative));
  const fail = (relative: string, e: BftpError) => tally.onError({ relative }, e);
  await keepFolderAttributes(client, plan, options, fail, { broken, tree, unlocked });
  await relockFolders(client, plan, unlocked, options, { fail, tree });
  return totals;
}

/**
 * Makes the folders the target lacks: on the server with MKDIR (parents
 * too), locally as `get -r` does (a link where a folder goes is refused).
 * Locally, the folders that files go into are read (and swept of stale
 * temporaries) on the way. Returns the names in each local folder read.
 */
async function makeFolders(
  client: BftpClient,
  plan: SyncPlan,
  options: ApplyOptions,
  fail: (relative: string, e: BftpError) => void,
  tree: LocalTree | undefined,
): Promise<Map<string, ReadonlySet<string>>> {
  const present = new Map<string, ReadonlySet<string>>();
  // A folder made is a change of its own (`+ NAME/`), as rsync -v tells it; DST itself is not.
  const made = (relative: string) => {
    if (relative !== "") options.onChange?.({ kind: "new", relative, folder: true, size: 0 });
  };
  if (options.direction === "push") {
    const missing = plan.folders.filter((f) => plan.missingFolders.has(f.relative));
    await each(client, missing, options, async (f) => {
      await client.mkdir(f.remote, true, newFolderBits(f.mode));
      made(f.relative);
    }, (f, e) => {
      fail(f.relative, e);
    });
    return present;
  }
  // Keyed as each file's folder is found: a pull's local paths are `localChild(folder, name)`.
  const filled = new Set(plan.sends.map((s) => localFolderKey(s.file.local)));
  const broken = new Set<string>();
  for (const [i, folder] of plan.folders.entries()) {
    const path = localChild(folder.local, "");
    if (!plan.missingFolders.has(folder.relative) && !filled.has(path)) continue;
    if (under(folder.relative, broken)) continue;
    try {
      present.set(path, prepareFolder(folder.local, i === 0, [], tree, folder.mode));
      if (plan.missingFolders.has(folder.relative)) made(folder.relative);
    } catch (e) {
      if (!(e instanceof BftpError)) throw e;
      broken.add(folder.relative);
      fail(folder.relative, e);
    }
  }
  return present;
}
