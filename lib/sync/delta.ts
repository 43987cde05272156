/**
 * A changed large file moved as a delta (feature `"blocks"`), as rsync
 * sends only the blocks that changed: both sides hash the file in blocks
 * at the same place (BLOCKS on the server, `hashBlocks` here), and only
 * the blocks that differ move. A pull fetches them as ranges and makes the
 * new file beside the old one from the old one's blocks and theirs; a push
 * sends them in a PUT that tells the server which of its blocks to keep.
 * Either way the new file lands atomically and only when it hashes to the
 * source's checksum; a source that changed meanwhile is refused (CHANGED,
 * INTEGRITY) and nothing lands. Blocks are compared where they stand, not
 * searched for elsewhere (rsync's rolling checksum): bytes inserted or
 * removed shift every block after them, and that file goes whole.
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import type { RemoteBlocks } from "../client/block_transfers.ts";
import { createChecksum, DIGEST_BYTES } from "../checksum.ts";
import { IntegrityError, localIoError } from "../errors.ts";
import { type BlockHashes, blockSpan, hashBlocks } from "../file_hash.ts";
import { copyRange } from "../framing/file_reader.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { MAX_BLOCK_SIZE, MAX_REUSE_NUMBERS } from "../protocol/limits.ts";
import { AtomicFile } from "../local_file/atomic_file.ts";
import type { LocalTree } from "../local_file/local_tree.ts";
import type { BodyResult } from "../transfer/body.ts";
import { openListedFile } from "../client/source_file.ts";

/** The smallest file worth a delta: below it, the round trips cost more than the bytes. */
export const DELTA_MIN = 1 << 20;

/** The part of a file that may differ for a delta to be worth it; past it, the file goes whole. */
const DELTA_MAX_CHANGED = 0.5;

/**
 * The block size of a delta of a file of `size` bytes: 64 KiB, doubled
 * until the file has at most 4,096 blocks.
 *
 * @param size The larger of the two copies' sizes.
 * @returns The block size.
 *
 * @example
 * ```ts
 * import { deltaBlockSize } from "./delta.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([16 << 20, 1 << 30].map(deltaBlockSize), [65536, 262144]);
 * ```
 */
export function deltaBlockSize(size: number): number {
  let block = 64 * 1024;
  while (Math.ceil(size / block) > 4096 && block < MAX_BLOCK_SIZE) block *= 2;
  return block;
}

/**
 * Whether a changed file goes by delta: a server that offers it, and both
 * copies at least {@linkcode DELTA_MIN} bytes.
 *
 * @param client The session.
 * @param sizes The two copies' sizes.
 * @returns Whether to try.
 *
 * @example
 * ```ts
 * import { byDelta } from "./delta.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(byDelta({ supports: () => true } as never, 1 << 20, 2 << 20), true);
 * equal(byDelta({ supports: () => true } as never, 1 << 20, 1000), false);
 * ```
 */
export function byDelta(client: BftpClient, ...sizes: number[]): boolean {
  return client.supports("blocks") && sizes.every((size) => size >= DELTA_MIN);
}

/** Whether block `i` is the same on both sides: the same length and digest. */
function sameBlock(
  a: BlockHashes | RemoteBlocks,
  aSize: number,
  b: BlockHashes | RemoteBlocks,
  bSize: number,
  i: number,
  length: number,
): boolean {
  const block = a.blockSize;
  if (i >= a.count || i >= b.count) return false;
  if (Math.min((i + 1) * block, aSize) !== Math.min((i + 1) * block, bSize)) return false;
  const x = a.digests.subarray(i * length, (i + 1) * length);
  const y = b.digests.subarray(i * length, (i + 1) * length);
  return x.every((v, k) => v === y[k]);
}

/** A run of blocks that are all the same on both sides, or all differ. */
interface Run {
  first: number;
  count: number;
  same: boolean;
}

/** The `count` blocks of a file as runs, in order, each the same on both sides or not. */
function runsOf(count: number, same: (i: number) => boolean): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < count; i++) {
    const kept = same(i);
    const last = runs.at(-1);
    if (last?.same === kept) last.count++;
    else runs.push({ first: i, count: 1, same: kept });
  }
  return runs;
}

/** The bytes that `runs` cover in a file of `size` bytes. */
function bytesOf(runs: Run[], blockSize: number, size: number): number {
  return runs.reduce((n, r) => {
    const [start, end] = blockSpan(r.first, r.count, blockSize, size);
    return n + end - start;
  }, 0);
}

/** Both copies' blocks, hashed at the same size, and which of them are the same. */
interface BothSides {
  theirs: RemoteBlocks;
  mine: BlockHashes;
  localSize: number;
  /** Whether block `i` is the same in both: the same length and digest. */
  same(i: number): boolean;
}

/**
 * Hashes both copies in blocks: the server's (BLOCKS) and the local one,
 * with `whole` (a push, which announces it) the local file as a whole too;
 * `null` when either is under {@linkcode DELTA_MIN}.
 */
async function bothSides(
  client: BftpClient,
  local: string,
  remote: string,
  whole: boolean,
  shown = local,
  open: (path: string) => Deno.FsFile | Promise<Deno.FsFile> = (path) => Deno.open(path),
): Promise<BothSides | null> {
  const localSize =
    (await Deno.stat(local).catch((e) => Promise.reject(localIoError("read", shown, e)))).size;
  if (localSize < DELTA_MIN) return null;
  // The local copy is hashed while the server hashes its own, at the size asked for (a reply
  // at another size is refused: `checkBlocksReply`).
  const blockSize = deltaBlockSize(localSize);
  const [theirs, mine] = await Promise.all([
    client.blocks(remote, blockSize),
    localBlocks({ path: local, shown, open }, localSize, blockSize, client.checksum, whole),
  ]);
  if (theirs.size < DELTA_MIN) return null;
  const length = DIGEST_BYTES[client.checksum];
  return {
    theirs,
    mine,
    localSize,
    same: (i) => sameBlock(theirs, theirs.size, mine, localSize, i, length),
  };
}

/** A file's blocks hashed locally, and with `whole` (a push's) the whole file. */
async function localBlocks(
  local: {
    path: string;
    shown: string;
    open: (path: string) => Deno.FsFile | Promise<Deno.FsFile>;
  },
  size: number,
  blockSize: number,
  checksum: BftpClient["checksum"],
  whole: boolean,
) {
  using file = await Promise.resolve().then(() => local.open(local.path)).catch((e) =>
    Promise.reject(localIoError("read", local.shown, e))
  );
  return await hashBlocks(file, size, blockSize, checksum, whole);
}

/** What a delta pull gives the new file (`sync`'s `preserve`). */
export interface PulledAttributes {
  /** The modification time, or `null` to leave it. */
  mtime: number | null;
  /** The permission bits, or `null` to keep the old file's. */
  mode: number | null;
}

/**
 * Pulls the remote file over its older local copy, fetching only the
 * blocks that differ.
 *
 * @param client The session (its server offers `"blocks"`).
 * @param remote The remote file.
 * @param local The local copy, replaced atomically.
 * @param attributes The time and bits to give the new file.
 * @param tree The sync's local tree `local` is in, if held: the new file is made relative to its folder.
 * @returns The bytes fetched, the file's size and checksum, or `null` when
 *   too much differs or the local copy is small (the caller sends it whole).
 * @throws {RemoteError} CHANGED when the remote file changed meanwhile (nothing lands).
 *
 * @example
 * ```ts ignore
 * const fetched = await pullDelta(client, "/big.bin", "./big.bin", { mtime, mode });
 * ```
 */
export async function pullDelta(
  client: BftpClient,
  remote: string,
  local: string,
  attributes: PulledAttributes,
  tree?: LocalTree,
): Promise<{ fetched: number; result: BodyResult } | null> {
  // In a tree, the old copy is read through its folder's own descriptor, as the new one is made.
  using held = tree?.throughFolder(local);
  const source = held?.path ?? local;
  const both = await bothSides(client, source, remote, false, local);
  if (both === null) return null;
  const { theirs } = both;
  const { blockSize } = theirs;
  const runs = runsOf(theirs.count, both.same);
  const fetched = bytesOf(runs.filter((r) => !r.same), blockSize, theirs.size);
  if (fetched > theirs.size * DELTA_MAX_CHANGED) return null;
  const out = await AtomicFile.create(local, { tree });
  try {
    const hash = await createChecksum(client.checksum);
    const sink: ByteWriter = {
      write: async (p) => {
        hash.update(p);
        return await out.write(p);
      },
    };
    using old = await Deno.open(source);
    const buf = new Uint8Array(1 << 20);
    const expect = { size: theirs.size, mtime: theirs.mtime };
    for (const run of runs) {
      const [offset, end] = blockSpan(run.first, run.count, blockSize, theirs.size);
      const range = { offset, length: end - offset };
      if (!run.same) await client.getRange(remote, { ...range, expect }, sink);
      else if (await copyRange(old, range, sink, buf) < range.length) {
        throw new IntegrityError("The local file shrank while it was read");
      }
    }
    const digest = hash.digest();
    if (digest !== theirs.hash) {
      throw new IntegrityError(
        `The file made for "${local}" is not the remote one (checksum ${digest}, not ${theirs.hash})`,
      );
    }
    await out.commit(attributes);
    return { fetched, result: { size: theirs.size, checksum: client.checksum, hash: digest } };
  } catch (e) {
    await out.discard();
    throw e;
  }
}

/**
 * Pushes the local file over its older remote copy, sending only the
 * blocks that differ.
 *
 * @param client The session (its server offers `"blocks"`).
 * @param local The local file.
 * @param remote The remote copy, replaced atomically by the server.
 * @param attributes The time and bits to give it (`put -p`).
 * @param noLink Whether a link put in the file's place since its listing is refused (a file the
 *   walk listed as a plain file), rather than followed.
 * @returns The bytes sent, and the file's size and checksum as the server
 *   confirmed them, or `null` when too much differs or the remote copy is
 *   small (the caller sends it whole).
 * @throws {RemoteError} CHANGED when the remote file changed meanwhile, INTEGRITY when the local one did.
 *
 * @example
 * ```ts ignore
 * const sent = await pushDelta(client, "./big.bin", "/big.bin", { mtime, mode });
 * ```
 */
export async function pushDelta(
  client: BftpClient,
  local: string,
  remote: string,
  attributes: { mtime?: number | undefined; mode?: number | undefined },
  noLink = false,
): Promise<{ sent: number; result: BodyResult } | null> {
  // The plain file the walk listed: never through a link put there since (noLink), nor a FIFO.
  const open = (path: string) => openListedFile(path, noLink);
  const both = await bothSides(client, local, remote, true, local, open);
  if (both === null) return null;
  const { theirs, mine, localSize } = both;
  const { blockSize } = theirs;
  const runs = runsOf(mine.count, both.same);
  const reuse = runs.filter((r) => r.same).flatMap((r) => [r.first, r.count]);
  const literalRuns = runs.filter((r) => !r.same);
  const sent = bytesOf(literalRuns, blockSize, localSize);
  if (sent > localSize * DELTA_MAX_CHANGED || reuse.length > MAX_REUSE_NUMBERS) return null;
  let opened: Deno.FsFile;
  try {
    opened = open(local);
  } catch (e) {
    throw localIoError("read", local, e);
  }
  using file = opened;
  const source = literalReader(file, literalRuns, blockSize, localSize);
  const result = await client.putDelta(remote, source, sent, {
    size: localSize,
    base: { size: theirs.size, mtime: theirs.mtime },
    blockSize,
    reuse,
    whole: mine.whole!,
    ...attributes,
  });
  return { sent, result };
}

/** The bytes of `runs` of blocks of `file`, one after the other. */
function literalReader(
  file: Deno.FsFile,
  runs: Run[],
  blockSize: number,
  size: number,
): ByteReader {
  let run = 0;
  let left = 0;
  return {
    read: async (p) => {
      while (left === 0) {
        if (run >= runs.length) return null;
        const { first, count } = runs[run++]!;
        const [start, end] = blockSpan(first, count, blockSize, size);
        await file.seek(start, Deno.SeekMode.Start);
        left = end - start;
      }
      const n = await file.read(p.subarray(0, Math.min(p.length, left)));
      if (n === null) throw new IntegrityError("The local file shrank while it was sent");
      left -= n;
      return n;
    },
  };
}
