/**
 * The small files of a download (a tree, a pull) in batches: one MGET
 * request names many files, and the server answers each as its GET (feature
 * `"mget"`, `transfers.ts`). Per file the session then does no request of
 * its own, no turn to wait for and no task in a window: a 5,000-file tree
 * is about 80 requests. Each file lands as any download's does
 * (`LandingFile`, on the landing thread when there is one): verified, then
 * atomically under its name; one that fails is told and the others go on.
 *
 * @module
 */

import { basename } from "../local_path.ts";
import { BftpError, LocalIoError, localIoError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import type { Lander } from "../local_file/lander.ts";
import { LandingFile } from "../local_file/landing_file.ts";
import { landWhole, landWholeNow, type LandWholeOptions } from "../local_file/land_whole.ts";
import type { ServerAttributes } from "../local_file/attributes.ts";
import type { GetReply } from "../protocol/replies.ts";
import type { BodyResult } from "../transfer/body.ts";
import { BodySlab } from "../transfer/body_buffer.ts";
import type { BftpClient, TransferOptions } from "./client.ts";
import { dropStalePartial } from "./local.ts";
import { batchesOf, MANY_FILE_MAX } from "./many_transfers.ts";
import type { LocalTransferOptions } from "./local_options.ts";
import type { PlannedEntry } from "./tree_plan.ts";
import { TaskWindow } from "./window.ts";

/**
 * How many MGET batches a download keeps in flight. The server answers
 * them in order while the client lands what came, so more in flight costs
 * the client little (it holds nothing of a batch but what lands: a 20,000
 * file pull peaked at 92-99 MB against 82-88 with two) and the server no
 * more than its socket's buffers; but with two, each batch's
 * request reached the server only once the client had landed the batch
 * before the last, and the server, quicker per file, waited between them.
 * A 5,000-file pull on tmpfs, 20 interleaved runs: 240 ms with 2, 217 with
 * 8, 221 with 16 and 222 with 32 (rsync's daemon 207 in the same runs).
 */
export const MGET_BATCHES = 8;

/** Options for {@linkcode downloadMany}. */
export interface DownloadManyOptions<T extends PlannedEntry>
  extends Pick<LocalTransferOptions, "progress" | "onFile" | "preserve" | "tree"> {
  /** The thread small bodies land on, if any. */
  lander?: Lander | undefined;
  /** The names in a file's folder from a listing just made (see `downloadTreeFile`). */
  present?: ((file: T) => ReadonlySet<string> | undefined) | undefined;
  /**
   * Called once a file's body has arrived and checked out, before it lands
   * (`sync` asks the server whether a large one changed meanwhile); a throw
   * fails the file.
   */
  beforeLanding?: ((file: T, reply: GetReply) => Promise<void>) | undefined;
  /** Told each file that landed. */
  onDone?: ((file: T, result: BodyResult) => void) | undefined;
  /** Told each file that failed (the others go on). */
  onError: (file: T, error: BftpError) => void;
  /** Asked before each batch: `true` starts no more (a sync stops at a full disk). */
  stopped?: (() => boolean) | undefined;
}

/**
 * Whether a download should fetch `file` by MGET: the server offers it, the
 * file is small, and the download is not resumable.
 *
 * @param client The session.
 * @param size The file's listed size.
 * @param options The download's options.
 * @returns Whether to fetch it by MGET.
 *
 * @example
 * ```ts
 * import { byMget } from "./many_downloads.ts";
 * import { equal } from "node:assert/strict";
 *
 * const client = { supports: (f: string) => f === "mget" } as never;
 * equal(byMget(client, 4096, {}), true);
 * equal(byMget(client, 4096, { resume: true }), false);
 * ```
 */
export function byMget(client: BftpClient, size: number, options: LocalTransferOptions): boolean {
  return size <= MANY_FILE_MAX && !options.resume && client.supports("mget");
}

/** A body's sink that also reports progress. */
function reporting(out: LandingFile, transfer: TransferOptions): ByteWriter {
  return {
    write: async (p) => {
      const n = await out.write(p);
      transfer.onProgress?.(n);
      return n;
    },
  };
}

/**
 * Downloads `files` in MGET batches, a few batches in flight: each file is
 * verified, then lands atomically under its name (with the server's time
 * and bits with `preserve`). Only for a server that offers `"mget"` (see
 * {@linkcode byMget}).
 *
 * @param client A connected client.
 * @param files The files; their folders exist.
 * @param options Where each file's outcome is told, the lander, progress.
 * @throws {BftpError} When the session breaks (the files not yet done are not told).
 *
 * @example
 * ```ts
 * import { downloadMany } from "./many_downloads.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/served/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const failed: string[] = [];
 * await downloadMany(client, [
 *   { remote: "/a.txt", local: `${dir}/a.txt`, relative: "a.txt" },
 *   { remote: "/none", local: `${dir}/none`, relative: "none" },
 * ], { onError: (file, e) => failed.push(`${file.relative}: ${e.code}`) });
 * deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * deepEqual(failed, ["none: NOT_FOUND"]);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function downloadMany<T extends PlannedEntry>(
  client: BftpClient,
  files: readonly T[],
  options: DownloadManyOptions<T>,
): Promise<void> {
  const running = new TaskWindow({ limit: MGET_BATCHES });
  // Files handed to the landing thread, awaited once their batches are read.
  const landing: Promise<void>[] = [];
  // Small bodies are read into shared slabs, not a buffer each: in a profile of a 5,000-file
  // pull, the 12 ms of 4 KiB allocations went, and the collector's 45 ms became 31.
  const slab = new BodySlab();
  try {
    for (const batch of batchesOf(files, (f) => f.remote)) {
      if (options.stopped?.()) break;
      await running.add(() => fetchBatch(client, batch, { ...options, slab }, landing));
    }
  } finally {
    await running.settle();
    await Promise.all(landing);
  }
  await running.drain();
}

/** Where a file's body goes: held whole (a small one), or a landing file (one that grew). */
type Output = { data: Uint8Array } | { out: LandingFile };

/** Whether nothing is at `file`'s local path, as its folder's listing says. */
function absent<T extends PlannedEntry>(file: T, options: DownloadManyOptions<T>): boolean {
  const present = options.present?.(file);
  // An empty folder (one this download made): no name to take apart.
  return present !== undefined && (present.size === 0 || !present.has(basename(file.local)));
}

/** One MGET: each file's body held (or into its landing file), then landed (or told as failed). */
async function fetchBatch<T extends PlannedEntry>(
  client: BftpClient,
  batch: readonly T[],
  options: DownloadManyOptions<T> & { slab: BodySlab },
  landing: Promise<void>[],
): Promise<void> {
  const outputs: (Output | undefined)[] = [];
  const replies: GetReply[] = [];
  const fail = (file: T, e: unknown) => {
    if (!(e instanceof BftpError)) throw e;
    options.onError(file, e);
  };
  try {
    const transfers: TransferOptions[] = [];
    const start = (i: number, reply: GetReply) => {
      const transfer = options.progress?.(batch[i]!.relative, reply.size) ?? {};
      transfer.onStart?.(reply.size);
      transfers[i] = transfer;
      replies[i] = reply;
      return transfer;
    };
    await client.getMany(batch.map((f) => f.remote), {
      // A small body is read whole into memory, then landed in one go.
      hold: (i, reply) => {
        if (reply.size > MANY_FILE_MAX) return null;
        start(i, reply);
        const data = options.slab.take(reply.size);
        outputs[i] = { data };
        return data;
      },
      open: async (i, reply) => {
        const file = batch[i]!;
        const transfer = start(i, reply);
        const out = await LandingFile.open(file.local, {
          absent: absent(file, options),
          lander: options.lander,
          tree: options.tree,
        });
        outputs[i] = { out };
        return reporting(out, transfer);
      },
      done: (i, outcome) => {
        const file = batch[i]!;
        const output = outputs[i];
        outputs[i] = undefined;
        // Stopped meanwhile (a sync at a full disk): what was still on its way lands no more,
        // and is not tried (with 8 batches in flight, hundreds more files failed one by one).
        if (options.stopped?.() && output !== undefined) {
          if ("data" in output) options.slab.give(output.data);
          return "out" in output ? output.out.discard() : undefined;
        }
        if (!("size" in outcome) || output === undefined) {
          fail(file, outcome instanceof BftpError ? outcome : new LocalIoError(String(outcome)));
          if (output && "data" in output) options.slab.give(output.data);
          return output && "out" in output ? output.out.discard() : undefined;
        }
        if ("data" in output) transfers[i]?.onProgress?.(outcome.size);
        // Not awaited here: the next body is read while this one lands (a small one, at once),
        // unless too many are on their way to the landing thread.
        const landed = land(file, output, replies[i]!, outcome, options);
        // Landed (or failed), a held body's bytes are read no more: its piece goes back.
        const giveBack = () => "data" in output && options.slab.give(output.data);
        if (landed === undefined) giveBack();
        else landing.push(landed.catch((e) => fail(file, e)).finally(giveBack));
        return options.lander?.room();
      },
    });
  } finally {
    for (const output of outputs) if (output && "out" in output) await output.out.discard();
  }
}

/**
 * Lands one verified body under its name: a small one held whole at once,
 * where nothing is to be asked first and no landing thread runs (nothing
 * is returned), else by the promise returned. A failure is the file's.
 */
function land<T extends PlannedEntry>(
  file: T,
  output: Output,
  reply: GetReply,
  result: BodyResult,
  options: DownloadManyOptions<T>,
): Promise<void> | undefined {
  if ("data" in output && options.beforeLanding === undefined && !options.lander?.threaded) {
    let now: boolean;
    try {
      now = landWholeNow(file.local, output.data, heldLanding(file, reply, options));
    } catch (e) {
      return Promise.reject(landingError(file, e));
    }
    if (now) return landed(file, result, options);
  }
  return landLater(file, output, reply, result, options);
}

/** {@linkcode land}'s way with promises. */
async function landLater<T extends PlannedEntry>(
  file: T,
  output: Output,
  reply: GetReply,
  result: BodyResult,
  options: DownloadManyOptions<T>,
): Promise<void> {
  try {
    await options.beforeLanding?.(file, reply);
    if ("out" in output) await output.out.commit(options.preserve ? reply : null, reply.mode);
    else await landHeld(file, output.data, reply, options);
  } catch (e) {
    if ("out" in output) await output.out.discard().catch(() => {});
    throw landingError(file, e);
  }
  landed(file, result, options);
}

/** A landing's failure, as the file's. */
function landingError(file: PlannedEntry, e: unknown): BftpError {
  return e instanceof BftpError ? e : localIoError("write", file.local, e);
}

/** What follows a file's landing: a stale resume part goes, and the file is told. */
function landed<T extends PlannedEntry>(
  file: T,
  result: BodyResult,
  options: DownloadManyOptions<T>,
): undefined {
  dropStalePartial(file.local, options.present?.(file), options.tree);
  options.onFile?.(file.remote, file.local, result);
  options.onDone?.(file, result);
  return undefined;
}

/**
 * How a small body held whole lands: whether its name is free, its time
 * and bits (`-p`), and the server's bits for a new file.
 */
function heldLanding<T extends PlannedEntry>(
  file: T,
  reply: ServerAttributes,
  options: DownloadManyOptions<T>,
): LandWholeOptions & { absent: boolean } {
  return {
    absent: absent(file, options),
    mtime: options.preserve ? reply.mtime : null,
    mode: options.preserve ? reply.mode : null,
    newMode: reply.mode,
    // Timed for a lander still deciding whether to start its thread.
    onCreate: (ms) => options.lander?.observeCreate(ms),
    tree: options.tree,
  };
}

/** Lands a small body held whole: on the landing thread once it runs, else here in one go. */
async function landHeld<T extends PlannedEntry>(
  file: T,
  data: Uint8Array,
  reply: ServerAttributes,
  options: DownloadManyOptions<T>,
): Promise<void> {
  const { onCreate, tree, ...request } = heldLanding(file, reply, options);
  // The lander's thread holds the tree it was made with.
  if (options.lander?.threaded) {
    return await options.lander.land({ path: file.local, data, ...request });
  }
  await landWhole(file.local, data, { ...request, onCreate, tree });
}
