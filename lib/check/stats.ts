/**
 * The numbers `bftp check` judges by: median, spread, the coefficient of
 * variation (how uniform a series of speeds is) and the least-squares slope
 * of a series (how fast resident memory grows per iteration).
 *
 * Every function takes a plain array and never throws on an empty one: it
 * answers `null` where a figure does not exist (the median of nothing, the
 * spread of one sample).
 *
 * @module
 */

/** The usual figures of a series of samples. */
export interface SeriesSummary {
  /** How many samples. */
  count: number;
  /** The middle sample (the mean of the two middle ones for an even count). */
  median: number;
  /** The smallest sample. */
  min: number;
  /** The largest sample. */
  max: number;
  /** The arithmetic mean. */
  mean: number;
  /** The sample standard deviation (n - 1 in the denominator); 0 for one sample. */
  stddev: number;
  /**
   * The coefficient of variation, `stddev / mean`: 0.05 means the samples
   * typically lie within 5% of their mean. `null` for fewer than two samples
   * or a mean of 0, where it means nothing.
   */
  cv: number | null;
}

/**
 * The median of a series.
 *
 * @param xs The samples (not modified).
 * @returns The median, or `null` when there are none.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(median([3, 1, 2]), 2);
 * deepEqual(median([4, 1, 3, 2]), 2.5);
 * deepEqual(median([]), null);
 * ```
 */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The arithmetic mean of a series.
 *
 * @param xs The samples.
 * @returns The mean, or `null` when there are none.
 *
 * @example
 * ```ts
 * import { mean } from "./stats.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(mean([1, 2, 6]), 3);
 * ```
 */
export function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/**
 * The sample standard deviation (Bessel's n - 1).
 *
 * @param xs The samples.
 * @returns The standard deviation: `null` for none, 0 for one sample.
 *
 * @example
 * ```ts
 * import { stddev } from "./stats.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(stddev([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7));
 * deepEqual(stddev([5]), 0);
 * ```
 */
export function stddev(xs: readonly number[]): number | null {
  const m = mean(xs);
  if (m === null) return null;
  if (xs.length === 1) return 0;
  let sq = 0;
  for (const x of xs) sq += (x - m) ** 2;
  return Math.sqrt(sq / (xs.length - 1));
}

/**
 * The coefficient of variation: standard deviation over mean, a spread that
 * does not depend on the unit or the scale (a CV of 0.1 is "within about
 * 10%", whether the speeds are 2 MB/s or 2,000 MB/s).
 *
 * @param xs The samples.
 * @returns The CV, or `null` for fewer than two samples or a mean of 0.
 *
 * @example
 * ```ts
 * import { coefficientOfVariation } from "./stats.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(coefficientOfVariation([10, 10, 10]), 0);
 * deepEqual(coefficientOfVariation([9, 11]), Math.SQRT2 / 10);
 * deepEqual(coefficientOfVariation([7]), null);
 * ```
 */
export function coefficientOfVariation(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs)!;
  if (m === 0) return null;
  return stddev(xs)! / Math.abs(m);
}

/**
 * The slope of the least-squares line through the points `(i, ys[i])`: how
 * much the series grows per step. For resident memory sampled once per
 * iteration, it is the growth in bytes per iteration.
 *
 * @param ys The series, one value per step.
 * @returns The slope, or `null` for fewer than two points.
 *
 * @example
 * ```ts
 * import { linearSlope } from "./stats.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(linearSlope([10, 12, 14, 16]), 2);
 * deepEqual(linearSlope([5, 5, 5]), 0);
 * deepEqual(linearSlope([5]), null);
 * ```
 */
export function linearSlope(ys: readonly number[]): number | null {
  const n = ys.length;
  if (n < 2) return null;
  const mx = (n - 1) / 2;
  const my = mean(ys)!;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (ys[i]! - my);
    den += (i - mx) ** 2;
  }
  return num / den;
}

/**
 * Summarizes a series: count, median, min, max, mean, standard deviation
 * and coefficient of variation.
 *
 * @param xs The samples.
 * @returns The summary, or `null` when there are no samples.
 *
 * @example
 * ```ts
 * import { summarize } from "./stats.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const s = summarize([100, 110, 90])!;
 * deepEqual([s.count, s.median, s.min, s.max, s.mean], [3, 100, 90, 110, 100]);
 * deepEqual(s.cv, 0.1);
 * ```
 */
export function summarize(xs: readonly number[]): SeriesSummary | null {
  if (xs.length === 0) return null;
  return {
    count: xs.length,
    median: median(xs)!,
    min: xs.reduce((a, b) => Math.min(a, b)),
    max: xs.reduce((a, b) => Math.max(a, b)),
    mean: mean(xs)!,
    stddev: stddev(xs)!,
    cv: coefficientOfVariation(xs),
  };
}
