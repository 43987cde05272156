/**
 * Writing behind the caller: {@linkcode WriteBehind} takes each write into a
 * buffer at once and sends it from the background, everything that gathered
 * meanwhile in one write. Many small messages sent one after the other (a
 * pipelined client's requests) then cost one system call between them,
 * not one each, and no sender waits for another's write to finish. Past
 * `highWater` bytes held, a write waits until the buffer drains, so a fast
 * sender cannot make it grow without bound.
 *
 * @module
 */

import { nextTurn } from "../event_turn.ts";
import type { ByteWriter } from "./types.ts";
import { writeAll } from "./write_all.ts";
import { concatBytes } from "./concat.ts";

/** Options for {@linkcode WriteBehind}. */
export interface WriteBehindOptions {
  /**
   * Bytes held before a write waits for the background writes to catch up.
   *
   * @default {1048576}
   */
  highWater?: number;
}

/** Pieces this large go straight out, after what is held, rather than be copied. */
const DIRECT_BYTES = 64 * 1024;

/**
 * A writer that sends from the background. A failed background write fails
 * every later write and {@linkcode WriteBehind.flush}.
 *
 * @example
 * ```ts
 * import { WriteBehind } from "./write_behind.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const writes: string[] = [];
 * const out = {
 *   write: (p: Uint8Array) => (writes.push(new TextDecoder().decode(p)), Promise.resolve(p.byteLength)),
 * };
 * const behind = new WriteBehind(out);
 * // Three messages in one turn of the event loop: one write.
 * await Promise.all(["a", "b", "c"].map((m) => behind.write(new TextEncoder().encode(m))));
 * await behind.flush();
 * deepEqual(writes, ["abc"]);
 * ```
 */
export class WriteBehind implements ByteWriter {
  readonly #out: ByteWriter;
  readonly #highWater: number;
  #pieces: Uint8Array[] = [];
  #held = 0;
  /** The background writer, while it runs. */
  #running: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;

  /**
   * @param out Where the bytes go.
   * @param options The high-water mark.
   */
  constructor(out: ByteWriter, options: WriteBehindOptions = {}) {
    this.#out = out;
    this.#highWater = options.highWater ?? 1 << 20;
  }

  /**
   * Takes a copy of `p`, to be sent in order after what came before.
   *
   * @param p The bytes; the caller may reuse it at once.
   * @returns `p.byteLength`.
   * @throws The error of a background write that failed.
   */
  async write(p: Uint8Array): Promise<number> {
    if (this.#failure) throw this.#failure.error;
    if (p.byteLength >= DIRECT_BYTES) {
      // A large piece (a body's chunk) is not worth a copy: after what is held, straight out.
      await this.flush();
      await writeAll(this.#out, p);
      return p.byteLength;
    }
    this.#pieces.push(p.slice());
    this.#held += p.byteLength;
    this.#running ??= this.#drain();
    if (this.#held > this.#highWater) await this.flush();
    return p.byteLength;
  }

  /**
   * Waits until everything taken so far has been written.
   *
   * @throws The error of a background write that failed.
   */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#failure) throw this.#failure.error;
  }

  /** Writes what is held, and what arrives meanwhile, until nothing is left. */
  async #drain(): Promise<void> {
    // Let the callers of this turn of the event loop add theirs first: the replies read in
    // one socket read finish their requests in one turn, and those start the next ones.
    await nextTurn();
    try {
      while (this.#pieces.length > 0) {
        const pieces = this.#pieces;
        const bytes = pieces.length === 1 ? pieces[0]! : concatBytes(pieces);
        this.#pieces = [];
        this.#held = 0;
        await writeAll(this.#out, bytes);
      }
    } catch (error) {
      this.#failure = { error };
      this.#pieces = [];
      this.#held = 0;
    } finally {
      this.#running = undefined;
    }
  }
}
