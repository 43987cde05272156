/**
 * The small files of an upload (a tree, a pushing sync) in batches: each
 * batch is read whole into memory, then sent as one MPUT request with the
 * bodies right behind it (feature `"mput"`, `many_transfers.ts`), and the
 * server answers each file as its eager PUT: stored atomically once its
 * checksum checks out, and with the server's group commit when it flushes
 * to disk. One file that cannot be read, or that the server refuses, is
 * told and the others go on.
 *
 * @module
 */

import { BftpError, IntegrityError, localIoError, UnexpectedEofError } from "../errors.ts";
import { readFull } from "../framing/read_exact.ts";
import type { BftpClient } from "./client.ts";
import type { LocalTransferOptions } from "./local_options.ts";
import type { PlannedEntry } from "./tree_plan.ts";
import { batchesOf, MANY_BATCH, MANY_FILE_MAX, type ManyPutFile } from "./many_transfers.ts";
import { openSourceFile, openSourceFileNow, type SourceFile } from "./source_file.ts";
import { TaskWindow } from "./window.ts";
import { BodySlab } from "../transfer/body_buffer.ts";
import type { BodyResult } from "../transfer/body.ts";

/**
 * A file of {@linkcode uploadMany}: a plan's entry, with its listed size
 * when known (none looked up: `unsized`, as `PlannedFile`'s), and whether
 * the walk reached it through a link (`PlannedFile`'s `link`).
 */
export type ManyUpload = PlannedEntry & {
  size?: number | undefined;
  unsized?: true | undefined;
  link?: boolean | undefined;
};

/**
 * The largest file of unknown size (`unsized`) a batch takes: one found
 * larger when opened goes to `UploadManyOptions.sendAlone`, so that three
 * batches in flight stay within {@linkcode MPUT_HELD_BYTES}.
 */
export const UNSIZED_FILE_MAX = 64 << 10;

/** The most bytes of small files an upload holds read, in the batches in flight and the next. */
export const MPUT_HELD_BYTES = 16 << 20;

/**
 * How many MPUT batches an upload keeps in flight: three when that many and
 * the one being read hold at most {@linkcode MPUT_HELD_BYTES} (files of up
 * to 64 KiB; a file of unknown size counts as the largest a batch takes),
 * else two. A 5,000-file push to a `--no-fsync` server on ext4, 8
 * interleaved runs: 360 ms with two batches, 338 with three, 347 with four
 * (earlier runs of two against four: 443 -> 357, 410 -> 375); the client's
 * peak RSS (tmpfs, 2 runs each) 85-94 MB with two, 89-95 with three,
 * 99-102 with four. To an fsyncing server, four against two measured
 * within noise (758 against 733 ms); eight against three, 15 runs to a
 * `--no-fsync` server on tmpfs: 245 against 246 ms (downloads keep more in
 * flight: `MGET_BATCHES` in many_downloads.ts).
 *
 * @param files The files, with their listed sizes.
 * @returns The batches in flight.
 *
 * @example
 * ```ts
 * import { mputBatches } from "./many_uploads.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(mputBatches([{ size: 4096 }]), 3);
 * equal(mputBatches([{ size: 4096 }, { size: 256 << 10 }]), 2);
 * equal(mputBatches([{ size: 0, unsized: true }]), 3);
 * ```
 */
export function mputBatches(
  files: readonly { size?: number | undefined; unsized?: true | undefined }[],
): number {
  let largest = 0;
  for (const file of files) {
    largest = Math.max(largest, file.unsized ? UNSIZED_FILE_MAX : file.size ?? MANY_FILE_MAX);
  }
  return largest * MANY_BATCH * 4 <= MPUT_HELD_BYTES ? 3 : 2;
}

/** Options for {@linkcode uploadMany}. */
export interface UploadManyOptions<T extends ManyUpload>
  extends Pick<LocalTransferOptions, "progress" | "onFile" | "preserve"> {
  /** Told each file the server stored. */
  onDone?: ((file: T, result: BodyResult) => void) | undefined;
  /** Told each file that failed (the others go on). */
  onError: (file: T, error: BftpError) => void;
  /** Asked before each batch: `true` starts no more (a sync stops at a full disk). */
  stopped?: (() => boolean) | undefined;
  /**
   * Given each file found too large for a batch when opened (an `unsized`
   * one over {@linkcode UNSIZED_FILE_MAX}, another grown past
   * `MANY_FILE_MAX` since it was listed), for the caller to send alone: it
   * is neither read nor told here. Without it, every file is read whole and
   * sent here, whatever its size.
   */
  sendAlone?: ((file: T) => void) | undefined;
}

/** What {@linkcode readWhole} gives for a file too large for a batch (`sendAlone`). */
const TOO_LARGE = Symbol("too large for a batch");

/** The largest file a batch reads whole, for `sendAlone`; any size without it. */
function batchMost(file: ManyUpload, alone: boolean): number {
  return !alone ? Infinity : file.unsized ? UNSIZED_FILE_MAX : MANY_FILE_MAX;
}

/**
 * Whether an upload should send `file` by MPUT: the server offers it, the
 * file is small, and the upload is not resumable.
 *
 * @param client The session.
 * @param size The file's listed size.
 * @param options The upload's options.
 * @returns Whether to send it by MPUT.
 *
 * @example
 * ```ts
 * import { byMput } from "./many_uploads.ts";
 * import { equal } from "node:assert/strict";
 *
 * const client = { supports: (f: string) => f === "mput" } as never;
 * equal(byMput(client, 4096, {}), true);
 * equal(byMput(client, 1 << 30, {}), false);
 * ```
 */
export function byMput(client: BftpClient, size: number, options: LocalTransferOptions): boolean {
  return size <= MANY_FILE_MAX && !options.resume && client.supports("mput");
}

/**
 * Reads a small local file whole, with what `-p` keeps; a file that is not
 * a regular file, or that changed while it was read, is refused. At once
 * (no promise) where libc opens it ({@linkcode openSourceFileNow}).
 */
function readWhole(
  file: ManyUpload,
  preserve: boolean,
  slab: BodySlab,
  most: number,
): ManyPutFile | typeof TOO_LARGE | Promise<ManyPutFile | typeof TOO_LARGE> {
  const { local, remote } = file;
  // A file of the tree's walk: listed as a regular file just now (not through a link, unless
  // the walk followed one: a link put in its place since is refused).
  const noLink = file.link !== true;
  let opened;
  try {
    opened = openSourceFileNow(local, true, noLink);
  } catch (e) {
    throw localIoError("read", local, e);
  }
  if (opened === null) {
    // Not libc's to open (another OS, a file grown past its reads): Deno's own file, not a
    // second try through libc.
    return openSourceFile(local, true, true, noLink).then(
      (o) => readOpened(o, local, remote, preserve, slab, most),
      (e) => {
        throw localIoError("read", local, e);
      },
    );
  }
  return readOpened(opened, local, remote, preserve, slab, most);
}

/**
 * Reads the opened file whole (and closes it); at once where it has
 * `fill`. One larger than `most` bytes is closed unread: `TOO_LARGE`.
 */
function readOpened(
  opened: SourceFile,
  local: string,
  remote: string,
  preserve: boolean,
  slab: BodySlab,
  most: number,
): ManyPutFile | typeof TOO_LARGE | Promise<ManyPutFile> {
  const { facts } = opened;
  let data: Uint8Array;
  try {
    if (facts.type !== "file") throw localIoError("read", local, new Error("not a regular file"));
    if (facts.size > most) {
      opened.close();
      return TOO_LARGE;
    }
    data = slab.take(facts.size);
  } catch (e) {
    opened.close();
    throw e;
  }
  const done = (whole: boolean): ManyPutFile => {
    // Shorter than it was when opened: it changed, as a different time or size says.
    if (!whole || !opened.unchanged()) {
      throw new IntegrityError(
        `"${local}" changed while it was read: it was not sent; send it again`,
      );
    }
    return {
      path: remote,
      data,
      mtime: preserve ? facts.mtime : null,
      mode: preserve ? facts.mode : null,
      // A new file on the server gets the source's bits (less its umask), as scp gives them.
      newMode: facts.mode,
    };
  };
  const failed = (e: unknown): never => {
    slab.give(data);
    throw e;
  };
  let whole: boolean | Promise<boolean>;
  try {
    whole = readInto(opened, data, local);
  } catch (e) {
    opened.close();
    return failed(e);
  }
  if (typeof whole !== "boolean") {
    return whole.then(done).catch(failed).finally(() => opened.close());
  }
  try {
    return done(whole);
  } catch (e) {
    return failed(e);
  } finally {
    opened.close();
  }
}

/** Reads all of `data` from the opened file; whether the file had all of it. */
function readInto(opened: SourceFile, data: Uint8Array, local: string): Promise<boolean> | boolean {
  if (opened.fill) return fillSource(opened, data, local);
  return readFull(opened.reader(), data).then(() => true, (e) => {
    if (e instanceof UnexpectedEofError) return false;
    throw localIoError("read", local, e);
  });
}

/** Fills `data` by the file's `fill`; whether the file had all of it. */
function fillSource(opened: SourceFile, data: Uint8Array, local: string): boolean {
  try {
    return opened.fill!(data) === data.byteLength;
  } catch (e) {
    throw localIoError("read", local, e);
  }
}

/**
 * Uploads `files` in MPUT batches, two or three in flight
 * ({@linkcode mputBatches}): each batch is read into memory (at most
 * `MANY_BATCH` files of at most `MANY_FILE_MAX` bytes), then sent. Only for a server that offers `"mput"` (see
 * {@linkcode byMput}); the remote folders must exist.
 *
 * @param client A connected client.
 * @param files The files.
 * @param options Where each file's outcome is told, progress, `-p`.
 * @throws {BftpError} When the session breaks (the files not yet done are not told).
 *
 * @example
 * ```ts
 * import { uploadMany } from "./many_uploads.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const failed: string[] = [];
 * await uploadMany(client, [
 *   { local: `${dir}/a.txt`, remote: "/a.txt", relative: "a.txt" },
 *   { local: `${dir}/none`, remote: "/none", relative: "none" },
 * ], { onError: (file, e) => failed.push(`${file.relative}: ${e.code}`) });
 * deepEqual(await Deno.readTextFile(`${dir}/served/a.txt`), "hi");
 * deepEqual(failed, ["none: LOCAL_IO"]);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function uploadMany<T extends ManyUpload>(
  client: BftpClient,
  files: readonly T[],
  options: UploadManyOptions<T>,
): Promise<void> {
  // Batches in flight while the client reads and sends the next: the server stores them.
  const running = new TaskWindow({ limit: mputBatches(files) });
  // The files' bytes are read into shared slabs, not a buffer each (as a download's bodies).
  const slab = new BodySlab();
  try {
    for (const batch of batchesOf(files, (f) => f.remote)) {
      if (options.stopped?.()) break;
      const read: { file: T; put: ManyPutFile }[] = [];
      for (const file of batch) {
        try {
          const most = batchMost(file, options.sendAlone !== undefined);
          const now = readWhole(file, !!options.preserve, slab, most);
          const put = now instanceof Promise ? await now : now;
          if (put === TOO_LARGE) options.sendAlone!(file);
          else read.push({ file, put });
        } catch (e) {
          if (!(e instanceof BftpError)) throw e;
          options.onError(file, e);
        }
      }
      // Sent, the batch's bytes are copied out (and each file answered): its pieces go back.
      const giveBack = () => read.forEach(({ put }) => slab.give(put.data));
      if (read.length > 0) await running.add(() => sendBatch(client, read, options).then(giveBack));
    }
  } finally {
    await running.settle();
  }
  await running.drain();
}

/** One MPUT of files read already; each outcome told. */
async function sendBatch<T extends ManyUpload>(
  client: BftpClient,
  read: readonly { file: T; put: ManyPutFile }[],
  options: UploadManyOptions<T>,
): Promise<void> {
  const transfers = read.map(({ file, put }) => {
    const transfer = options.progress?.(file.relative, put.data.byteLength) ?? {};
    transfer.onStart?.(put.data.byteLength);
    return transfer;
  });
  await client.putMany(read.map((r) => r.put), true, (i, outcome) => {
    const { file } = read[i]!;
    if (!("size" in outcome)) return options.onError(file, outcome);
    transfers[i]!.onProgress?.(outcome.size);
    options.onFile?.(file.remote, file.local, outcome);
    options.onDone?.(file, outcome);
  });
}
