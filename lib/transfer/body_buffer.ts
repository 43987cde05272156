/**
 * What the two directions of a body share: the buffer a body moves
 * through, what a transfer moved, and which checksum a body's options
 * settle.
 *
 * @module
 */

import type { ChecksumName, RunningHash } from "../checksum.ts";

/**
 * The buffer a body moves through, on each side: at most this many bytes of
 * one transfer are held in memory at a time.
 */
export const BODY_BUFFER_BYTES = 1 << 20;
const DEFAULT_BUFFER = BODY_BUFFER_BYTES;

/**
 * The buffer a body of `size` bytes moves through: no larger than the body
 * (a 1 KiB GET holds 1 KiB, not 1 MiB) and at most `limit`. A chunked body
 * (`null`) gets `limit`.
 *
 * @param size The body's size, or `null` when chunked.
 * @param limit The largest buffer.
 * @returns The buffer's size in bytes, at least 1.
 *
 * @example
 * ```ts
 * import { bodyBufferSize } from "./body_buffer.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(bodyBufferSize(1024), 1024);
 * deepEqual(bodyBufferSize(0), 1);
 * deepEqual(bodyBufferSize(10 << 20), 1 << 20);
 * deepEqual(bodyBufferSize(null), 1 << 20);
 * ```
 */
export function bodyBufferSize(size: number | null, limit: number = DEFAULT_BUFFER): number {
  return size === null ? limit : Math.max(1, Math.min(size, limit));
}

/** What a body transfer moved. */
export interface BodyResult {
  /** Bytes in the body (the whole file's, for a resumed download). */
  size: number;
  /** The algorithm of `hash`. */
  checksum: ChecksumName;
  /** The body's hash (the whole file's, when resumed), lowercase hex. */
  hash: string;
}

/**
 * The checksum a body's options settle: the fed hash's, the one named, or SHA-256.
 *
 * @param options A body's `checksum` and `hash` options.
 * @returns The checksum.
 *
 * @example
 * ```ts
 * import { checksumOf } from "./body_buffer.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(checksumOf({}), "sha256");
 * equal(checksumOf({ checksum: "xxh3-128" }), "xxh3-128");
 * ```
 */
export function checksumOf(
  options: { checksum?: ChecksumName | undefined; hash?: RunningHash | undefined },
): ChecksumName {
  return options.hash?.checksum ?? options.checksum ?? "sha256";
}

/** The most slabs a {@linkcode BodySlab} keeps for use again. */
const FREE_SLABS = 4;

/**
 * Carves many small bodies out of a few large buffers: one allocation (and
 * one piece of external memory for the collector to track) for hundreds of
 * 4 KiB files instead of one each. A piece keeps its whole slab alive, so a
 * slab serves one batch of files that land together; a piece handed to
 * another thread is copied first (transferring it would take the slab).
 *
 * @example
 * ```ts
 * import { BodySlab } from "./body_buffer.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const slab = new BodySlab(16);
 * const [a, b, c] = [slab.take(10), slab.take(6), slab.take(4)];
 * deepEqual([a.byteLength, b.byteLength, c.byteLength], [10, 6, 4]);
 * deepEqual(a.buffer === b.buffer, true);
 * deepEqual(b.buffer === c.buffer, false);
 * // Every piece of the first slab back: it is used again.
 * slab.give(a);
 * slab.give(b);
 * const d = slab.take(16);
 * deepEqual(d.buffer === a.buffer, true);
 * ```
 */
export class BodySlab {
  #size: number;
  #slab: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #used = 0;
  /** How many pieces of each slab are out, not given back (weakly: a slab left out goes). */
  #out = new WeakMap<ArrayBuffer, number>();
  /** Slabs whose every piece came back, taken again before a new one is made. */
  #free: Uint8Array<ArrayBuffer>[] = [];

  /** @param size Each slab's size (1 MiB unless given); a larger body gets a buffer of its own. */
  constructor(size: number = BODY_BUFFER_BYTES) {
    this.#size = size;
  }

  /**
   * A buffer of `bytes` bytes, for one body: zeroed when new, as left
   * when its slab is used again ({@linkcode BodySlab.give}).
   *
   * @param bytes The body's size.
   * @returns A view of `bytes` bytes no other piece shares.
   */
  take(bytes: number): Uint8Array<ArrayBuffer> {
    if (bytes > this.#size) return new Uint8Array(bytes);
    if (this.#used + bytes > this.#slab.byteLength) {
      this.#slab = this.#free.pop() ?? new Uint8Array(this.#size);
      this.#used = 0;
    }
    this.#used += bytes;
    const { buffer } = this.#slab;
    this.#out.set(buffer, (this.#out.get(buffer) ?? 0) + 1);
    return this.#slab.subarray(this.#used - bytes, this.#used);
  }

  /**
   * Gives back a piece from {@linkcode BodySlab.take} that nothing will
   * read or write again: once every piece of a slab is back, the slab is
   * used again (its bytes as they were left, not zeroed), where a new one
   * would cost the kernel a fresh page per small file and the collector an
   * allocation. Give a piece back once only; one never given back is left
   * to the collector with its slab.
   *
   * @param piece The piece.
   */
  give(piece: Uint8Array): void {
    const { buffer } = piece;
    const out = this.#out.get(buffer as ArrayBuffer);
    if (out === undefined) return;
    if (out > 1) {
      this.#out.set(buffer as ArrayBuffer, out - 1);
      return;
    }
    this.#out.delete(buffer as ArrayBuffer);
    // Transferred to another thread whole (detached): nothing to use again.
    if (buffer.byteLength === 0) return;
    if (buffer === this.#slab.buffer) this.#used = 0;
    else if (this.#free.length < FREE_SLABS) this.#free.push(new Uint8Array(buffer as ArrayBuffer));
  }
}
