/**
 * What a tree transfer's files come to (`tree_transfer.ts`,
 * `listed_upload.ts`): each file's own failure told and the tree going on,
 * the totals counted, `-p`'s folder attributes, and an upload's files sent
 * once their folders are made.
 *
 * @module
 */

import { BftpError, isDiskFull } from "../errors.ts";
import type { BftpClient } from "./client.ts";
import { uploadFile } from "./local.ts";
import type { LocalTransferOptions } from "./local_options.ts";
import type { PlannedEntry, PlannedFile, TreePlan } from "./tree_plan.ts";
import type { TaskWindow } from "./window.ts";
import { setFolderAttributes } from "./folder_attributes.ts";
import { byMput, uploadMany } from "./many_uploads.ts";
import type { BodyResult } from "../transfer/body.ts";

/** How many files and bytes a tree transfer moved. */
export interface TreeTotals {
  /** Files. */
  files: number;
  /** Bytes. */
  bytes: number;
}

/**
 * A file's options: its progress labelled with its path below the tree's
 * top; an upload's file read as the plain file the walk listed.
 *
 * @param options The tree's options.
 * @param file The file.
 * @returns Its own options.
 *
 * @example
 * ```ts
 * import { fileOptions } from "./tree_outcomes.ts";
 * import { equal } from "node:assert/strict";
 *
 * const file = { local: "/t/a", remote: "/u/a", relative: "a", size: 1 };
 * equal(fileOptions({}, file).noLink, true);
 * ```
 */
export function fileOptions(
  options: LocalTransferOptions,
  file: PlannedFile,
): LocalTransferOptions {
  const { progress } = options;
  // An upload's file listed as a plain file is read as one (a link put there since is refused).
  const own = { ...options, listed: true, noLink: file.link !== true };
  if (progress === undefined) return own;
  return { ...own, progress: (_label, size, offset) => progress(file.relative, size, offset) };
}

/** What {@linkcode tally} gives a batch of files: its outcomes' callbacks, and how it stops. */
export interface Tally {
  /** Counts a file done. */
  onDone: (file: unknown, result: BodyResult) => void;
  /** Tells a file's own failure, or keeps one that stops the tree. */
  onError: (file: { relative: string }, e: BftpError) => void;
  /** With `onFailure`, whether a failure that stops the tree has come (no batch starts after). */
  stopped: (() => boolean) | undefined;
  /** Throws the first failure that stops the tree, if any. */
  stopAtFailure: () => void;
}

/**
 * Counts the files a batch of MGET or MPUT moved into `totals`, tells each
 * file's own failure through `onFailure` (see {@linkcode ownFailure}), and
 * keeps the others: the first of those stops the tree, as a file's does in
 * a window.
 *
 * @param totals Where the files and bytes are counted.
 * @param client The session (a broken one stops the tree).
 * @param options The tree's options (`onFailure`).
 * @returns The batch's callbacks.
 *
 * @example
 * ```ts
 * import { tally } from "./tree_outcomes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const totals = { files: 0, bytes: 0 };
 * tally(totals, {} as never, {}).onDone(null, { size: 5, checksum: "sha256", hash: "" });
 * deepEqual(totals, { files: 1, bytes: 5 });
 * ```
 */
export function tally(
  totals: TreeTotals,
  client: BftpClient,
  options: LocalTransferOptions,
): Tally {
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
 *
 * @param client The session.
 * @param e What was thrown.
 * @param options The tree's options.
 * @returns Whether the tree goes on after it.
 *
 * @example
 * ```ts
 * import { ownFailure } from "./tree_outcomes.ts";
 * import { BftpError } from "../errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * const e = new BftpError("NOT_FOUND", "gone");
 * equal(ownFailure({ usable: true } as never, e, { onFailure: () => {} }), true);
 * equal(ownFailure({ usable: true } as never, e, {}), false);
 * ```
 */
export function ownFailure(client: BftpClient, e: unknown, options: LocalTransferOptions): boolean {
  return options.onFailure !== undefined && e instanceof BftpError && client.usable &&
    !isDiskFull(e);
}

/**
 * Runs one file (or folder) of a tree; its own failure is told through `onFailure`
 * (see {@linkcode ownFailure}), anything else thrown.
 *
 * @param client The session.
 * @param file The file or folder.
 * @param options The tree's options.
 * @param run Its transfer.
 *
 * @example
 * ```ts
 * import { eachFile } from "./tree_outcomes.ts";
 * import { BftpError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const told: string[] = [];
 * const file = { local: "/t/a", remote: "/u/a", relative: "a" };
 * await eachFile({ usable: true } as never, file, { onFailure: (p) => told.push(p) }, () => {
 *   throw new BftpError("NOT_FOUND", "gone");
 * });
 * deepEqual(told, ["a"]);
 * ```
 */
export async function eachFile(
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
 *
 * @param client The session.
 * @param plan The tree's plan (its folders).
 * @param side Which side's folders get them.
 * @param options The tree's options.
 *
 * @example
 * ```ts
 * import { keepFolderAttributes } from "./tree_outcomes.ts";
 *
 * const plan = { files: [], folders: [], totalBytes: 0, skipped: [] };
 * await keepFolderAttributes(null as never, plan, "remote", {});
 * ```
 */
export async function keepFolderAttributes(
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
 * Uploads `files` (their folders made): the small ones by MPUT, many to a
 * request, once what `window` holds is done; the others through `window`,
 * each an eager PUT. Without `onFailure`, the first to fail stops the tree.
 * Counted into `totals`.
 *
 * @param client The session.
 * @param files The files.
 * @param window The tree's window of transfers in flight.
 * @param totals Where the files and bytes are counted.
 * @param options The tree's options.
 *
 * @example
 * ```ts
 * import { sendFiles } from "./tree_outcomes.ts";
 * import { TaskWindow } from "./window.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const totals = { files: 0, bytes: 0 };
 * await sendFiles(null as never, [], new TaskWindow(), totals, {});
 * deepEqual(totals, { files: 0, bytes: 0 });
 * ```
 */
export async function sendFiles(
  client: BftpClient,
  files: readonly PlannedFile[],
  window: TaskWindow,
  totals: TreeTotals,
  options: LocalTransferOptions,
): Promise<void> {
  const small = new Set(files.filter((f) => byMput(client, f.size, options)));
  if (small.size > 0) {
    await window.drain();
    const { stopAtFailure, stopped, ...counting } = tally(totals, client, options);
    await uploadMany(client, [...small], {
      ...options,
      ...counting,
      ...(stopped === undefined ? {} : { stopped }),
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
}
