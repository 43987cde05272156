/**
 * `put -r` with no progress line to draw: the tree is sent while it is
 * walked. Where a progress line needs the listing's totals first
 * (`tree_transfer.ts`' `uploadPlan`), the server waits for the whole walk
 * (5,000 files: about 35 ms of a 200 ms push) before it has a file to
 * store; here each folder is made on the server and its small files go
 * into MPUT batches (an {@linkcode UploadFeed}) as soon as the walk has
 * listed them, so the server stores the first files while the client
 * walks on. Files over {@linkcode FEED_FILE_MAX} bytes go once the walk
 * has ended, as `uploadPlan` sends them.
 *
 * @module
 */

import type { BftpClient } from "./client.ts";
import type { LocalTransferOptions } from "./local_options.ts";
import { planUpload } from "./local_plan.ts";
import { byMput, FEED_FILE_MAX, UploadFeed, uploadMany } from "./many_uploads.ts";
import type { PlannedEntry, PlannedFile, SkippedEntry, TreePlan } from "./tree_plan.ts";
import { TaskWindow } from "./window.ts";
import { newFolderBits } from "../local_file/attributes.ts";
import {
  eachFile,
  keepFolderAttributes,
  ownFailure,
  sendFiles,
  tally,
  type TreeTotals,
} from "./tree_outcomes.ts";

/**
 * Whether {@linkcode uploadWhileListing} can send this upload: no progress
 * line or plan to tell first (`onPlan`, `onListed`), failures told one by
 * one (`onFailure`), not resumable, and a server that takes MPUT.
 *
 * @param client The session.
 * @param options The upload's options.
 * @returns Whether the tree may be sent while it is walked.
 *
 * @example
 * ```ts
 * import { whileListing } from "./listed_upload.ts";
 * import { equal } from "node:assert/strict";
 *
 * const client = { supports: (f: string) => f === "mput" } as never;
 * equal(whileListing(client, { onFailure: () => {} }), true);
 * equal(whileListing(client, { onFailure: () => {}, onListed: () => {} }), false);
 * ```
 */
export function whileListing(client: BftpClient, options: LocalTransferOptions): boolean {
  return options.onPlan === undefined && options.onListed === undefined &&
    options.onFailure !== undefined && !options.resume && client.supports("mput");
}

/**
 * Uploads the local folder `source` into the remote folder `remote`
 * (created if missing) while it is walked (see the module's comment; only
 * where {@linkcode whileListing} says so). What the walk leaves out is told
 * as it is found; a folder the server refuses is told once, and its files
 * are not tried; the top's refusal stops the tree.
 *
 * @param client A connected client.
 * @param source The local folder.
 * @param remote The remote folder.
 * @param options Per-file, skip and failure callbacks (`onFailure` given).
 * @returns How many files and bytes were sent.
 *
 * @example
 * ```ts
 * import { uploadWhileListing } from "./listed_upload.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.mkdir(`${dir}/src/sub`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/src/sub/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const totals = await uploadWhileListing(client, `${dir}/src`, "/up", { onFailure: () => {} });
 * deepEqual(totals, { files: 1, bytes: 2 });
 * deepEqual(await Deno.readTextFile(`${dir}/served/up/sub/a.txt`), "hi");
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function uploadWhileListing(
  client: BftpClient,
  source: string,
  remote: string,
  options: LocalTransferOptions,
): Promise<TreeTotals> {
  const plan: TreePlan = { files: [], folders: [], totalBytes: 0, skipped: [] };
  const walk = new Walk(source, remote, plan);
  const totals = { files: 0, bytes: 0 };
  const { stopAtFailure, stopped, ...counting } = tally(totals, client, options);
  const feed = new UploadFeed<PlannedFile>();
  const sending = uploadMany(client, feed, {
    ...options,
    ...counting,
    ...(stopped === undefined ? {} : { stopped }),
  });
  // Awaited once the walk has ended; never left unhandled meanwhile (a broken session).
  sending.catch(() => {});
  const folders = new TaskWindow({ limit: options.window });
  const later: PlannedFile[] = [];
  try {
    const taken = { folders: 0, files: 0, skipped: 0 };
    const broken: string[] = [];
    for (let ended = false; !ended;) {
      // Read first: what the walk added before it ended is all taken below.
      ended = walk.ended;
      for (; taken.skipped < plan.skipped.length; taken.skipped++) {
        tellSkipped(plan.skipped[taken.skipped]!, options);
      }
      // The files listed so far are all in the folders listed so far (a folder is in the plan
      // before its files): those made, and what the walk lists meanwhile waits for the next round.
      const made = plan.folders.slice(taken.folders);
      const listed = plan.files.length;
      taken.folders = plan.folders.length;
      for (const folder of made) await makeFolder(client, folder, folders, broken, options);
      // A folder's refusal is known before its files would go.
      if (made.length > 0) await folders.drain();
      for (; taken.files < listed; taken.files++) {
        const file = plan.files[taken.files]!;
        if (broken.some((b) => file.remote.startsWith(b))) continue;
        if (file.size <= FEED_FILE_MAX && byMput(client, file.size, options)) feed.add(file);
        else later.push(file);
      }
      if (!ended && taken.files === plan.files.length && taken.folders === plan.folders.length) {
        await walk.grown();
      }
    }
    await walk.done;
    feed.end();
    await sending;
    stopAtFailure();
    await sendFiles(client, later, folders, totals, options);
  } catch (e) {
    // Nothing more is tried once the tree stops.
    feed.abandon();
    throw e;
  } finally {
    walk.stop();
    feed.end();
    await Promise.allSettled([walk.done, sending, folders.settle()]);
  }
  await folders.drain();
  if (options.preserve) await keepFolderAttributes(client, plan, "remote", options);
  return totals;
}

/** Asks for one folder of the walk; the top's refusal stops the tree, another's is its own. */
async function makeFolder(
  client: BftpClient,
  folder: PlannedEntry,
  window: TaskWindow,
  broken: string[],
  options: LocalTransferOptions,
): Promise<void> {
  // Its source's bits (and its owner's), as a download makes its folders.
  const make = () => client.mkdir(folder.remote, true, newFolderBits(folder.mode));
  if (folder.relative === "") {
    // Made alone, before any other: its refusal stops the tree with nothing else tried.
    await window.add(make);
    return await window.drain();
  }
  await window.add(() =>
    eachFile(client, folder, options, async () => {
      try {
        await make();
      } catch (e) {
        if (ownFailure(client, e, options)) broken.push(`${folder.remote}/`);
        throw e;
      }
    })
  );
}

/** What the walk left out, told as `uploadPlan` tells it (`onFailure` is given here). */
function tellSkipped(entry: SkippedEntry, options: LocalTransferOptions): void {
  if (entry.error === undefined) options.onSkip?.(entry.path, entry.why);
  else options.onFailure!(entry.relative ?? entry.path, entry.error);
}

/** The walk of `source` filling `plan` in the background, and the upload waiting on it. */
class Walk {
  /** Settles when the walk ends (rejected when the top cannot be read, or it was stopped). */
  readonly done: Promise<void>;
  #ended = false;
  #stop = new AbortController();
  #wake: (() => void) | null = null;

  constructor(source: string, remote: string, plan: TreePlan) {
    const grew = () => this.#notify();
    // Letting the network in as it goes (a timer now and then): the server's answers come in and
    // the next batches go out while the walk goes on.
    const listing = { plan, onListed: grew, signal: this.#stop.signal, besideListing: true };
    this.done = planUpload(source, remote, listing)
      .then(() => {}).finally(() => {
        this.#ended = true;
        this.#notify();
      });
    // Awaited by the upload; never left unhandled meanwhile.
    this.done.catch(() => {});
  }

  /** Whether the walk has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves once the walk has listed another folder, or ended. */
  grown(): Promise<void> {
    return this.#ended ? Promise.resolve() : new Promise((resolve) => this.#wake = resolve);
  }

  /** Ends the walk at its next pause. */
  stop(): void {
    this.#stop.abort();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
