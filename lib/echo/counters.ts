/**
 * Per-worker counters in shared memory: each echo worker adds to its own
 * {@linkcode EchoCounters} as it serves, and the main thread reads them at
 * any time (for SIGUSR1, at exit, and after the worker has died) without a
 * message round trip.
 *
 * @module
 */

const ACCEPTED = 0;
const OPEN = 1;
const BYTES = 2;
const FIELDS = 3;

/** A snapshot of one worker's counters. */
export interface EchoCounts {
  /** Connections accepted since the worker started. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Bytes echoed back (received and written back in full). */
  bytes: number;
}

/**
 * Three 64-bit counters in a `SharedArrayBuffer`, updated with `Atomics` so
 * that a reader on another thread never sees a torn value.
 *
 * @example
 * ```ts
 * import { EchoCounters } from "./counters.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const counters = new EchoCounters();
 * counters.opened();
 * counters.echoed(5);
 * // The buffer is what is posted to a worker; a view on it sees the same counts.
 * const seen = new EchoCounters(counters.buffer);
 * deepEqual(seen.read(), { accepted: 1, open: 1, bytes: 5 });
 * ```
 */
export class EchoCounters {
  #view: BigInt64Array<SharedArrayBuffer>;

  /**
   * @param buffer A buffer made by another `EchoCounters` (to share it), or
   * none for a new zeroed one.
   */
  constructor(buffer?: SharedArrayBuffer) {
    const shared = buffer ?? new SharedArrayBuffer(FIELDS * BigInt64Array.BYTES_PER_ELEMENT);
    this.#view = new BigInt64Array(shared);
  }

  /** The shared memory, to post to another thread. */
  get buffer(): SharedArrayBuffer {
    return this.#view.buffer;
  }

  /** Counts a new connection. */
  opened(): void {
    Atomics.add(this.#view, ACCEPTED, 1n);
    Atomics.add(this.#view, OPEN, 1n);
  }

  /** Counts a connection's end. */
  closed(): void {
    Atomics.sub(this.#view, OPEN, 1n);
  }

  /**
   * Counts bytes echoed.
   *
   * @param n How many bytes were written back.
   */
  echoed(n: number): void {
    Atomics.add(this.#view, BYTES, BigInt(n));
  }

  /**
   * Reads all three counters.
   *
   * @returns A snapshot.
   */
  read(): EchoCounts {
    return {
      accepted: Number(Atomics.load(this.#view, ACCEPTED)),
      open: Number(Atomics.load(this.#view, OPEN)),
      bytes: Number(Atomics.load(this.#view, BYTES)),
    };
  }
}
