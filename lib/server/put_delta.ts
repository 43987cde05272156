/**
 * The server's side of a delta PUT (feature `"blocks"`): the new file is
 * made of the target's own blocks where they are the same (`reuse`) and
 * the body's bytes elsewhere, written beside the target and renamed over
 * it once the whole new file hashes to the checksum the client announced
 * (`whole`). A target that is no longer the `base` version is refused
 * (CHANGED) before anything is written. The upload's life (its temporary,
 * `ready`, the commit) is PUT's own (`put_handler.ts`): this module gives
 * it the base and the way the body is received.
 *
 * @module
 */

import { createChecksum, type RunningHash } from "../checksum.ts";
import { RemoteError } from "../errors.ts";
import { blockSpan } from "../file_hash.ts";
import { copyRange } from "../framing/file_reader.ts";
import type { ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import type { PutRequest } from "../protocol/messages.ts";
import { quotePath } from "../root/paths.ts";
import type { OpenedFile } from "../root/served_root.ts";
import { type BodyResult, receiveBody } from "../transfer/body.ts";
import { checkVersion } from "./file_version.ts";
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
    const span = blockSpan(first, count, block, size);
    if (count === 0 || first < next || first + count > blocks || span[1] > baseSize) {
      throw new RemoteError(
        "BAD_REQUEST",
        `Blocks ${first} to ${first + count - 1} cannot be reused for ${quotePath(vpath)}`,
      );
    }
    ranges.push(span);
    next = first + count;
  }
  return ranges;
}

/** A delta PUT's base, checked, and how its body makes the new file. */
export interface DeltaUpload extends Disposable {
  /**
   * Receives the body into `sink` with the base's kept ranges in their
   * places; returns the body's bytes and the new file as stored.
   * @throws {RemoteError} INTEGRITY when the new file does not hash to `whole`.
   */
  receive(sink: ByteWriter): Promise<{ bytes: number; stored: BodyResult }>;
}

/**
 * Opens a delta PUT's base (the target, resolved as a GET's file is) and
 * checks it and the request's `reuse` before anything is written.
 *
 * @param context The session.
 * @param vpath The target.
 * @param req The request, with `base`, `blockSize`, `reuse` and `whole`.
 * @returns The delta; dispose of it once the upload ended (it closes the base).
 * @throws {RemoteError} CHANGED when the target is not the base version, BAD_REQUEST for a bad run.
 *
 * @example
 * ```ts ignore
 * using delta = await openDelta(context, "/a.bin", req);
 * ```
 */
export async function openDelta(
  context: HandlerContext,
  vpath: string,
  req: PutRequest,
): Promise<DeltaUpload> {
  const base = await context.root.openRead(vpath);
  try {
    checkVersion(req.base, base, vpath, "the base version");
    const ranges = reusedRanges(req, base.size, vpath);
    const literal = req.size! - ranges.reduce((n, [start, end]) => n + end - start, 0);
    return {
      receive: async (sink) => {
        const hash = await createChecksum(context.checksum);
        const out = new Assembler(sink, base, ranges, hash);
        const got = await receiveBody(context.reader, out, {
          expectedSize: literal,
          checksum: context.checksum,
          label: vpath,
        });
        // The body is read: a failure from here on leaves the stream in step.
        context.setInBody(false);
        await out.finish();
        const digest = hash.digest();
        if (digest !== req.whole) {
          throw new RemoteError(
            "INTEGRITY",
            `The file made for ${
              quotePath(vpath)
            } is not the one announced (checksum ${digest}, not ${req.whole})`,
          );
        }
        return {
          bytes: got.size,
          stored: { size: req.size!, checksum: context.checksum, hash: digest },
        };
      },
      [Symbol.dispose]: () => base.close(),
    };
  } catch (e) {
    base.close();
    throw e;
  }
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
  /** The base's bytes go through here, as the body's do. */
  #copied: ByteWriter = {
    write: async (p) => {
      await this.#emit(p);
      return p.length;
    },
  };

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
      this.#buf ??= new Uint8Array(1 << 20);
      const range = { offset: start, length: end - start };
      if (await copyRange(this.#base.file, range, this.#copied, this.#buf) < range.length) {
        throw new RemoteError("CHANGED", "The base file shrank while it was read");
      }
    }
  }

  async #emit(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    await writeAll(this.#out, bytes);
    this.#pos += bytes.length;
  }
}
