/**
 * Latency percentiles in constant memory: a histogram with logarithmic
 * buckets 1% wide, so a load run of millions of round trips reports p50 and
 * p99 to within 1% without keeping every sample.
 *
 * @module
 */

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** The smallest latency told apart from zero: 1 µs. */
const FLOOR_MS = 0.001;
/** Buckets up to 1,000 s; anything slower goes to the last one. */
const BUCKETS = Math.ceil(Math.log(1_000_000 / FLOOR_MS) / LOG_GROWTH) + 1;

/**
 * Counts latencies into 1%-wide buckets.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./latency_histogram.ts";
 * import { ok } from "node:assert/strict";
 *
 * const h = new LatencyHistogram();
 * for (let i = 1; i <= 100; i++) h.record(i); // 1 ms to 100 ms
 * ok(Math.abs(h.percentile(50) - 50) <= 0.5);
 * ok(Math.abs(h.percentile(99) - 99) <= 1);
 * ```
 */
export class LatencyHistogram {
  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #max = 0;

  /** How many latencies were recorded. */
  get count(): number {
    return this.#count;
  }

  /** The largest latency recorded, in milliseconds (exact). */
  get max(): number {
    return this.#max;
  }

  /**
   * Records one latency.
   *
   * @param ms The latency in milliseconds.
   */
  record(ms: number): void {
    this.#counts[bucketOf(ms)]!++;
    this.#count++;
    if (ms > this.#max) this.#max = ms;
  }

  /**
   * Adds another histogram's counts to this one.
   *
   * @param other The histogram to merge in.
   */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#count += other.#count;
    this.#max = Math.max(this.#max, other.#max);
  }

  /**
   * The latency below which `p` percent of the recorded ones fall.
   *
   * @param p The percentile, 0 to 100.
   * @returns Milliseconds (within 1%, never above the maximum), or 0 when
   * nothing was recorded.
   * @throws {RangeError} When `p` is outside 0 to 100.
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`Invalid percentile ${p}: expected 0 to 100`);
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i), this.#max);
    }
    return this.#max;
  }
}

function bucketOf(ms: number): number {
  if (!(ms > FLOOR_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FLOOR_MS) / LOG_GROWTH));
}

/** The middle of bucket `i` (bucket `i` holds values up to FLOOR·GROWTH^i). */
function valueOf(i: number): number {
  if (i === 0) return FLOOR_MS;
  return FLOOR_MS * Math.pow(GROWTH, i - 0.5);
}
