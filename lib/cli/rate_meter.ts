/**
 * A recent transfer rate: bytes over the last few seconds, not the average
 * since the start, and whether the transfer has stalled.
 *
 * @module
 */

/** Options for {@linkcode RateMeter}. */
export interface RateMeterOptions {
  /**
   * How far back the rate looks, in milliseconds.
   *
   * @default {5000}
   */
  windowMs?: number;
  /**
   * Milliseconds without a byte after which the transfer counts as stalled.
   *
   * @default {2000}
   */
  stallMs?: number;
}

/** The finest step between kept samples, in milliseconds. */
const SAMPLE_STEP_MS = 100;

/**
 * Measures a recent rate from `(time, total bytes)` samples.
 *
 * @example
 * ```ts
 * import { RateMeter } from "./rate_meter.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const meter = new RateMeter();
 * meter.record(0, 0);
 * meter.record(1000, 1000);
 * deepEqual(meter.rate(1000), 1000);
 * deepEqual(meter.stalled(1500), false);
 * deepEqual(meter.stalled(3500), true);
 * ```
 */
export class RateMeter {
  #windowMs: number;
  #stallMs: number;
  #samples: { t: number; bytes: number }[] = [];
  #lastMove = 0;

  /** @param options The window and the stall time. */
  constructor(options: RateMeterOptions = {}) {
    this.#windowMs = options.windowMs ?? 5000;
    this.#stallMs = options.stallMs ?? 2000;
  }

  /**
   * Records the running total at a moment.
   *
   * @param t Milliseconds (any clock, increasing).
   * @param bytes Bytes moved so far.
   */
  record(t: number, bytes: number): void {
    const last = this.#samples.at(-1);
    if (last === undefined || bytes > last.bytes) this.#lastMove = t;
    // Called per chunk: within one resolution step the newest sample is updated in place, so
    // the window holds a few dozen samples however fast the chunks come.
    const before = this.#samples.at(-2);
    if (last !== undefined && before !== undefined && t - before.t < SAMPLE_STEP_MS) {
      last.t = t;
      last.bytes = bytes;
      return;
    }
    this.#samples.push({ t, bytes });
    // Keep one sample at or before the window's start, so the window stays full.
    while (this.#samples.length > 2 && this.#samples[1]!.t <= t - this.#windowMs) {
      this.#samples.shift();
    }
  }

  /**
   * Starts over from the running total `bytes` at `t`: what was recorded
   * before is forgotten (a resumed transfer's bytes already there did not
   * move now).
   *
   * @param t Now.
   * @param bytes Bytes there so far.
   */
  restart(t: number, bytes: number): void {
    this.#samples = [{ t, bytes }];
    this.#lastMove = t;
  }

  /**
   * Bytes per second over the window ending at `t`.
   *
   * @param t Now, on the clock given to {@linkcode RateMeter.record}.
   * @returns The rate, 0 before two samples.
   */
  rate(t: number): number {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (first === undefined || last === undefined) return 0;
    const span = Math.max(t, last.t) - first.t;
    return span <= 0 ? 0 : ((last.bytes - first.bytes) * 1000) / span;
  }

  /**
   * Whether no byte has moved for the stall time.
   *
   * @param t Now.
   * @returns `true` when stalled.
   */
  stalled(t: number): boolean {
    return this.#samples.length > 0 && t - this.#lastMove >= this.#stallMs;
  }
}
