/**
 * The readable report of a check, as `bftp check` prints it on stdout: a
 * table of identity and speed, a table of CPU and memory, every mismatch
 * and error by file and iteration, and the verdict.
 *
 * @module
 */

import { formatBytes } from "../transfer/progress.ts";
import type { CheckReport, DirectionSummary, MemorySummary, Verdict } from "./types.ts";

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
    ? "n/a"
    : `${m.slopePerIteration < 0 ? "-" : "+"}${
      formatBytes(Math.round(Math.abs(m.slopePerIteration)))
    }/it`;
  return `${mib(m.start)}/${mib(m.peak)}/${mib(m.end)}  ${trend}`;
}

const VERDICT_NAMES: Readonly<Record<keyof DirectionSummary["verdicts"], string>> = {
  identity: "identity",
  uniformity: "uniformity",
  speed: "speed",
  cpu: "CPU",
  clientLeak: "client memory",
  serverLeak: "server memory",
};

function failing(s: DirectionSummary): [string, Verdict][] {
  return (Object.entries(s.verdicts) as [keyof typeof VERDICT_NAMES, Verdict][])
    .filter(([, v]) => v.status === "fail")
    .map(([k, v]) => [VERDICT_NAMES[k], v]);
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
 * import { ok } from "node:assert/strict";
 *
 * const report = {
 *   format: 1, tool: "bftp 0", startedAt: "", finishedAt: "", interrupted: false, passed: true,
 *   machine: { os: "linux", arch: "x86_64", cpus: 2, cpuModel: null, deno: "2" },
 *   target: { description: "test", embedded: true, serverMeasured: false },
 *   settings: { iterations: 0, warmup: 0, getSink: "file", thresholds: {} },
 *   files: [], iterations: [], summaries: [], failures: [],
 * } as unknown as Parameters<typeof formatTextReport>[0];
 * ok(formatTextReport(report).includes("PASS"));
 * ```
 */
export function formatTextReport(report: CheckReport): string {
  const { settings, summaries } = report;
  const out: string[] = [];
  const fileCount = report.files.length;
  out.push(
    `bftp check: ${fileCount} file(s) x ${settings.iterations} iteration(s), PUT then GET, ` +
      `against ${report.target.description}`,
  );
  out.push(
    `Statistics leave out the first ${settings.warmup} iteration(s) (warm-up); ` +
      `GET bodies ${
        settings.getSink === "file" ? "written to a local file" : "hashed and dropped"
      }.`,
  );
  out.push("");
  const speedRows = [[
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
    "verdict",
  ]];
  const costRows = [[
    "file",
    "dir",
    "CPU client",
    "CPU server",
    "client RSS MiB start/peak/end",
    "trend",
    "server RSS MiB start/peak/end",
    "trend",
  ]];
  for (const s of summaries) {
    const bad = failing(s);
    speedRows.push([
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
      bad.length ? `FAIL: ${bad.map(([name]) => name).join(", ")}` : "pass",
    ]);
    costRows.push([
      s.file,
      s.direction.toUpperCase(),
      pct(s.clientCpu.share),
      s.serverCpu === null ? "-" : pct(s.serverCpu.share),
      ...memoryCell(s.clientMemory).split("  "),
      ...(s.serverMemory === null ? ["-", "-"] : memoryCell(s.serverMemory).split("  ")),
    ]);
  }
  out.push(...formatTable(speedRows, 3));
  out.push("");
  out.push(...formatTable(costRows, 2));
  out.push(
    "CPU: user + system seconds over wall seconds of the transfers (100% = one core busy).",
  );
  out.push(
    "RSS: resident memory after each transfer (the client's after a garbage collection); " +
      "trend: growth per iteration after warm-up.",
  );
  if (report.failures.length) {
    out.push("");
    out.push(`Mismatches and errors (${report.failures.length}):`);
    const shown = report.failures.slice(0, 20);
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
    if (report.failures.length > shown.length) {
      out.push(`  ... and ${report.failures.length - shown.length} more (see --json)`);
    }
  }
  const crossed = summaries.flatMap((s) =>
    failing(s).filter(([name]) => name !== "identity").map(([name, v]) =>
      `  "${s.file}" ${s.direction.toUpperCase()} ${name}: ${v.detail}`
    )
  );
  if (crossed.length) {
    out.push("");
    out.push("Thresholds crossed:");
    out.push(...crossed);
  }
  out.push("");
  if (report.interrupted) out.push("Verdict: INTERRUPTED (the figures cover what ran)");
  else if (report.passed) {
    out.push(
      `Verdict: PASS (${report.iterations.length} transfers, every copy identical, ` +
        "no threshold crossed)",
    );
  } else {
    out.push(
      `Verdict: FAIL (${report.failures.length} mismatch(es) or error(s), ` +
        `${crossed.length} threshold(s) crossed)`,
    );
  }
  return out.join("\n") + "\n";
}
