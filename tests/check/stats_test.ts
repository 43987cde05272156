import { deepEqual, equal, ok } from "node:assert/strict";
import {
  coefficientOfVariation,
  linearSlope,
  mean,
  median,
  stddev,
  summarize,
} from "../../lib/check/stats.ts";

const close = (a: number | null, b: number, eps = 1e-9) =>
  ok(a !== null && Math.abs(a - b) <= eps, `${a} should be close to ${b}`);

Deno.test("check/stats: median() of odd, even, unsorted and single series", () => {
  equal(median([5, 1, 3]), 3);
  equal(median([1, 2, 3, 10]), 2.5);
  equal(median([7]), 7);
  equal(median([]), null);
  const input = [3, 1, 2];
  median(input);
  deepEqual(input, [3, 1, 2], "the input is not sorted in place");
});

Deno.test("check/stats: mean() and stddev() use Bessel's correction", () => {
  equal(mean([]), null);
  equal(stddev([]), null);
  equal(stddev([42]), 0);
  close(stddev([1, 2, 3, 4]), Math.sqrt(5 / 3));
});

Deno.test("check/stats: coefficientOfVariation() is scale-free and undefined where meaningless", () => {
  const slow = [1, 1.1, 0.9, 1.05];
  const fast = slow.map((x) => x * 1000);
  close(coefficientOfVariation(slow), coefficientOfVariation(fast)!);
  equal(coefficientOfVariation([3]), null, "one sample has no spread");
  equal(coefficientOfVariation([0, 0, 0]), null, "a mean of 0 has no relative spread");
  equal(coefficientOfVariation([5, 5, 5, 5]), 0);
});

Deno.test("check/stats: linearSlope() recovers the slope of a noisy line", () => {
  equal(linearSlope([]), null);
  equal(linearSlope([1]), null);
  equal(linearSlope([1, 3]), 2);
  // y = 100 + 3x with noise that sums to zero against x.
  const noise = [1, -1, -1, 1, 1, -1, -1, 1];
  const ys = noise.map((e, x) => 100 + 3 * x + e);
  close(linearSlope(ys), 3, 0.2);
  ok(linearSlope([10, 8, 6, 4])! < 0, "a falling series has a negative slope");
});

Deno.test("check/stats: summarize() of one and of several samples", () => {
  equal(summarize([]), null);
  deepEqual(summarize([4]), { count: 1, median: 4, min: 4, max: 4, mean: 4, stddev: 0, cv: null });
  const s = summarize([90, 100, 110])!;
  deepEqual([s.count, s.median, s.min, s.max, s.mean], [3, 100, 90, 110, 100]);
  close(s.cv, 0.1);
});
