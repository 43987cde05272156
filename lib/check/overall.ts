/**
 * The report of a whole check, built from its records, and its verdict as
 * the text, HTML and JSON reports give it:
 * pass, fail or interrupted, and which checks were not measured and why, so
 * that a PASS never hides a memory check that did not run. Also the
 * thresholds in one sentence, with the rule that exempts small files.
 *
 * @module
 */

import { formatBytes } from "../bytes.ts";
import type {
  CheckName,
  CheckReport,
  DirectionSummary,
  Failure,
  NotMeasured,
  OverallVerdict,
  RequestProbe,
  Thresholds,
} from "./types.ts";
import { summarizeDirection } from "./verdict.ts";

/** The checks' names in the reports. */
export const CHECK_NAMES: Readonly<Record<CheckName, string>> = {
  identity: "identity",
  uniformity: "uniformity",
  speed: "speed",
  cpu: "CPU",
  clientLeak: "client memory",
  serverLeak: "server memory",
};

/**
 * Lists every check that applied but was not measured, file by file.
 *
 * @param summaries The summaries of a run.
 * @returns One entry per file, direction and check, in the summaries' order.
 *
 * @example
 * ```ts
 * import { listNotMeasured } from "./overall.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const verdicts = { clientLeak: { status: "not measured" as const, detail: "1 sample after warm-up, need 5" } };
 * const s = { file: "a", direction: "get", verdicts } as unknown as Parameters<typeof listNotMeasured>[0][0];
 * deepEqual(listNotMeasured([s]), [
 *   { file: "a", direction: "get", check: "clientLeak", reason: "1 sample after warm-up, need 5" },
 * ]);
 * ```
 */
export function listNotMeasured(summaries: readonly DirectionSummary[]): NotMeasured[] {
  return summaries.flatMap((s) =>
    (Object.entries(s.verdicts) as [CheckName, DirectionSummary["verdicts"][CheckName]][])
      .filter(([, v]) => v.status === "not measured")
      .map(([check, v]) => ({ file: s.file, direction: s.direction, check, reason: v.detail }))
  );
}

/** `"a" PUT` for one direction of a file, `"a"` for both; at most three, then a count. */
function whereText(places: readonly { file: string; direction: string }[]): string {
  const byFile = new Map<string, string[]>();
  for (const p of places) byFile.set(p.file, [...byFile.get(p.file) ?? [], p.direction]);
  const items = [...byFile].map(([file, dirs]) =>
    dirs.length > 1 ? `"${file}"` : `"${file}" ${dirs[0]!.toUpperCase()}`
  );
  const more = items.length > 3 ? ` and ${items.length - 3} more` : "";
  return items.slice(0, 3).join(", ") + more;
}

/**
 * Says what was not measured in one line: checks with the same reason over
 * the same files are told once; "memory" stands for the client's and the
 * server's when both share it; files are named unless it is all of them.
 *
 * @param notMeasured From {@linkcode listNotMeasured}.
 * @param summaryCount How many summaries (file and direction) the run has.
 * @returns Such as `memory not measured: 3 samples after warm-up, need 5`; "" for none.
 *
 * @example
 * ```ts
 * import { describeNotMeasured } from "./overall.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const reason = "3 samples after warm-up, need 5";
 * const nm = [
 *   { file: "a", direction: "put" as const, check: "clientLeak" as const, reason },
 *   { file: "a", direction: "put" as const, check: "serverLeak" as const, reason },
 * ];
 * deepEqual(describeNotMeasured(nm, 1), "memory not measured: 3 samples after warm-up, need 5");
 * deepEqual(describeNotMeasured(nm.slice(0, 1), 2), 'client memory not measured for "a" PUT: 3 samples after warm-up, need 5');
 * ```
 */
export function describeNotMeasured(
  notMeasured: readonly NotMeasured[],
  summaryCount: number,
): string {
  const groups = new Map<string, { names: string[]; reason: string; places: NotMeasured[] }>();
  for (const n of notMeasured) {
    const key = `${n.check}\0${n.reason}`;
    const g = groups.get(key) ?? { names: [CHECK_NAMES[n.check]], reason: n.reason, places: [] };
    g.places.push(n);
    groups.set(key, g);
  }
  const placesKey = (g: { places: NotMeasured[] }) =>
    g.places.map((p) => `${p.file}\0${p.direction}`).join("\n");
  const merged: { names: string[]; reason: string; places: NotMeasured[] }[] = [];
  for (const g of groups.values()) {
    const twin = merged.find((m) => m.reason === g.reason && placesKey(m) === placesKey(g));
    if (twin) twin.names = twin.names.concat(g.names);
    else merged.push(g);
  }
  return merged.map((g) => {
    const name = g.names.join(" and ") === "client memory and server memory"
      ? "memory"
      : g.names.join(" and ");
    const where = g.places.length >= summaryCount ? "" : ` for ${whereText(g.places)}`;
    return `${name} not measured${where}: ${g.reason}`;
  }).join("; ");
}

/**
 * The verdict of a whole run.
 *
 * @param run Whether it was interrupted, how many transfers ran, how many
 * failed (mismatch or error), and the summaries.
 * @returns The status, the line the reports print, and what was not measured.
 *
 * @example
 * ```ts
 * import { overallVerdict } from "./overall.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const v = overallVerdict({ interrupted: false, transfers: 4, failures: 0, summaries: [] });
 * deepEqual(v.text, "PASS (4 transfers, every copy identical, no threshold crossed)");
 * ```
 */
export function overallVerdict(run: {
  interrupted: boolean;
  transfers: number;
  failures: number;
  summaries: readonly DirectionSummary[];
}): OverallVerdict {
  const notMeasured = listNotMeasured(run.summaries);
  const missing = describeNotMeasured(notMeasured, run.summaries.length);
  const crossed =
    run.summaries.flatMap((s) =>
      Object.entries(s.verdicts).filter(([name, v]) => name !== "identity" && v.status === "fail")
    ).length;
  const passed = run.failures === 0 && run.summaries.every((s) => s.passed);
  if (run.interrupted) {
    return {
      status: "interrupted",
      text: "INTERRUPTED (the figures cover what ran)",
      notMeasured,
    };
  }
  const text = passed
    ? `PASS (${run.transfers} transfers, every copy identical, ` +
      (missing ? `no measured threshold crossed; ${missing})` : "no threshold crossed)")
    : `FAIL (${run.failures} mismatch(es) or error(s), ${crossed} threshold(s) crossed` +
      (missing ? `; ${missing})` : ")");
  return { status: passed ? "pass" : "fail", text, notMeasured };
}

/**
 * The thresholds in one sentence, with the rule that exempts small files
 * from the CV and speed limits (size under `minMbpsFileSize`) and the
 * samples each check needs.
 *
 * @param t The thresholds of the run.
 * @returns The sentence, without a final full stop.
 *
 * @example
 * ```ts
 * import { describeThresholds } from "./overall.ts";
 * import { DEFAULT_THRESHOLDS } from "./verdict.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(describeThresholds(DEFAULT_THRESHOLDS).includes("files under 1.0 MiB (1,048,576 bytes) are exempt"));
 * ```
 */
export function describeThresholds(t: Thresholds): string {
  const small = `${formatBytes(t.minMbpsFileSize)} (${
    t.minMbpsFileSize.toLocaleString("en-US")
  } bytes)`;
  const pct = (x: number) => `${Number((x * 100).toFixed(1))}%`;
  return [
    `CV of MB/s at most ${pct(t.maxCv)}, over at least ${t.minSamplesForCv} samples after ` +
    `warm-up; files under ${small} are exempt (their times are round trips, not throughput)`,
    t.minMbps > 0
      ? `median at least ${t.minMbps} MB/s, for files of ${formatBytes(t.minMbpsFileSize)} or more`
      : "no minimum speed",
    `memory growth at most ${formatBytes(t.maxLeakPerIteration)}/iteration (client), ` +
    `${formatBytes(t.maxServerLeakPerIteration)}/iteration (server), over at least ` +
    `${t.minSamplesForLeak} samples after warm-up`,
    t.maxCpuShare > 0 ? `CPU at most ${pct(t.maxCpuShare)}` : "no CPU limit",
  ].join("; ");
}

/** What a run knows before it is judged: a {@linkcode CheckReport} without its derived fields. */
export type ReportInput =
  & Omit<CheckReport, "format" | "summaries" | "failures" | "passed" | "verdict" | "requests">
  & {
    /** What one request cost (none when not probed). */
    requests?: RequestProbe[] | undefined;
  };

/**
 * Builds a check's report from its records: a summary and verdicts per file
 * and direction, the list of failures, and the overall verdict.
 *
 * @param run The settings, files and records of the run.
 * @returns The report, as `--json` writes it.
 *
 * @example
 * ```ts
 * import { buildReport } from "./overall.ts";
 * import { DEFAULT_THRESHOLDS } from "./verdict.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const report = buildReport({
 *   tool: "bftp 0", startedAt: "", finishedAt: "", interrupted: false,
 *   machine: { os: "linux", arch: "x86_64", cpus: 2, cpuModel: null, deno: "2" },
 *   target: { description: "test", embedded: true, serverMeasured: false },
 *   settings: { iterations: 0, warmup: 0, getSink: "file", thresholds: DEFAULT_THRESHOLDS },
 *   files: [], iterations: [],
 * });
 * deepEqual([report.format, report.passed, report.verdict.status], [2, true, "pass"]);
 * ```
 */
export function buildReport(run: ReportInput): CheckReport {
  const { files, iterations: records, settings } = run;
  const summaries = files.flatMap((file) =>
    (["put", "get"] as const).map((direction) =>
      summarizeDirection(
        file,
        direction,
        records.filter((r) => r.file === file.name && r.direction === direction),
        settings.warmup,
        settings.thresholds,
      )
    )
  );
  const failures: Failure[] = records.filter((r) => r.outcome !== "ok").map((r) => ({
    file: r.file,
    direction: r.direction,
    iteration: r.iteration,
    outcome: r.outcome as Failure["outcome"],
    expectedSha256: r.expectedSha256,
    actualSha256: r.actualSha256,
    message: r.error ?? "",
  }));
  const verdict = overallVerdict({
    interrupted: run.interrupted,
    transfers: records.length,
    failures: failures.length,
    summaries,
  });
  return {
    format: 2,
    ...run,
    requests: run.requests ?? [],
    summaries,
    failures,
    passed: verdict.status === "pass",
    verdict,
  };
}
