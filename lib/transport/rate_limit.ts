/**
 * A connection held to a rate, as curl's `--limit-rate`, rsync's `--bwlimit`
 * and scp's `-l` hold theirs: each way moves at most so many bytes a second
 * on average, with no burst above a tenth of a second's worth after a pause.
 * Each read or write moves at most an eighth of a second's worth, then waits
 * until what moved fits the rate. A download read slowly leaves the bytes in
 * the socket's buffers, and TCP's flow control slows the server in turn: the
 * protocol is not involved, and the server needs no setting.
 *
 * @module
 */

import type { TransportConn } from "./types.ts";

/** Options for {@linkcode RatePacer} and {@linkcode limitRate}: the clock, for tests. */
export interface RateLimitOptions {
  /**
   * The time in milliseconds.
   *
   * @default {() => performance.now()}
   */
  now?: () => number;
  /**
   * Waits `ms` milliseconds.
   *
   * @default {a setTimeout}
   */
  sleep?: (ms: number) => Promise<void>;
}

/** How much may go at once after a pause, in milliseconds of the rate. */
const BURST_MS = 100;

/** The fewest bytes a read or write may move at once, however low the rate. */
const MIN_PIECE = 1024;

/**
 * Paces one direction of a connection: the time by which every byte counted
 * so far is due at the rate; counting more bytes waits until then.
 *
 * @example
 * ```ts
 * import { RatePacer } from "./rate_limit.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let now = 0;
 * const waits: number[] = [];
 * const pacer = new RatePacer(1000, {
 *   now: () => now,
 *   sleep: (ms) => (waits.push(ms), now += ms, Promise.resolve()),
 * });
 * await pacer.pass(100); // a tenth of a second's worth goes at once
 * await pacer.pass(500); // then half a second's worth waits for it
 * deepEqual(waits, [500]);
 * ```
 */
export class RatePacer {
  /** The largest piece to move at once: an eighth of a second's worth. */
  readonly piece: number;
  readonly #perMs: number;
  readonly #now: () => number;
  readonly #sleep: ((ms: number) => Promise<void>) | undefined;
  /** When every byte counted so far is paid for. */
  #due = -Infinity;
  /** The pending wait's timer and its end, to cut it short ({@linkcode RatePacer.stop}). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;

  /**
   * @param bytesPerSecond The rate, above 0.
   * @param options The clock.
   */
  constructor(bytesPerSecond: number, options: RateLimitOptions = {}) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`Invalid rate ${bytesPerSecond}`);
    this.#perMs = bytesPerSecond / 1000;
    this.piece = Math.max(MIN_PIECE, Math.floor(bytesPerSecond / 8));
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep;
  }

  /**
   * Counts `n` bytes moved, and waits until they fit the rate.
   *
   * @param n The bytes just moved.
   */
  async pass(n: number): Promise<void> {
    const now = this.#now();
    // After a pause the budget does not pile up: a tenth of a second's worth at most.
    this.#due = Math.max(this.#due, now - BURST_MS) + n / this.#perMs;
    const wait = this.#due - now;
    if (wait <= 0 || this.#stopped) return;
    const woken = new Promise<void>((resolve) => this.#wake = resolve);
    const slept = this.#sleep?.(wait) ??
      new Promise<void>((resolve) => this.#timer = setTimeout(resolve, wait));
    await Promise.race([slept, woken]);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wake = undefined;
  }

  /**
   * Ends the pending wait at once, and every later one: the connection is
   * closing (a wait of a slow rate's piece can be minutes long: 1 KiB at
   * 10 B/s is 100 s).
   */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
  }
}

/**
 * `conn`, each way held to `bytesPerSecond` (see the module doc).
 *
 * @param conn The connection.
 * @param bytesPerSecond The rate each way, above 0.
 * @param options The clock.
 * @returns The paced connection; closing it closes `conn`.
 *
 * @example
 * ```ts
 * import { limitRate } from "./rate_limit.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const written: number[] = [];
 * const conn = {
 *   write: (p: Uint8Array) => (written.push(p.byteLength), Promise.resolve(p.byteLength)),
 * } as unknown as Parameters<typeof limitRate>[0];
 * const slow = limitRate(conn, 64 * 1024, { sleep: () => Promise.resolve() });
 * // An eighth of a second's worth (8 KiB) at a time.
 * deepEqual(await slow.write(new Uint8Array(100_000)), 8192);
 * deepEqual(written, [8192]);
 * ```
 */
export function limitRate(
  conn: TransportConn,
  bytesPerSecond: number,
  options: RateLimitOptions = {},
): TransportConn {
  const reads = new RatePacer(bytesPerSecond, options);
  const writes = new RatePacer(bytesPerSecond, options);
  const stop = () => {
    reads.stop();
    writes.stop();
  };
  return {
    get localAddr() {
      return conn.localAddr;
    },
    get remoteAddr() {
      return conn.remoteAddr;
    },
    read: async (p) => {
      const n = await conn.read(p.subarray(0, reads.piece));
      if (n !== null) await reads.pass(n);
      return n;
    },
    write: async (p) => {
      const n = await conn.write(p.subarray(0, writes.piece));
      await writes.pass(n);
      return n;
    },
    closeWrite: () => conn.closeWrite(),
    close: () => {
      stop();
      conn.close();
    },
    [Symbol.dispose]: () => {
      stop();
      conn[Symbol.dispose]();
    },
  };
}
