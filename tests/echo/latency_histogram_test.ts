import { equal, ok, throws } from "node:assert/strict";
import { LatencyHistogram } from "../../lib/echo/latency_histogram.ts";

Deno.test("echo: LatencyHistogram percentiles stay within 1% of the exact ones", () => {
  const h = new LatencyHistogram();
  const samples: number[] = [];
  for (let i = 0; i < 20000; i++) {
    // Log-uniform from 10 µs to 100 ms, like real latencies.
    const ms = 0.01 * Math.pow(10, 4 * Math.random());
    samples.push(ms);
    h.record(ms);
  }
  samples.sort((a, b) => a - b);
  equal(h.count, 20000);
  equal(h.max, samples.at(-1));
  for (const p of [1, 50, 90, 99, 99.9]) {
    const exact = samples[Math.ceil((p / 100) * samples.length) - 1]!;
    const got = h.percentile(p);
    ok(Math.abs(got - exact) / exact <= 0.01, `p${p}: ${got} vs ${exact}`);
  }
});

Deno.test("echo: LatencyHistogram merges, handles no samples, and refuses a bad percentile", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  equal(a.percentile(50), 0);
  a.record(1);
  b.record(100);
  b.record(0);
  a.merge(b);
  equal(a.count, 3);
  equal(a.max, 100);
  ok(Math.abs(a.percentile(50) - 1) <= 0.01);
  equal(a.percentile(100), 100);
  throws(() => a.percentile(101), RangeError);
});
