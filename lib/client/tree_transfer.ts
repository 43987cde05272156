/**
 * Folder trees (`get -r`, `put -r`): a listing pass makes a
 * {@linkcode TreePlan} (`tree_plan.ts`), then the plan's files move through
 * a window of transfers in flight on the one session (`window.ts`). Each
 * file lands as a single file does (`local.ts`): atomically, verified.
 *
 * @module
 */

import { newFolderBits } from "../local_file/attributes.ts";
import { BftpError, isDiskFull } from "../errors.ts";
import type { BftpClient } from "./client.ts";
import { downloadTreeFile, uploadFile } from "./local.ts";
import type { LocalTransferOptions } from "./local_options.ts";
import { planUpload } from "./local_plan.ts";
import { planDownload } from "./remote_plan.ts";
import { localFolderKey, type PlannedEntry, type PlannedFile, type TreePlan } from "./tree_plan.ts";
import { TaskWindow } from "./window.ts";
import { openTop, prepareFolders } from "./download_folder.ts";
import { setFolderAttributes } from "./folder_attributes.ts";
import { byMget, downloadMany } from "./many_downloads.ts";
import { byMput, uploadMany } from "./many_uploads.ts";
import { Lander } from "../local_file/lander.ts";
import { openNativeEarly } from "../libc/open_early.ts";
import type { BodyResult } from "../transfer/body.ts";

/** How many files and bytes a tree transfer moved. */
export interface TreeTotals {
  /** Files. */
  files: number;
  /** Bytes. */
  bytes: number;
}

/** A file's options: its progress labelled with its path below the tree's top. */
function fileOptions(options: LocalTransferOptions, file: PlannedFile): LocalTransferOptions {
  const { progress } = options;
  // An upload's file listed as a plain file is read as one (a link put there since is refused).
  const own = { ...options, listed: true, noLink: file.link !== true };
  if (progress === undefined) return own;
  return { ...own, progress: (_label, size, offset) => progress(file.relative, size, offset) };
}

/**
 * Counts the files a batch of MGET or MPUT moved into `totals`, tells each
 * file's own failure through `onFailure` (see {@linkcode ownFailure}), and
 * keeps the others: the first of those stops the tree, as a file's does in
 * a window.
 */
function tally(totals: TreeTotals, client: BftpClient, options: LocalTransferOptions) {
  const failures: BftpError[] = [];
  return {
    onDone: (_file: unknown, result: BodyResult) => {
      totals.files++;
      totals.bytes += result.size;
    },
    onError: (file: { relative: string }, e: BftpError) => {
      if (ownFailure(client, e, options)) options.onFailure!(file.relative, e);
      else failures.push(e);
    },
    /** With `onFailure`, no batch starts after a failure that stops the tree (a full disk). */
    stopped: options.onFailure === undefined ? undefined : () => failures.length > 0,
    stopAtFailure: () => {
      if (failures.length > 0) throw failures[0];
    },
  };
}

/**
 * Whether `e` is one file's own failure, told through `onFailure` while
 * the tree goes on: not when there is no `onFailure`, nor for what stops
 * every later file too (a broken session, an interrupt, a full disk).
 */
function ownFailure(client: BftpClient, e: unknown, options: LocalTransferOptions): boolean {
  return options.onFailure !== undefined && e instanceof BftpError && client.usable &&
    !isDiskFull(e);
}

/**
 * Runs one file (or folder) of a tree; its own failure is told through `onFailure`
 * (see {@linkcode ownFailure}), anything else thrown.
 */
async function eachFile(
  client: BftpClient,
  file: PlannedEntry,
  options: LocalTransferOptions,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (!ownFailure(client, e, options)) throw e;
    options.onFailure!(file.relative, e as BftpError);
  }
}

/**
 * `-p`: the copy's folders take the source's times and bits once the files are in
 * (`setFolderAttributes`); a folder that fails is told through `onFailure`, or
 * stops the tree without it.
 */
async function keepFolderAttributes(
  client: BftpClient,
  plan: TreePlan,
  side: "local" | "remote",
  options: LocalTransferOptions,
): Promise<void> {
  await setFolderAttributes(client, plan.folders, side, {
    fail: (folder, e) => {
      if (!ownFailure(client, e, options)) throw e;
      options.onFailure!(folder.relative, e);
    },
    window: options.window,
    tree: options.tree,
  });
}

/**
 * Tells the plan's skipped entries and the plan itself, before anything
 * moves: an entry that cannot be fetched is a failure (`onFailure`; without
 * it, it stops the tree here).
 */
function announce(plan: TreePlan, options: LocalTransferOptions): void {
  for (const { path, why, relative, error } of plan.skipped) {
    if (error === undefined) options.onSkip?.(path, why);
    else if (options.onFailure === undefined) throw error;
    else options.onFailure(relative ?? path, error);
  }
  options.onPlan?.(plan);
}

/**
 * Carries out a download plan (from {@linkcode planDownload}): makes its
 * folders, then downloads its files with up to a window in flight. On a
 * failure the folders it made and left empty are removed.
 *
 * @param client A connected client.
 * @param plan The plan.
 * @param options Progress, plan, per-file and skip callbacks.
 * @returns How many files and bytes arrived.
 *
 * @example
 * ```ts
 * import { downloadPlan } from "./tree_transfer.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const plan = { files: [], folders: [{ remote: "/", local: `${dir}/empty`, relative: "" }], totalBytes: 0, skipped: [] };
 * // No file to fetch: no request is made.
 * deepEqual(await downloadPlan(null as never, plan), { files: 0, bytes: 0 });
 * deepEqual((await Deno.stat(`${dir}/empty`)).isDirectory, true);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function downloadPlan(
  client: BftpClient,
  plan: TreePlan,
  options: LocalTransferOptions = {},
): Promise<TreeTotals> {
  announce(plan, options);
  const totals = { files: 0, bytes: 0 };
  // Folders this download made, so that a refused tree leaves none of them empty behind.
  const made: string[] = [];
  const present = new Map<string, ReadonlySet<string>>();
  const window = new TaskWindow({ limit: options.window });
  // The top is held open: every folder and file below it is reached from it, never through a
  // link put in a folder's place meanwhile (`LocalTree`).
  using tree = openTop(plan.folders[0]!.local, made, options.nestedTop);
  // Small files land on a second thread, beside this one's protocol work (`lander.ts`).
  using lander = options.resume ? undefined : Lander.startFor(plan.files, tree);
  const treeOptions = { ...options, tree };
  try {
    // Keyed as each file's folder is found: a plan's file paths are `localChild(folder,
    // name)`, so no path is resolved per file. A folder that cannot be made below the top is
    // its own failure: it and what it holds are left out, and the rest goes on.
    prepareFolders(plan.folders, made, present, (folder, e) => {
      if (!ownFailure(client, e, options)) return false;
      options.onFailure!(folder.relative, e as BftpError);
      return true;
    }, tree);
    // Each folder has its key unless one was left out: only then are the files looked through.
    const files = present.size === plan.folders.length
      ? plan.files
      : plan.files.filter((f) => present.has(localFolderKey(f.local)));
    // Small files by MGET, many to a request; without `onFailure`, the first to fail stops the
    // tree, as below.
    const small = new Set(files.filter((f) => byMget(client, f.size, options)));
    const { stopAtFailure, stopped, ...counting } = tally(totals, client, options);
    await downloadMany(client, [...small], {
      ...treeOptions,
      ...counting,
      ...(stopped === undefined ? {} : { stopped }),
      lander,
      present: (file) => present.get(localFolderKey(file.local)),
    });
    stopAtFailure();
    for (const file of files) {
      if (small.has(file)) continue;
      const names = present.get(localFolderKey(file.local));
      // Pipelined: up to a window of downloads in flight on the one session.
      await window.add(() =>
        eachFile(client, file, options, async () => {
          const result = await downloadTreeFile(
            client,
            file.remote,
            file.local,
            fileOptions(treeOptions, file),
            names,
            lander,
          );
          totals.files++;
          totals.bytes += result.size;
        })
      );
    }
    await window.drain();
    if (options.preserve) await keepFolderAttributes(client, plan, "local", treeOptions);
  } catch (e) {
    await window.settle();
    // Only empty folders go: a non-recursive remove leaves any that hold a file. Below the top,
    // each relative to its parent's descriptor: a parent swapped for a link leads nowhere else.
    for (const dir of made.reverse()) {
      try {
        if (tree === undefined || dir === tree.top) Deno.removeSync(dir);
        else tree.removeFolder(dir);
      } catch {
        // Not empty, gone, or not reached: left as it is.
      }
    }
    throw e;
  }
  return totals;
}

/**
 * Downloads a remote folder tree into `dest` (created if missing): plans it
 * ({@linkcode planDownload}: every name from the server is checked before
 * anything is created; symlinks and special files on the server are
 * skipped), then carries the plan out ({@linkcode downloadPlan}: a local
 * symbolic link in `dest` where a remote folder should go is refused, never
 * followed; files replace a link in their place rather than write through
 * it).
 *
 * @param client A connected client.
 * @param remote The remote folder.
 * @param dest The local folder.
 * @param options Progress, plan, per-file and skip callbacks.
 * @returns How many files and bytes arrived.
 *
 * @example
 * ```ts
 * import { downloadTree } from "./tree_transfer.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served/t`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/served/t/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * deepEqual(await downloadTree(client, "/t", `${dir}/out`), { files: 1, bytes: 2 });
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function downloadTree(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions = {},
): Promise<TreeTotals> {
  const { window, onListed } = options;
  const plan = await planDownload(client, remote, dest, {
    window,
    onListed: (counts) => {
      onListed?.(counts);
      // The second folder is in: the LISTs of a level below the top are in flight, and this
      // thread would wait for the server to list them; the landing's libraries open meanwhile.
      if (counts.folders === 2) openNativeEarly();
    },
  });
  // A listing names its folders' times and bits but not its own: `-p` asks for the top's.
  const top = plan.folders[0];
  if (options.preserve && top !== undefined) {
    const { mtime, mode } = await client.stat(remote);
    top.mtime ??= mtime;
    top.mode ??= mode;
  }
  return await downloadPlan(client, plan, options);
}

/**
 * Carries out an upload plan (from {@linkcode planUpload}): asks for its
 * folders, then uploads its files, with up to a window of requests in
 * flight (the server takes them in order, so a folder is made before the
 * files that go into it).
 *
 * @param client A connected client.
 * @param plan The plan.
 * @param options Progress, plan, per-file and skip callbacks.
 * @returns How many files and bytes were sent.
 *
 * @example
 * ```ts
 * import { uploadPlan } from "./tree_transfer.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const plan = { files: [], folders: [], totalBytes: 0, skipped: [] };
 * deepEqual(await uploadPlan(null as never, plan), { files: 0, bytes: 0 });
 * ```
 */
export async function uploadPlan(
  client: BftpClient,
  plan: TreePlan,
  options: LocalTransferOptions = {},
): Promise<TreeTotals> {
  announce(plan, options);
  const totals = { files: 0, bytes: 0 };
  const window = new TaskWindow({ limit: options.window });
  // A folder the server refuses is told (with `onFailure`), and neither its files nor -p's
  // attributes are tried on it (a file in its place kept its own); the top's refusal stops the tree.
  const broken: string[] = [];
  try {
    for (const [i, folder] of plan.folders.entries()) {
      // Its source's bits (and its owner's), as a download makes its folders.
      const make = () => client.mkdir(folder.remote, true, newFolderBits(folder.mode));
      await window.add(
        i === 0 ? make : () =>
          eachFile(client, folder, options, async () => {
            try {
              await make();
            } catch (e) {
              if (ownFailure(client, e, options)) broken.push(`${folder.remote}/`);
              throw e;
            }
          }),
      );
      // The top alone first: its refusal stops the tree with no other folder tried (each of
      // them was told as failed first).
      if (i === 0) await window.drain();
    }
    if (options.onFailure !== undefined) await window.drain();
    const files = plan.files.filter((f) => !broken.some((b) => f.remote.startsWith(b)));
    // Small files by MPUT, many to a request, once their folders are made; without
    // `onFailure`, the first to fail stops the tree, as below.
    const small = new Set(files.filter((f) => byMput(client, f.size, options)));
    if (small.size > 0) {
      await window.drain();
      const { stopAtFailure, stopped, ...counting } = tally(totals, client, options);
      await uploadMany(client, [...small], {
        ...options,
        ...counting,
        ...(stopped === undefined ? {} : { stopped }),
        // Found too large for a batch when opened (unsized, or grown since): with the large ones.
        sendAlone: (file) => small.delete(file),
      });
      stopAtFailure();
    }
    for (const file of files) {
      if (small.has(file)) continue;
      // Pipelined: up to a window of uploads in flight on the one session.
      await window.add(() =>
        eachFile(client, file, options, async () => {
          // Eager whatever its size: each upload's flush on the server overlaps the next one's.
          const result = await uploadFile(client, file.local, file.remote, {
            ...fileOptions(options, file),
            eager: true,
          });
          totals.files++;
          totals.bytes += result.size;
        })
      );
    }
  } finally {
    await window.settle();
  }
  await window.drain();
  if (options.preserve) {
    const made = plan.folders.filter((f) => !broken.some((b) => `${f.remote}/`.startsWith(b)));
    await keepFolderAttributes(client, { ...plan, folders: made }, "remote", options);
  }
  return totals;
}

/**
 * Uploads a local folder tree into the remote folder `remote` (created if
 * missing): plans it ({@linkcode planUpload}: symlinks to files are
 * followed; symlinked folders are not entered, no loops), then carries the
 * plan out ({@linkcode uploadPlan}).
 *
 * @param client A connected client.
 * @param source The local folder.
 * @param remote The remote folder.
 * @param options Progress, plan, per-file and skip callbacks.
 * @returns How many files and bytes were sent.
 *
 * @example
 * ```ts
 * import { uploadTree } from "./tree_transfer.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.mkdir(`${dir}/src`);
 * await Deno.writeTextFile(`${dir}/src/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * deepEqual(await uploadTree(client, `${dir}/src`, "/up"), { files: 1, bytes: 2 });
 * deepEqual(await Deno.readTextFile(`${dir}/served/up/a.txt`), "hi");
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function uploadTree(
  client: BftpClient,
  source: string,
  remote: string,
  options: LocalTransferOptions = {},
): Promise<TreeTotals> {
  // Sizes are only needed before reading to show them: else each file is described as it is
  // read, and the walk, which nothing overlaps, does one system call a file less.
  const shown = options.onListed !== undefined || options.onPlan !== undefined ||
    options.progress !== undefined;
  const plan = await planUpload(source, remote, { onListed: options.onListed, lookUp: shown });
  return await uploadPlan(client, plan, options);
}
