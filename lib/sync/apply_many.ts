/**
 * The part of a sync that moves many small files at once: a pull's by MGET
 * (`downloadMany`), a push's by MPUT (`uploadMany`), each with its time and
 * mode kept, counted when it lands and told when it fails; and the check
 * that a large pulled file did not change on the server while it was sent.
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { downloadMany } from "../client/many_downloads.ts";
import { uploadMany } from "../client/many_uploads.ts";
import type { Lander } from "../local_file/lander.ts";
import type { LocalTree } from "../local_file/local_tree.ts";
import { type BftpError, IntegrityError, isDiskFull } from "../errors.ts";
import type { GetReply } from "../protocol/replies.ts";
import type { BodyResult } from "../transfer/body.ts";
import type { ApplyOptions, SyncTotals } from "./apply.ts";
import type { SyncSend } from "./plan.ts";

/**
 * The size from which a pulled file is checked (a STAT) before it lands:
 * the server reads a larger one in several pieces, and a writer between
 * two of them would make the bytes sent a mix of two versions.
 */
export const STILL_CHECK_BYTES = 1 << 20;

/**
 * Refuses a pulled file that changed on the server while it was sent.
 *
 * @param client The session.
 * @param remote The file.
 * @returns A check of the file's GET reply, for `beforeCommit`.
 *
 * @example
 * ```ts
 * import { stillTheSame } from "./apply_many.ts";
 * import { doesNotReject } from "node:assert/strict";
 *
 * // A small file is never looked at again: no request is made (there is no session here).
 * const reply = { size: 5, mtime: 0, offset: 0, sha256: undefined, mode: null };
 * await doesNotReject(stillTheSame(null as never, "/a")(reply));
 * ```
 */
export function stillTheSame(
  client: BftpClient,
  remote: string,
): (reply: GetReply) => Promise<void> {
  return async (reply: GetReply) => {
    if (reply.size < STILL_CHECK_BYTES) return;
    const now = await client.stat(remote);
    if (now.size !== reply.size || now.mtime !== reply.mtime) {
      throw new IntegrityError(
        `"${remote}" changed on the server while it was sent: sync again to fetch it whole`,
      );
    }
  };
}

/**
 * Pushes small files by MPUT (`uploadMany`), with their times and modes,
 * as {@linkcode pullMany} pulls them.
 *
 * @param client The session.
 * @param sends The files.
 * @param options Progress and the callbacks.
 * @param totals Where each file that lands is counted.
 * @param run What the sync has tried: no batch starts once a disk is full.
 *
 * @example
 * ```ts
 * import { pushMany, SyncRun } from "./apply_many.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * await Deno.utime(`${dir}/a.txt`, new Date(), new Date(1_000_000_000_000));
 * const file = { local: `${dir}/a.txt`, remote: "/a.txt", relative: "a.txt", size: 2 };
 * const totals = { sent: 0, new: 0, changed: 0, deleted: 0, bytes: 0, failed: 0, notTried: 0 };
 * await pushMany(client, [{ kind: "new", file }], { direction: "push" }, totals, new SyncRun());
 * deepEqual([totals.sent, totals.new, totals.bytes], [1, 1, 2]);
 * const landed = await Deno.stat(`${dir}/served/a.txt`);
 * deepEqual([landed.size, landed.mtime?.getTime()], [2, 1_000_000_000_000]);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pushMany(
  client: BftpClient,
  sends: readonly SyncSend[],
  options: ApplyOptions,
  totals: SyncTotals,
  run: SyncRun,
): Promise<void> {
  const files = sends.map((s) => ({ ...s.file, kind: s.kind }));
  await uploadMany(client, files, {
    preserve: true,
    progress: options.progress,
    onFile: options.onFile,
    stopped: () => run.stopped,
    ...counting(options, totals, run),
  });
}

/**
 * What a sync has tried so far, shared by its parts: the entries done with
 * (landed or failed), and the first full disk, after which nothing more is
 * tried: every later file would fail the same way (rsync stops there too).
 *
 * @example
 * ```ts
 * import { SyncRun } from "./apply_many.ts";
 * import { RemoteError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const run = new SyncRun();
 * run.finished("a.txt");
 * run.finished("b.txt", new RemoteError("NO_SPACE", "No space left on the server"));
 * deepEqual([run.stopped, run.untried(["a.txt", "b.txt", "c.txt"])], [true, 1]);
 * ```
 */
export class SyncRun {
  readonly #done = new Set<string>();
  #full: BftpError | undefined;

  /** Whether a disk filled up: no further file is tried. */
  get stopped(): boolean {
    return this.#full !== undefined;
  }

  /**
   * Notes an entry done with.
   *
   * @param relative Its path below the tops.
   * @param error Why it failed, if it did.
   */
  finished(relative: string, error?: BftpError): void {
    this.#done.add(relative);
    if (error !== undefined && isDiskFull(error)) this.#full ??= error;
  }

  /**
   * How many of `relatives` were never tried.
   *
   * @param relatives Paths below the tops.
   * @returns The count.
   */
  untried(relatives: Iterable<string>): number {
    let n = 0;
    for (const relative of relatives) if (!this.#done.has(relative)) n++;
    return n;
  }
}

/**
 * Counts each file that landed (the bytes that moved for it: its size, or
 * a delta's blocks), and tells each that failed; both noted in `run`. A
 * full disk's refusal after the first is no failure: the file counts as
 * not tried.
 *
 * @param options Told of each change and failure.
 * @param totals Where they are counted.
 * @param run What the sync has tried.
 * @returns The two callbacks.
 *
 * @example
 * ```ts
 * import { counting, SyncRun } from "./apply_many.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const totals = { sent: 0, new: 0, changed: 0, deleted: 0, bytes: 0, failed: 0, notTried: 0 };
 * const tally = counting({ direction: "pull" }, totals, new SyncRun());
 * tally.onDone({ kind: "changed", relative: "big.bin" }, { size: 16 << 20 }, 1 << 20);
 * deepEqual([totals.sent, totals.changed, totals.bytes], [1, 1, 1 << 20]);
 * ```
 */
export function counting(options: ApplyOptions, totals: SyncTotals, run: SyncRun): {
  onDone(
    file: { kind: "new" | "changed"; relative: string },
    result: Pick<BodyResult, "size">,
    moved?: number,
  ): void;
  onError(file: { relative: string }, e: BftpError): void;
} {
  return {
    onDone: ({ kind, relative }, { size }, moved = size) => {
      run.finished(relative);
      totals.sent++;
      totals[kind]++;
      totals.bytes += moved;
      options.onChange?.({ kind, relative, folder: false, size });
    },
    onError: (file: { relative: string }, e: BftpError) => {
      // Once a disk is full, the files already on their way that it refuses too (a push's
      // batches in flight, answered NO_SPACE one by one) are not tried, as those not sent.
      if (run.stopped && isDiskFull(e)) return;
      run.finished(file.relative, e);
      totals.failed++;
      options.onError?.(file.relative, e);
    },
  };
}

/**
 * Pulls small files by MGET (`downloadMany`), with their times and modes,
 * counting each that lands and telling each that fails.
 *
 * @param client The session.
 * @param sends The files.
 * @param options Progress and the callbacks.
 * @param totals Where each file that lands is counted.
 * @param local The landing thread, the names in a local folder from its listing, and what
 *   the sync has tried (no batch starts once a disk is full).
 *
 * @example
 * ```ts
 * import { pullMany, SyncRun } from "./apply_many.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/served/a.txt`, "hi");
 * await Deno.utime(`${dir}/served/a.txt`, new Date(), new Date(1_000_000_000_000));
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const file = { local: `${dir}/a.txt`, remote: "/a.txt", relative: "a.txt", size: 2 };
 * const totals = { sent: 0, new: 0, changed: 0, deleted: 0, bytes: 0, failed: 0, notTried: 0 };
 * const local = { lander: undefined, folderOf: () => undefined, run: new SyncRun() };
 * await pullMany(client, [{ kind: "new", file }], { direction: "pull" }, totals, local);
 * deepEqual([totals.sent, totals.new, totals.bytes], [1, 1, 2]);
 * deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * deepEqual((await Deno.stat(`${dir}/a.txt`)).mtime?.getTime(), 1_000_000_000_000);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pullMany(
  client: BftpClient,
  sends: readonly SyncSend[],
  options: ApplyOptions,
  totals: SyncTotals,
  local: {
    lander: Lander | undefined;
    folderOf: (local: string) => ReadonlySet<string> | undefined;
    run: SyncRun;
    tree?: LocalTree | undefined;
  },
): Promise<void> {
  const files = sends.map((s) => ({ ...s.file, kind: s.kind }));
  await downloadMany(client, files, {
    preserve: true,
    progress: options.progress,
    onFile: options.onFile,
    lander: local.lander,
    tree: local.tree,
    present: (file) => local.folderOf(file.local),
    beforeLanding: (file, reply) => stillTheSame(client, file.remote)(reply),
    stopped: () => local.run.stopped,
    ...counting(options, totals, local.run),
  });
}
