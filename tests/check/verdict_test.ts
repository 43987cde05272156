import { deepEqual, equal, ok } from "node:assert/strict";
import type { CheckFile, IterationRecord, Outcome } from "../../lib/check/types.ts";
import { fabricatedRecords, fileOf, MiB } from "./report_data.ts";
import {
  DEFAULT_THRESHOLDS,
  judgeCpu,
  judgeLeak,
  judgeSpeed,
  judgeUniformity,
  summarizeDirection,
} from "../../lib/check/verdict.ts";

/** Fabricated GET records: one per speed, with the given memory series and outcomes. */
function records(
  file: CheckFile,
  speeds: readonly number[],
  rss?: readonly number[],
  outcomes?: readonly Outcome[],
  serverRss: readonly number[] | null = null,
): IterationRecord[] {
  return fabricatedRecords(file, speeds, {
    ...(rss ? { rss } : {}),
    ...(outcomes ? { outcomes } : {}),
    serverRss,
  });
}

Deno.test("check/verdict: judgeUniformity() passes steady speeds and fails scattered ones", () => {
  equal(judgeUniformity([700, 705, 695, 702, 698], DEFAULT_THRESHOLDS).status, "pass");
  const scattered = judgeUniformity([100, 700, 150, 690, 120], DEFAULT_THRESHOLDS);
  equal(scattered.status, "fail");
  ok(/CV \d+\.\d%/.test(scattered.detail), scattered.detail);
  // Exactly at the limit passes.
  equal(judgeUniformity([1, 3], { maxCv: Math.SQRT2 / 2, minSamplesForCv: 2 }).status, "pass");
});

Deno.test("check/verdict: judgeUniformity() needs enough samples and a non-zero mean", () => {
  equal(judgeUniformity([], DEFAULT_THRESHOLDS).status, "not measured");
  equal(judgeUniformity([500], DEFAULT_THRESHOLDS).status, "not measured");
  equal(judgeUniformity([500, 10], DEFAULT_THRESHOLDS).status, "not measured", "2 < 3 samples");
  equal(judgeUniformity([500], DEFAULT_THRESHOLDS).detail, "1 sample after warm-up, need 3");
  equal(judgeUniformity([0, 0, 0], DEFAULT_THRESHOLDS).status, "not measured");
});

Deno.test("check/verdict: judgeLeak() flags steady growth after warm-up, not a warm-up jump", () => {
  const flat = [40, 60, 61, 60, 61, 60, 61, 60].map((x) => x * MiB);
  const r = judgeLeak(flat, 2, DEFAULT_THRESHOLDS);
  equal(r.verdict.status, "pass", r.verdict.detail);
  ok(Math.abs(r.slope!) < 0.2 * MiB);
  // Without the warm-up cut, the 40 -> 60 MiB jump of the first iterations looks like a leak.
  equal(
    judgeLeak(flat, 0, { ...DEFAULT_THRESHOLDS, maxLeakPerIteration: MiB }).verdict.status,
    "fail",
  );
  const leaking = Array.from({ length: 20 }, (_, i) => 50 * MiB + i * 2 * MiB + (i % 2) * MiB);
  const l = judgeLeak(leaking, 2, DEFAULT_THRESHOLDS);
  equal(l.verdict.status, "fail");
  ok(l.slope! > 1.9 * MiB && l.slope! < 2.1 * MiB, String(l.slope));
  const shrinking = Array.from({ length: 10 }, (_, i) => 90 * MiB - i * MiB);
  equal(judgeLeak(shrinking, 2, DEFAULT_THRESHOLDS).verdict.status, "pass");
});

Deno.test("check/verdict: judgeLeak() with one iteration, or fewer samples than needed, is not measured", () => {
  const one = judgeLeak([50 * MiB], 2, DEFAULT_THRESHOLDS);
  deepEqual([one.slope, one.verdict.status], [null, "not measured"]);
  const four = judgeLeak([1, 2, 3, 4].map((x) => x * 10 * MiB), 0, DEFAULT_THRESHOLDS);
  equal(four.verdict.status, "not measured", "4 < 5 samples: even a steep slope is not judged");
  equal(four.slope, 10 * MiB, "but the slope is still reported");
  equal(four.verdict.detail, "4 samples after warm-up, need 5");
  equal(one.verdict.detail, "0 samples after warm-up, need 5");
});

Deno.test("check/verdict: judgeSpeed() and judgeCpu() apply only where set", () => {
  const t = { ...DEFAULT_THRESHOLDS, minMbps: 200 };
  equal(judgeSpeed(150, 64 * MiB, t).status, "fail");
  equal(judgeSpeed(250, 64 * MiB, t).status, "pass");
  equal(judgeSpeed(0.5, 1024, t).status, "n/a", "small files measure round trips");
  equal(judgeSpeed(null, 64 * MiB, t).status, "not measured");
  equal(judgeSpeed(1, 64 * MiB, { ...t, minMbps: 0 }).status, "n/a", "a limit turned off");
  equal(judgeCpu({ client: 0.9, server: 1.6 }, { maxCpuShare: 1.5 }).status, "fail");
  equal(judgeCpu({ client: 0.9, server: null }, { maxCpuShare: 1.5 }).status, "pass");
  equal(judgeCpu({ client: 9, server: 9 }, { maxCpuShare: 0 }).status, "n/a");
});

Deno.test("check/verdict: summarizeDirection() of a clean run passes with the right figures", () => {
  const file = fileOf(64 * MiB);
  const speeds = [300, 650, 700, 690, 710, 705, 695];
  const s = summarizeDirection(file, "get", records(file, speeds), 2, DEFAULT_THRESHOLDS);
  equal(s.passed, true, JSON.stringify(s.verdicts));
  deepEqual([s.iterations, s.warmup, s.mismatches, s.errors], [7, 2, 0, 0]);
  deepEqual(s.mbps?.median, 700, "median of the 5 samples after warm-up");
  deepEqual([s.mbps?.min, s.mbps?.max], [690, 710], "the slow first iteration is left out");
  ok(Math.abs(s.clientCpu.share! - 0.5) < 1e-9);
  // 64 MiB at 700 MB/s: the median time of one transfer, the per-request figure.
  ok(Math.abs(s.milliseconds!.median - (64 * MiB) / 700e6 * 1000) < 1e-9);
  equal(s.milliseconds!.count, 5);
  equal(s.serverCpu, null);
  equal(s.serverMemory, null);
  equal(s.verdicts.serverLeak.status, "not measured");
  deepEqual([s.clientMemory.start, s.clientMemory.peak, s.clientMemory.end], [
    50 * MiB,
    51 * MiB,
    50 * MiB,
  ]);
});

Deno.test("check/verdict: summarizeDirection() holds only files of 1 MiB or more to uniformity", () => {
  const scattered = [100, 20, 300, 15, 250, 40, 400];
  const small = summarizeDirection(fileOf(1024), "put", records(fileOf(1024), scattered), 2, {
    ...DEFAULT_THRESHOLDS,
  });
  equal(small.verdicts.uniformity.status, "n/a");
  equal(small.passed, true, JSON.stringify(small.verdicts));
  ok((small.mbps?.cv ?? 0) > 0.5, "the CV is still reported");
  const big = summarizeDirection(fileOf(MiB), "put", records(fileOf(MiB), scattered), 2, {
    ...DEFAULT_THRESHOLDS,
  });
  equal(big.verdicts.uniformity.status, "fail");
  equal(big.passed, false);
});

Deno.test("check/verdict: summarizeDirection() fails identity on a mismatch or an error", () => {
  const file = fileOf(MiB);
  const outcomes: Outcome[] = ["ok", "ok", "mismatch", "ok", "error", "ok"];
  const s = summarizeDirection(
    file,
    "get",
    records(file, [500, 500, 500, 500, 500, 500], undefined, outcomes),
    2,
    DEFAULT_THRESHOLDS,
  );
  equal(s.passed, false);
  deepEqual([s.mismatches, s.errors], [1, 1]);
  equal(s.verdicts.identity.status, "fail");
  equal(s.mbps?.count, 2, "only successful transfers after warm-up count for speed");
});

Deno.test("check/verdict: summarizeDirection() judges the server's memory with its own limit", () => {
  const file = fileOf(MiB);
  const n = 10;
  const speeds = Array.from({ length: n }, () => 400);
  const client = speeds.map(() => 50 * MiB);
  const growing = speeds.map((_, i) => 60 * MiB + i * 2 * MiB);
  const s = summarizeDirection(file, "put", records(file, speeds, client, undefined, growing), 2, {
    ...DEFAULT_THRESHOLDS,
  });
  equal(s.verdicts.serverLeak.status, "pass", "2 MiB/it is under the server's 4 MiB default");
  const strict = summarizeDirection(
    file,
    "put",
    records(file, speeds, client, undefined, growing),
    2,
    { ...DEFAULT_THRESHOLDS, maxServerLeakPerIteration: MiB },
  );
  equal(strict.verdicts.serverLeak.status, "fail");
  equal(strict.verdicts.clientLeak.status, "pass");
  equal(strict.passed, false);
  ok(strict.serverCpu !== null && strict.serverMemory !== null);
});

Deno.test("check/verdict: summarizeDirection() of one iteration judges identity only", () => {
  const file = fileOf(MiB);
  const s = summarizeDirection(file, "get", records(file, [400]), 2, DEFAULT_THRESHOLDS);
  equal(s.warmup, 0, "the warm-up is clamped so that the one iteration counts");
  equal(s.mbps?.median, 400);
  equal(s.mbps?.cv, null);
  deepEqual(
    [s.verdicts.identity.status, s.verdicts.uniformity.status, s.verdicts.clientLeak.status],
    ["pass", "not measured", "not measured"],
  );
  equal(s.passed, true);
});

Deno.test("check/verdict: summarizeDirection() of a zero-byte file has no speed to judge", () => {
  const file = fileOf(0);
  const s = summarizeDirection(file, "put", records(file, [0, 0, 0, 0, 0]), 2, DEFAULT_THRESHOLDS);
  equal(s.mbps, null);
  deepEqual([s.verdicts.uniformity.status, s.verdicts.speed.status], ["n/a", "n/a"]);
  equal(s.verdicts.identity.status, "pass");
  equal(s.passed, true);
});

Deno.test("check/verdict: summarizeDirection() with no records at all fails", () => {
  const s = summarizeDirection(fileOf(1024), "get", [], 2, DEFAULT_THRESHOLDS);
  deepEqual([s.iterations, s.passed, s.verdicts.identity.status], [0, false, "fail"]);
});
