/**
 * The readable report of a check, as `bftp check` prints it on stdout: a
 * table of identity and speed, a table of CPU and memory, every mismatch
 * and error by file and iteration, and the verdict.
 *
 * @module
 */

import { formatBytes } from "../bytes.ts";
import { CHECK_NAMES, describeThresholds } from "./overall.ts";
import type {
  CheckName,
  CheckReport,
  DirectionSummary,
  Failure,
  MemorySummary,
  Verdict,
} from "./types.ts";

/**
 * Lays out rows as columns: the first `leftColumns` columns aligned left,
 * the others right, two spaces apart.
 *
 * @param rows The cells, the header first.
 * @param leftColumns How many leading columns are text.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { formatTable } from "./report_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatTable([["a", "n"], ["bb", "1"]], 1), ["a   n", "bb  1"]);
 * ```
 */
export function formatTable(rows: readonly (readonly string[])[], leftColumns: number): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row) =>
    row.map((cell, i) => i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))
      .join("  ").trimEnd()
  );
}

/**
 * Milliseconds for a table cell: two decimals under 100, `-` for none.
 *
 * @param x The milliseconds.
 * @returns The cell's text.
 *
 * @example
 * ```ts
 * import { ms } from "./report_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([ms(0.4321), ms(250.4), ms(null)], ["0.43", "250", "-"]);
 * ```
 */
export const ms = (x: number | null | undefined): string =>
  x === null || x === undefined ? "-" : x >= 100 ? x.toFixed(0) : x.toFixed(2);
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
const pct = (x: number | null) => x === null ? "-" : `${(x * 100).toFixed(0)}%`;
const num = (x: number | null | undefined) =>
  x === null || x === undefined ? "-" : x >= 100 ? x.toFixed(0) : x.toFixed(1);

/**
 * A memory summary in one cell: start / peak / end in MiB, and the trend.
 *
 * @param m The summary, or `null` when not measured.
 * @returns Such as `50.2/53.6/53.5 +124.0 KiB/it`.
 *
 * @example
 * ```ts
 * import { memoryCell } from "./report_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const leak = { status: "pass" as const, detail: "" };
 * deepEqual(memoryCell({ start: 1048576, peak: 2097152, end: 1048576, slopePerIteration: 0, leak }), "1.0/2.0/1.0  +0 B/it");
 * deepEqual(memoryCell(null), "-");
 * ```
 */
export function memoryCell(m: MemorySummary | null): string {
  if (m === null) return "-";
  const trend = m.slopePerIteration === null
    ? "-"
    : `${m.slopePerIteration < 0 ? "-" : "+"}${
      formatBytes(Math.round(Math.abs(m.slopePerIteration)))
    }/it`;
  return `${mib(m.start)}/${mib(m.peak)}/${mib(m.end)}  ${trend}`;
}

function withStatus(s: DirectionSummary, status: Verdict["status"]): [string, Verdict][] {
  return (Object.entries(s.verdicts) as [CheckName, Verdict][])
    .filter(([, v]) => v.status === status)
    .map(([k, v]) => [CHECK_NAMES[k], v]);
}

const failing = (s: DirectionSummary) => withStatus(s, "fail");

/**
 * The verdict cell of a summary row: `pass`, `pass (not measured: memory)`,
 * or `FAIL: ` and what failed.
 *
 * @param s The summary.
 * @returns The cell's text.
 *
 * @example
 * ```ts
 * import { verdictCell } from "./report_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const v = (status: "pass" | "not measured") => ({ status, detail: "" });
 * const verdicts = { identity: v("pass"), clientLeak: v("not measured"), serverLeak: v("not measured") };
 * deepEqual(verdictCell({ verdicts } as unknown as Parameters<typeof verdictCell>[0]), "pass (not measured: memory)");
 * ```
 */
export function verdictCell(s: DirectionSummary): string {
  const bad = failing(s);
  if (bad.length) return `FAIL: ${bad.map(([name]) => name).join(", ")}`;
  const missing = withStatus(s, "not measured").map(([name]) => name).join(", ")
    .replace("client memory, server memory", "memory");
  return missing ? `pass (not measured: ${missing})` : "pass";
}

const SPEED_HEADER = [
  "file",
  "size",
  "dir",
  "runs",
  "bad",
  "err",
  "MB/s med",
  "min",
  "max",
  "CV",
  "ms/req",
  "verdict",
];

/** A summary's row in the table of identity and speed. */
function speedRow(s: DirectionSummary): string[] {
  return [
    s.file,
    formatBytes(s.size),
    s.direction.toUpperCase(),
    String(s.iterations),
    String(s.mismatches),
    String(s.errors),
    num(s.mbps?.median),
    num(s.mbps?.min),
    num(s.mbps?.max),
    s.mbps?.cv === null || s.mbps === null ? "-" : pct(s.mbps.cv),
    ms(s.milliseconds?.median),
    verdictCell(s),
  ];
}

const COST_HEADER = [
  "file",
  "dir",
  "CPU client",
  "CPU server",
  "client RSS MiB start/peak/end",
  "trend",
  "server RSS MiB start/peak/end",
  "trend",
];

/** A summary's row in the table of CPU and memory. */
function costRow(s: DirectionSummary): string[] {
  return [
    s.file,
    s.direction.toUpperCase(),
    pct(s.clientCpu.share),
    s.serverCpu === null ? "-" : pct(s.serverCpu.share),
    ...memoryCell(s.clientMemory).split("  "),
    ...(s.serverMemory === null ? ["-", "-"] : memoryCell(s.serverMemory).split("  ")),
  ];
}

/**
 * What one request costs inside the session, as the check measured it
 * apart from the iterations (see `request_probe.ts`).
 *
 * @param report The report.
 * @returns The lines, none when nothing was probed.
 *
 * @example
 * ```ts
 * import { perRequestLines } from "./report_text.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const requests = [{ file: "1KiB.bin", requests: 100, medianMs: 0.5, p99Ms: 2, perSecond: 2000, window: 32, pipelinedPerSecond: 9000.4 }];
 * const report = { requests } as unknown as Parameters<typeof perRequestLines>[0];
 * deepEqual(perRequestLines(report), [
 *   'Per request: 100 GETs of "1KiB.bin" one after another, median 0.50 ms, p99 2.00 ms (2,000/s); 32 in flight: 9,000/s.',
 * ]);
 * ```
 */
export function perRequestLines(report: CheckReport): string[] {
  const count = (x: number) => Math.round(x).toLocaleString("en-US");
  return report.requests.map((r) =>
    `Per request: ${r.requests} GETs of "${r.file}" one after another, median ${ms(r.medianMs)} ` +
    `ms, p99 ${ms(r.p99Ms)} ms (${count(r.perSecond)}/s); ${r.window} in flight: ` +
    `${count(r.pipelinedPerSecond)}/s.`
  );
}

/** The mismatches and errors, the first 20 of them, with both hashes of a mismatch. */
function failureLines(failures: readonly Failure[]): string[] {
  if (!failures.length) return [];
  const out = ["", `Mismatches and errors (${failures.length}):`];
  const shown = failures.slice(0, 20);
  for (const f of shown) {
    out.push(
      `  "${f.file}" ${f.direction.toUpperCase()} iteration ${f.iteration}: ${f.outcome}: ` +
        f.message,
    );
    if (f.outcome === "mismatch") {
      out.push(`      expected sha256 ${f.expectedSha256}`);
      out.push(`      got      sha256 ${f.actualSha256 ?? "(unknown)"}`);
    }
  }
  if (failures.length > shown.length) {
    out.push(`  ... and ${failures.length - shown.length} more (see --json)`);
  }
  return out;
}

/**
 * Formats a check's report for a terminal.
 *
 * @param report The report.
 * @returns The text, lines ended by newlines.
 *
 * @example
 * ```ts
 * import { formatTextReport } from "./report_text.ts";
 * import { overallVerdict } from "./overall.ts";
 * import { DEFAULT_THRESHOLDS } from "./verdict.ts";
 * import { ok } from "node:assert/strict";
 *
 * const report = {
 *   format: 2, tool: "bftp 0", startedAt: "", finishedAt: "", interrupted: false, passed: true,
 *   machine: { os: "linux", arch: "x86_64", cpus: 2, cpuModel: null, deno: "2" },
 *   target: { description: "test", embedded: true, serverMeasured: false },
 *   settings: { iterations: 0, warmup: 0, getSink: "file", thresholds: DEFAULT_THRESHOLDS },
 *   files: [], iterations: [], summaries: [], failures: [], requests: [],
 *   verdict: overallVerdict({ interrupted: false, transfers: 0, failures: 0, summaries: [] }),
 * } as unknown as Parameters<typeof formatTextReport>[0];
 * ok(formatTextReport(report).includes("Verdict: PASS (0 transfers"));
 * ```
 */
export function formatTextReport(report: CheckReport): string {
  const { settings, summaries } = report;
  const sink = settings.getSink === "file" ? "written to a local file" : "hashed and dropped";
  const out = [
    `bftp check: ${report.files.length} file(s) x ${settings.iterations} iteration(s), ` +
    `PUT then GET, against ${report.target.description}`,
    `Statistics leave out the first ${settings.warmup} iteration(s) (warm-up); ` +
    `GET bodies ${sink}.`,
    `Thresholds: ${describeThresholds(settings.thresholds)}.`,
    "",
    ...formatTable([SPEED_HEADER, ...summaries.map(speedRow)], 3),
    "ms/req: wall time of one transfer, request to last reply (median after warm-up; each " +
    "transfer follows the check's memory reading, a full garbage collection).",
    ...perRequestLines(report),
    "",
    ...formatTable([COST_HEADER, ...summaries.map(costRow)], 2),
    "CPU: user + system seconds over wall seconds of the transfers (100% = one core busy).",
    "RSS: resident memory after each transfer (the client's after a garbage collection); " +
    "trend: growth per iteration after warm-up.",
    ...failureLines(report.failures),
  ];
  const crossed = summaries.flatMap((s) =>
    failing(s).filter(([name]) => name !== "identity").map(([name, v]) =>
      `  "${s.file}" ${s.direction.toUpperCase()} ${name}: ${v.detail}`
    )
  );
  if (crossed.length) out.push("", "Thresholds crossed:", ...crossed);
  out.push("", `Verdict: ${report.verdict.text}`);
  return out.join("\n") + "\n";
}
