/**
 * The server's side of a delta PUT (feature `"blocks"`): the new file is
 * made of the target's own blocks where they are the same (`reuse`) and
 * the body's bytes elsewhere, written beside the target and renamed over
 * it once the whole new file hashes to the checksum the client announced
 * (`whole`). A target that is no longer the `base` version is refused
 * (CHANGED) before anything is written.
 *
 * @module
 */

import { createChecksum, type RunningHash } from "../checksum.ts";
import { RemoteError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import type { PutRequest } from "../protocol/messages.ts";
import { putDoneFields } from "../protocol/replies.ts";
import { quotePath } from "../root/paths.ts";
import type { OpenedFile } from "../root/served_root.ts";
import { receiveBody } from "../transfer/body.ts";
import type { HandlerContext } from "./handler_context.ts";

/** A byte range `[start, end)` of the new file taken from the base. */
type Range = [number, number];

/**
 * The byte ranges of the new file that `reuse` takes from the base, in
 * order: each block within both files, runs ascending and apart.
 *
 * @param req The delta PUT (its `size`, `blockSize` and `reuse`).
 * @param baseSize The base's size.
 * @param vpath The target, for messages.
 * @returns The ranges.
 * @throws {RemoteError} BAD_REQUEST when a run is out of order or out of either file.
 *
 * @example
 * ```ts
 * import { reusedRanges } from "./put_delta.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const req = { op: "PUT", path: "a", size: 10_000, overwrite: true, blockSize: 4096, reuse: [0, 1, 2, 1] } as const;
 * deepEqual(reusedRanges({ ...req, reuse: [0, 1, 2, 1] }, 10_000, "/a"), [[0, 4096], [8192, 10_000]]);
 * ```
 */
export function reusedRanges(req: PutRequest, baseSize: number, vpath: string): Range[] {
  const size = req.size!, block = req.blockSize!, reuse = req.reuse!;
  const blocks = Math.ceil(size / block);
  const ranges: Range[] = [];
  let next = 0;
  for (let i = 0; i < reuse.length; i += 2) {
    const first = reuse[i]!, count = reuse[i + 1]!;
    const end = Math.min((first + count) * block, size);
    if (count === 0 || first < next || first + count > blocks || end > baseSize) {
      throw new RemoteError(
        "BAD_REQUEST",
        `Blocks ${first} to ${first + count - 1} cannot be reused for ${quotePath(vpath)}`,
      );
    }
    ranges.push([first * block, end]);
    next = first + count;
  }
  return ranges;
}

/**
 * Answers a delta PUT to `vpath` (already resolved and checked writable).
 *
 * @param context The session.
 * @param vpath The target.
 * @param req The request, with `base`, `blockSize`, `reuse` and `whole`.
 * @returns The bytes the body brought.
 *
 * @example
 * ```ts ignore
 * const got = await putDelta(context, "/a.bin", req);
 * ```
 */
export async function putDelta(
  context: HandlerContext,
  vpath: string,
  req: PutRequest,
): Promise<number> {
  const base = await context.root.openRead(vpath);
  try {
    const { size: baseSize, mtime } = base;
    const expect = req.base!;
    if (expect.size !== baseSize || (expect.mtime !== null && expect.mtime !== mtime)) {
      throw new RemoteError(
        "CHANGED",
        `${quotePath(vpath)} has changed: it is not the base version`,
      );
    }
    const ranges = reusedRanges(req, baseSize, vpath);
    const literal = req.size! - ranges.reduce((n, [start, end]) => n + end - start, 0);
    const upload = await context.root.beginUpload(vpath, req.overwrite, context.folders);
    let committed = false;
    try {
      if (!req.eager) await context.reply({ ready: true });
      const hash = await createChecksum(context.checksum);
      const out = new Assembler(upload.sink, base, ranges, hash);
      context.setInBody(true);
      const got = await receiveBody(context.reader, out, {
        expectedSize: literal,
        checksum: context.checksum,
        label: vpath,
      });
      context.setInBody(false);
      await out.finish();
      committed = await commit(context, upload, req, hash.digest(), vpath);
      return got.size;
    } finally {
      if (!committed) await upload.abort();
    }
  } finally {
    base.close();
  }
}

/** Lands the assembled file if it hashes to `whole`; true once the session or the commit has it. */
async function commit(
  context: HandlerContext,
  upload: Awaited<ReturnType<HandlerContext["root"]["beginUpload"]>>,
  req: PutRequest,
  digest: string,
  vpath: string,
): Promise<boolean> {
  if (digest !== req.whole) {
    throw new RemoteError(
      "INTEGRITY",
      `The file made for ${
        quotePath(vpath)
      } is not the one announced (checksum ${digest}, not ${req.whole})`,
    );
  }
  const attributes = { mtime: req.mtime, mode: req.mode };
  const reply = putDoneFields(req.size!, context.checksum, digest);
  if (req.eager && await context.commitLater(upload, attributes, reply)) return true;
  await upload.commit(attributes);
  await context.reply(reply);
  return true;
}

/**
 * The new file, written in order: the body's bytes where they go, and
 * before each reused range reaches the writing point, the base's bytes
 * for it; the whole hashed as it is written.
 */
class Assembler implements ByteWriter {
  #out: ByteWriter;
  #base: OpenedFile;
  #ranges: Range[];
  #hash: RunningHash;
  #pos = 0;
  #next = 0;
  #buf: Uint8Array | null = null;

  constructor(out: ByteWriter, base: OpenedFile, ranges: Range[], hash: RunningHash) {
    this.#out = out;
    this.#base = base;
    this.#ranges = ranges;
    this.#hash = hash;
  }

  async write(chunk: Uint8Array): Promise<number> {
    let at = 0;
    while (at < chunk.length) {
      await this.#copyDue();
      const limit = this.#ranges[this.#next]?.[0] ?? Infinity;
      const n = Math.min(chunk.length - at, limit - this.#pos);
      await this.#emit(chunk.subarray(at, at + n));
      at += n;
    }
    return chunk.length;
  }

  /** Copies what is left of the base's ranges, once the body is over. */
  async finish(): Promise<void> {
    await this.#copyDue();
  }

  /** Copies the reused ranges that start where the new file has got to. */
  async #copyDue(): Promise<void> {
    while (this.#ranges[this.#next]?.[0] === this.#pos) {
      const [start, end] = this.#ranges[this.#next++]!;
      await this.#base.file.seek(start, Deno.SeekMode.Start);
      this.#buf ??= new Uint8Array(1 << 20);
      for (let left = end - start; left > 0;) {
        const n = await this.#base.file.read(
          this.#buf.subarray(0, Math.min(left, this.#buf.length)),
        );
        if (n === null) throw new RemoteError("CHANGED", "The base file shrank while it was read");
        await this.#emit(this.#buf.subarray(0, n));
        left -= n;
      }
    }
  }

  async #emit(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    await writeAll(this.#out, bytes);
    this.#pos += bytes.length;
  }
}
