/**
 * Coalescing small writes: {@linkcode CorkedWriter} gathers the pieces of
 * an answer (a reply frame, a size header, a small body, its hash) into one
 * buffer and sends them in one write when the owner flushes, as TCP_CORK
 * would; a piece too large for the buffer goes straight through.
 *
 * @module
 */

import type { ByteWriter } from "./types.ts";
import { writeAll } from "./write_all.ts";

/** Options for {@linkcode CorkedWriter}. */
export interface CorkedWriterOptions {
  /**
   * The buffer size: pieces are gathered up to this many bytes.
   *
   * @default {65536}
   */
  capacity?: number;
  /**
   * A buffer to gather in, lent by the caller (its length is the capacity):
   * a writer made for each of many batches then allocates nothing, where
   * growing its own from 4 KiB allocated and copied twice a batch's size.
   * The caller may reuse it once a flush has settled.
   *
   * @default {undefined}
   */
  buffer?: Uint8Array<ArrayBuffer> | undefined;
}

/**
 * A writer that holds small writes until {@linkcode CorkedWriter.flush}.
 * Its owner must flush before it waits for the peer (before every read),
 * or the peer never sees the answer it waits for.
 *
 * @example
 * ```ts
 * import { CorkedWriter } from "./corked_writer.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const writes: number[][] = [];
 * const out = { write: (p: Uint8Array) => (writes.push([...p]), Promise.resolve(p.byteLength)) };
 * const corked = new CorkedWriter(out, { capacity: 4 });
 * await corked.write(new Uint8Array([1, 2]));
 * await corked.write(new Uint8Array([3]));
 * deepEqual(writes, []);
 * await corked.write(new Uint8Array([4, 5, 6, 7, 8])); // too large: flushes, then goes through
 * await corked.flush();
 * deepEqual(writes, [[1, 2, 3], [4, 5, 6, 7, 8]]);
 * ```
 */
export class CorkedWriter implements ByteWriter {
  #out: ByteWriter;
  /** Grown on demand up to `#capacity`: an idle connection holds little. */
  #buf = new Uint8Array(0);
  #capacity: number;
  #fill = 0;

  /**
   * @param out Where the bytes go.
   * @param options The buffer size.
   */
  constructor(out: ByteWriter, options: CorkedWriterOptions = {}) {
    this.#out = out;
    this.#capacity = options.buffer?.byteLength ?? options.capacity ?? 65536;
    if (options.buffer) this.#buf = options.buffer;
  }

  /** Bytes held, not yet written. */
  get buffered(): number {
    return this.#fill;
  }

  /**
   * Takes all of `p`: into the buffer when it fits, else after a flush,
   * straight through (or into the emptied buffer when it fits there).
   *
   * @param p The bytes; the caller may reuse it once this settles.
   * @returns `p.byteLength`.
   */
  async write(p: Uint8Array): Promise<number> {
    if (this.take(p)) return p.byteLength;
    await this.flush();
    if (!this.take(p)) await writeAll(this.#out, p);
    return p.byteLength;
  }

  /**
   * Takes all of `p` into the buffer when it fits there, at once (no
   * promise: a 5,000-file push made 15,000 calls of `write`, each a promise
   * and a turn of the microtask queue); else takes nothing and answers
   * `false`, for {@linkcode CorkedWriter.write}.
   *
   * @param p The bytes; the caller may reuse them at once.
   * @returns Whether they were taken.
   *
   * @example
   * ```ts
   * import { CorkedWriter } from "./corked_writer.ts";
   * import { equal } from "node:assert/strict";
   *
   * const corked = new CorkedWriter({ write: (p) => Promise.resolve(p.byteLength) }, { capacity: 4 });
   * equal(corked.take(new Uint8Array(3)), true);
   * equal(corked.take(new Uint8Array(2)), false);
   * equal(corked.buffered, 3);
   * ```
   */
  take(p: Uint8Array): boolean {
    if (this.#fill + p.byteLength > this.#capacity) return false;
    if (this.#fill + p.byteLength > this.#buf.byteLength) {
      const size = Math.max(this.#buf.byteLength * 2, this.#fill + p.byteLength, 4096);
      const grown = new Uint8Array(Math.min(size, this.#capacity));
      grown.set(this.#buf.subarray(0, this.#fill));
      this.#buf = grown;
    }
    this.#buf.set(p, this.#fill);
    this.#fill += p.byteLength;
    return true;
  }

  /** Writes whatever is held. */
  async flush(): Promise<void> {
    if (this.#fill === 0) return;
    const n = this.#fill;
    // Emptied first: a failed write does not leave the bytes to be sent again.
    this.#fill = 0;
    await writeAll(this.#out, this.#buf.subarray(0, n));
  }
}
