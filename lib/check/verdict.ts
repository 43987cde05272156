/**
 * The verdict of a check: from the records of one file and direction to its
 * summary (speed figures, CPU share, memory trend) and to pass or fail for
 * each property: identity, uniformity of speed, minimum speed, CPU share,
 * and memory leaks in the client and the server.
 *
 * @module
 */

import { formatBytes } from "../bytes.ts";
import { linearSlope, summarize } from "./stats.ts";
import type {
  CheckFile,
  CpuSummary,
  Direction,
  DirectionSummary,
  IterationRecord,
  MemorySummary,
  Thresholds,
  Verdict,
} from "./types.ts";

/** The default thresholds (see {@linkcode Thresholds} for each). */
export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  maxCv: 0.5,
  maxLeakPerIteration: 1024 * 1024,
  maxServerLeakPerIteration: 4 * 1024 * 1024,
  minMbps: 1,
  minMbpsFileSize: 1024 * 1024,
  maxCpuShare: 0,
  minSamplesForCv: 3,
  minSamplesForLeak: 5,
});

const pass = (detail: string): Verdict => ({ status: "pass", detail });
const fail = (detail: string): Verdict => ({ status: "fail", detail });
const na = (detail: string): Verdict => ({ status: "n/a", detail });
const unmeasured = (detail: string): Verdict => ({ status: "not measured", detail });

/** The reason for too few samples, such as `3 samples after warm-up, need 5`. */
const fewSamples = (count: number, needed: number) =>
  `${count} sample${count === 1 ? "" : "s"} after warm-up, need ${needed}`;

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Judges whether speeds are uniform: their coefficient of variation is at
 * most `thresholds.maxCv`.
 *
 * @param mbps The speeds after warm-up.
 * @param thresholds `maxCv` and `minSamplesForCv`.
 * @returns Pass, fail, or not measured for too few samples (or speeds of 0).
 *
 * @example
 * ```ts
 * import { DEFAULT_THRESHOLDS, judgeUniformity } from "./verdict.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(judgeUniformity([100, 101, 99], DEFAULT_THRESHOLDS).status, "pass");
 * deepEqual(judgeUniformity([10, 100, 1000], DEFAULT_THRESHOLDS).status, "fail");
 * deepEqual(judgeUniformity([100], DEFAULT_THRESHOLDS).status, "not measured");
 * ```
 */
export function judgeUniformity(
  mbps: readonly number[],
  thresholds: Pick<Thresholds, "maxCv" | "minSamplesForCv">,
): Verdict {
  const s = summarize(mbps);
  if (s === null || s.count < thresholds.minSamplesForCv) {
    return unmeasured(fewSamples(s?.count ?? 0, thresholds.minSamplesForCv));
  }
  if (s.cv === null) return unmeasured("no speed to compare (mean of 0)");
  const text = `CV ${percent(s.cv)} (limit ${percent(thresholds.maxCv)})`;
  return s.cv <= thresholds.maxCv ? pass(text) : fail(text);
}

/**
 * Judges a resident-memory series for a leak: the least-squares slope of
 * the samples after warm-up must not exceed `thresholds.maxLeakPerIteration`
 * bytes per iteration.
 *
 * @param rss Resident memory after each iteration, all iterations, in bytes.
 * @param warmup How many leading samples to leave out.
 * @param limits `maxLeakPerIteration` (bytes per iteration) and `minSamplesForLeak`.
 * @returns The slope (bytes per iteration, `null` when too few samples) and the verdict.
 *
 * @example
 * ```ts
 * import { DEFAULT_THRESHOLDS, judgeLeak } from "./verdict.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const MiB = 1048576;
 * const leaking = Array.from({ length: 10 }, (_, i) => 50 * MiB + i * 4 * MiB);
 * deepEqual(judgeLeak(leaking, 2, DEFAULT_THRESHOLDS).verdict.status, "fail");
 * deepEqual(judgeLeak(leaking, 2, DEFAULT_THRESHOLDS).slope, 4 * MiB);
 * deepEqual(judgeLeak([50 * MiB, 50 * MiB], 0, DEFAULT_THRESHOLDS).verdict.detail, "2 samples after warm-up, need 5");
 * ```
 */
export function judgeLeak(
  rss: readonly number[],
  warmup: number,
  limits: Pick<Thresholds, "maxLeakPerIteration" | "minSamplesForLeak">,
): { slope: number | null; verdict: Verdict } {
  const series = rss.slice(warmup);
  const slope = linearSlope(series);
  if (slope === null || series.length < limits.minSamplesForLeak) {
    return {
      slope,
      verdict: unmeasured(fewSamples(series.length, limits.minSamplesForLeak)),
    };
  }
  const text = `${signedBytes(slope)}/iteration (limit ${formatBytes(limits.maxLeakPerIteration)})`;
  return { slope, verdict: slope <= limits.maxLeakPerIteration ? pass(text) : fail(text) };
}

function signedBytes(n: number): string {
  return (n < 0 ? "-" : "+") + formatBytes(Math.round(Math.abs(n)));
}

/**
 * Judges the median speed against `thresholds.minMbps`, for files of at
 * least `thresholds.minMbpsFileSize` bytes.
 *
 * @param medianMbps The median MB/s after warm-up, or `null` when no transfer succeeded.
 * @param size The file's size.
 * @param thresholds `minMbps` and `minMbpsFileSize`.
 * @returns The verdict.
 *
 * @example
 * ```ts
 * import { DEFAULT_THRESHOLDS, judgeSpeed } from "./verdict.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const t = { ...DEFAULT_THRESHOLDS, minMbps: 100 };
 * deepEqual(judgeSpeed(50, 64 * 1048576, t).status, "fail");
 * deepEqual(judgeSpeed(50, 1024, t).status, "n/a");
 * ```
 */
export function judgeSpeed(
  medianMbps: number | null,
  size: number,
  thresholds: Pick<Thresholds, "minMbps" | "minMbpsFileSize">,
): Verdict {
  if (thresholds.minMbps <= 0) return na("no minimum set");
  if (size < thresholds.minMbpsFileSize) {
    return na(`files under ${formatBytes(thresholds.minMbpsFileSize)} measure round trips`);
  }
  if (medianMbps === null) return unmeasured("no successful transfer to measure");
  const text = `median ${medianMbps.toFixed(1)} MB/s (minimum ${thresholds.minMbps} MB/s)`;
  return medianMbps >= thresholds.minMbps ? pass(text) : fail(text);
}

/**
 * Judges CPU shares against `thresholds.maxCpuShare` (off when 0).
 *
 * @param shares The client's and, when measured, the server's CPU share.
 * @param thresholds `maxCpuShare`.
 * @returns The verdict.
 *
 * @example
 * ```ts
 * import { DEFAULT_THRESHOLDS, judgeCpu } from "./verdict.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(judgeCpu({ client: 1.2, server: null }, { ...DEFAULT_THRESHOLDS, maxCpuShare: 1 }).status, "fail");
 * deepEqual(judgeCpu({ client: 1.2, server: 0.5 }, DEFAULT_THRESHOLDS).status, "n/a");
 * ```
 */
export function judgeCpu(
  shares: { client: number | null; server: number | null },
  thresholds: Pick<Thresholds, "maxCpuShare">,
): Verdict {
  if (thresholds.maxCpuShare <= 0) return na("no limit set");
  const over: string[] = [];
  for (const [who, share] of Object.entries(shares)) {
    if (share !== null && share > thresholds.maxCpuShare) over.push(`${who} ${percent(share)}`);
  }
  const limit = `limit ${percent(thresholds.maxCpuShare)}`;
  return over.length ? fail(`${over.join(", ")} (${limit})`) : pass(limit);
}

function cpuSummary(
  records: readonly IterationRecord[],
  pick: (r: IterationRecord) => { user: number; system: number } | null,
): CpuSummary | null {
  let user = 0;
  let system = 0;
  let wall = 0;
  for (const r of records) {
    const c = pick(r);
    if (c === null) return null;
    user += c.user;
    system += c.system;
    wall += r.seconds;
  }
  return {
    userSeconds: user,
    systemSeconds: system,
    wallSeconds: wall,
    share: wall > 0 ? (user + system) / wall : null,
  };
}

function memorySummary(
  records: readonly IterationRecord[],
  warmup: number,
  limits: Pick<Thresholds, "maxLeakPerIteration" | "minSamplesForLeak">,
  end: (r: IterationRecord) => number | null,
  peak: (r: IterationRecord) => number | null,
): MemorySummary | null {
  const ends = records.map(end);
  const peaks = records.map(peak);
  if (ends.length === 0 || ends.some((x) => x === null)) return null;
  const series = ends as number[];
  const { slope, verdict } = judgeLeak(series, warmup, limits);
  return {
    start: series[0]!,
    peak: [...series, ...peaks.map((p) => p ?? 0)].reduce((a, b) => Math.max(a, b)),
    end: series[series.length - 1]!,
    slopePerIteration: slope,
    leak: verdict,
  };
}

/**
 * Summarizes and judges the transfers of one file in one direction.
 *
 * @param file The file.
 * @param direction PUT or GET.
 * @param records Its records, in iteration order.
 * @param warmup Leading iterations to leave out of speed and memory figures
 * (clamped so that at least one iteration counts).
 * @param thresholds The limits.
 * @returns The summary with its verdicts.
 *
 * @example
 * ```ts
 * import { DEFAULT_THRESHOLDS, summarizeDirection } from "./verdict.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const file = { name: "a", path: "a", size: 0, sha256: "e3", origin: "generated" as const };
 * const s = summarizeDirection(file, "get", [], 2, DEFAULT_THRESHOLDS);
 * deepEqual([s.iterations, s.passed, s.verdicts.identity.status], [0, false, "fail"]);
 * ```
 */
export function summarizeDirection(
  file: CheckFile,
  direction: Direction,
  records: readonly IterationRecord[],
  warmup: number,
  thresholds: Thresholds,
): DirectionSummary {
  const w = Math.max(0, Math.min(warmup, records.length - 1));
  const after = records.slice(w);
  const mismatches = records.filter((r) => r.outcome === "mismatch").length;
  const errors = records.filter((r) => r.outcome === "error").length;
  const speeds = after.filter((r) => r.outcome === "ok" && r.mbps !== null).map((r) => r.mbps!);
  const mbps = summarize(speeds);
  const milliseconds = summarize(
    after.filter((r) => r.outcome === "ok").map((r) => r.seconds * 1000),
  );
  const clientCpu = cpuSummary(records, (r) => r.clientCpu)!;
  const serverCpu = cpuSummary(records, (r) => r.serverCpu);
  const clientMemory =
    memorySummary(records, w, thresholds, (r) => r.clientRss, (r) => r.clientRssPeak) ??
      {
        start: 0,
        peak: 0,
        end: 0,
        slopePerIteration: null,
        leak: unmeasured("no transfers"),
      };
  const serverMemory = memorySummary(
    records,
    w,
    { ...thresholds, maxLeakPerIteration: thresholds.maxServerLeakPerIteration },
    (r) => r.serverRss,
    (r) => r.serverRssPeak,
  );
  let identity: Verdict;
  if (records.length === 0) identity = fail("no transfers were made");
  else if (mismatches + errors === 0) identity = pass(`${records.length} identical copies`);
  else identity = fail(`${mismatches} mismatch(es), ${errors} error(s)`);
  const verdicts = {
    identity,
    uniformity: file.size === 0
      ? na("an empty file has no speed")
      : file.size < thresholds.minMbpsFileSize
      // A small file's time is a few round trips and scheduling noise: its CV says nothing.
      ? na(`files under ${formatBytes(thresholds.minMbpsFileSize)} measure round trips`)
      : judgeUniformity(speeds, thresholds),
    speed: file.size === 0
      ? na("an empty file has no speed")
      : judgeSpeed(mbps?.median ?? null, file.size, thresholds),
    cpu: judgeCpu({ client: clientCpu.share, server: serverCpu?.share ?? null }, thresholds),
    clientLeak: clientMemory.leak,
    serverLeak: serverMemory?.leak ??
      unmeasured("the server's process cannot be sampled (a remote or in-process server)"),
  };
  return {
    file: file.name,
    size: file.size,
    direction,
    iterations: records.length,
    warmup: w,
    mismatches,
    errors,
    mbps,
    milliseconds,
    clientCpu,
    serverCpu,
    clientMemory,
    serverMemory,
    verdicts,
    passed: Object.values(verdicts).every((v) => v.status !== "fail"),
  };
}
