/**
 * The bits of a sync's target folders: those it changes an entry in that
 * deny their owner reading, writing or searching them (a read-only folder
 * kept from the source) are given `u+rwx` first and their bits back at the
 * end, as rsync gives write; and once the files are in, the folders get
 * the source's times and bits (`rsync -a`). (A folder its owner may not
 * list is listed by the sync's listing pass, `listLocked`.)
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { setFolderAttributes } from "../client/folder_attributes.ts";
import type { PlannedEntry } from "../client/tree_plan.ts";
import { type BftpError, RemoteError } from "../errors.ts";
import type { LocalTree } from "../local_file/local_tree.ts";
import type { ApplyOptions } from "./apply.ts";
import type { SyncPlan } from "./plan.ts";

/**
 * Whether `relative` lies in one of `folders` (or is one).
 *
 * @param relative A path below the tops.
 * @param folders Folders below the tops (`""`: the top).
 * @returns Whether it is in one.
 *
 * @example
 * ```ts
 * import { under } from "./folder_bits.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(under("a/b/c.txt", new Set(["a"])), true);
 * equal(under("ab/c.txt", new Set(["a"])), false);
 * ```
 */
export function under(relative: string, folders: ReadonlySet<string>): boolean {
  for (let at = relative; at !== ""; at = parentOf(at)) {
    if (folders.has(at)) return true;
  }
  return folders.has("");
}

/**
 * The folder a relative path is in (`""` for the top).
 *
 * @param relative A path below the tops.
 * @returns Its folder's.
 *
 * @example
 * ```ts
 * import { parentOf } from "./folder_bits.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([parentOf("a/b.txt"), parentOf("b.txt")], ["a", ""]);
 * ```
 */
export function parentOf(relative: string): string {
  const slash = relative.lastIndexOf("/");
  return slash < 0 ? "" : relative.slice(0, slash);
}

/**
 * The folders of the target (relative paths) that a sync makes or removes
 * an entry in: where a file lands or is removed, and where a folder is
 * made (and the new folders themselves).
 *
 * @param plan The sync's plan.
 * @returns Their relative paths (some more than once).
 *
 * @example
 * ```ts
 * import { changedFolders } from "./folder_bits.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const file = { remote: "/t/a/x", local: "t/a/x", relative: "a/x", size: 1 };
 * const plan = { checked: 1, folders: [], missingFolders: new Set(["n"]), sends: [{ kind: "new" as const, file }], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * deepEqual(changedFolders(plan), ["a", "n", ""]);
 * ```
 */
export function changedFolders(plan: SyncPlan): string[] {
  return [
    ...plan.sends.map((s) => parentOf(s.file.relative)),
    ...plan.deletes.map((d) => parentOf(d.relative)),
    ...[...plan.missingFolders].flatMap((m) => [m, parentOf(m)]),
  ];
}

/**
 * Gives the target's folders that this sync changes an entry in (or
 * reaches such a folder through), and whose bits deny their owner
 * reading, writing or searching them (a read-only folder kept from the
 * source by the last sync), `u+rwx` first, as rsync gives write: else,
 * as any user but root, the next sync could neither land nor remove a
 * file there (nor a flushing server open the folder to flush it). Their bits come back with the other folders' at the end
 * ({@linkcode keepFolderAttributes}); one removed by `--delete` needs none.
 * A top kept as it is (a link on the server) is left alone.
 *
 * @param client The session (a push's folders are the server's).
 * @param plan The sync's plan.
 * @param options The direction and the window.
 * @param fail Told of a folder that could not be given them.
 * @param tree A pull's local tree.
 * @returns The folders given them, with their own bits (for {@linkcode relockFolders}).
 *
 * @example
 * ```ts
 * import { relockFolders, unlockFolders } from "./folder_bits.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/ro`, { mode: 0o700 });
 * await Deno.chmod(`${dir}/ro`, 0o500);
 * const ro = { remote: "/t/ro", local: `${dir}/ro`, relative: "ro", mode: 0o500 };
 * const gone = { kind: "new" as const, file: { ...ro, remote: "/t/ro/x", local: `${dir}/ro/x`, relative: "ro/x", size: 1 } };
 * const plan = { checked: 0, folders: [], missingFolders: new Set<string>(), sends: [gone], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>(), lockedFolders: [ro] };
 * const options = { direction: "pull" as const };
 * const unlocked = await unlockFolders(null as never, plan, options, () => {}, undefined);
 * deepEqual((await Deno.stat(`${dir}/ro`)).mode! & 0o777, 0o700);
 * // Not a folder of the source: its own bits back.
 * await relockFolders(null as never, plan, unlocked, options, { fail: () => {}, tree: undefined });
 * deepEqual((await Deno.stat(`${dir}/ro`)).mode! & 0o777, 0o500);
 * await Deno.chmod(`${dir}/ro`, 0o700);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function unlockFolders(
  client: BftpClient,
  plan: SyncPlan,
  options: ApplyOptions,
  fail: (relative: string, e: BftpError) => void,
  tree: LocalTree | undefined,
): Promise<PlannedEntry[]> {
  // The folders changed in, and those on the way to them (a 0200 folder has no search bit).
  const reached = new Set<string>();
  for (const folder of changedFolders(plan)) {
    for (let at = folder; !reached.has(at); at = parentOf(at)) {
      reached.add(at);
      if (at === "") break;
    }
  }
  const unlisted = unlistedFolders(plan);
  const due = (plan.lockedFolders ?? [])
    .filter((f) => reached.has(f.relative) && !keptTop(plan, f) && !unlisted.has(f.relative));
  const opened = due.map((f) => ({ ...f, mtime: null, mode: f.mode! | 0o700 }));
  // Each parent first: a folder below a locked one is reached through the bits it is given.
  await giveFolders(client, opened, options, fail, tree, true);
  return due;
}

/**
 * Gives the folders {@linkcode unlockFolders} opened that the source has
 * not (their contents removed by `--delete`) their own bits back, if they
 * are still there (one that held an excluded file); the source's folders
 * get the source's bits with the others.
 *
 * @param client The session (a push's folders are the server's).
 * @param plan The sync's plan.
 * @param unlocked What {@linkcode unlockFolders} returned.
 * @param options The direction and the window.
 * @param local Where a failure is told, and a pull's local tree.
 *
 * @example
 * ```ts
 * import { relockFolders } from "./folder_bits.ts";
 *
 * const plan = { checked: 0, folders: [], missingFolders: new Set<string>(), sends: [], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * await relockFolders(null as never, plan, [], { direction: "push" }, { fail: () => {}, tree: undefined });
 * ```
 */
export async function relockFolders(
  client: BftpClient,
  plan: SyncPlan,
  unlocked: readonly PlannedEntry[],
  options: ApplyOptions,
  local: { fail: (relative: string, e: BftpError) => void; tree: LocalTree | undefined },
): Promise<void> {
  const source = new Set(plan.folders.map((f) => f.relative));
  // Not one the source has (it gets the source's bits), nor one a file of the source replaced,
  // nor one inside such a folder (removed with it).
  const replaced = new Set(plan.sends.map((s) => s.file.relative));
  const due = unlocked.filter((f) => !source.has(f.relative) && !under(f.relative, replaced))
    .map((f) => ({ ...f, mtime: null }));
  await giveFolders(client, due, options, (relative, e) => {
    // Removed by this sync, as most are.
    if (!(e instanceof RemoteError && e.code === "NOT_FOUND")) local.fail(relative, e);
  }, local.tree);
}

/**
 * Gives the target's folders the source's modification times and
 * permission bits, as `rsync -a` does, once the files are in: those whose
 * time or bits differed, those this sync changed (a file landed or
 * removed in them, a folder made or removed in them), and those it opened
 * on its way (`unlocked`). Remote folders take SETSTAT, from a server that
 * offers it (an older one, or a read-only session, keeps its own); the
 * served root's own are left alone, and so are a top that is a link on the
 * server (`keepTop`), the folders that could not be made (`broken`: told
 * once already) and those that could not be listed (told too).
 *
 * @param client The session (a push's folders are the server's).
 * @param plan The sync's plan.
 * @param options The direction and the window.
 * @param fail Told of a folder that could not be given them.
 * @param local The folders that could not be made, and a pull's local tree.
 *
 * @example
 * ```ts
 * import { keepFolderAttributes } from "./folder_bits.ts";
 *
 * const plan = { checked: 0, folders: [], missingFolders: new Set<string>(), sends: [], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * await keepFolderAttributes(null as never, plan, { direction: "pull" }, () => {}, { broken: new Set(), tree: undefined });
 * ```
 */
export async function keepFolderAttributes(
  client: BftpClient,
  plan: SyncPlan,
  options: ApplyOptions,
  fail: (relative: string, e: BftpError) => void,
  local: {
    broken: ReadonlySet<string>;
    tree: LocalTree | undefined;
    unlocked?: readonly PlannedEntry[] | undefined;
  },
): Promise<void> {
  const { broken, tree } = local;
  // And those opened on the way to a change ({@linkcode unlockFolders}): their bits go back too.
  const opened = (local.unlocked ?? []).map((f) => f.relative);
  const touched = new Set([...plan.staleTimes, ...changedFolders(plan), ...opened]);
  const unlisted = unlistedFolders(plan);
  const due = plan.folders.filter((f) =>
    touched.has(f.relative) && !under(f.relative, broken) && !keptTop(plan, f) &&
    !unlisted.has(f.relative)
  );
  await giveFolders(client, due, options, fail, tree);
}

/** The folders either listing could not list: their failure is told already, once. */
function unlistedFolders(plan: SyncPlan): Set<string> {
  const out = new Set<string>();
  for (const s of plan.skipped) if (s.unlisted && s.relative !== undefined) out.add(s.relative);
  return out;
}

/** Whether `folder` is a top the target keeps as it is (a link to a folder on the server). */
function keptTop(plan: SyncPlan, folder: PlannedEntry): boolean {
  return plan.keepTop === true && folder.relative === "";
}

/** Gives `folders` their times and bits on the sync's target side; each failure told to `fail`. */
async function giveFolders(
  client: BftpClient,
  folders: readonly PlannedEntry[],
  options: ApplyOptions,
  fail: (relative: string, e: BftpError) => void,
  tree: LocalTree | undefined,
  parentsFirst = false,
): Promise<void> {
  await setFolderAttributes(client, folders, options.direction === "pull" ? "local" : "remote", {
    fail: (f, e) => fail(f.relative, e),
    window: options.window,
    tree,
    parentsFirst,
  });
}
