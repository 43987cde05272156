/**
 * The HTML report of a check: one self-contained page (styles inline,
 * charts as inline SVG, no script, nothing fetched) with the verdict, the
 * summary table, a chart of speed per iteration for each file, a chart of
 * memory over the whole run, and every mismatch and error.
 *
 * @module
 */

import { formatBytes } from "../transfer/progress.ts";
import { memoryCell } from "./report_text.ts";
import { escapeXml as esc, lineChart } from "./svg_chart.ts";
import type { CheckReport, DirectionSummary, IterationRecord, Verdict } from "./types.ts";

const PUT_COLOR = "#e15759";
const GET_COLOR = "#4e79a7";
const SERVER_COLOR = "#59a14f";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1320px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: bold; }
.pass { background: #2e7d32; } .fail { background: #c62828; } .na { background: #9e9e9e; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e5e5e5; text-align: right; white-space: nowrap; }
th { background: #fafafa; } td.l, th.l { text-align: left; }
td.v { text-align: left; font-size: 12px; }
td.v span { display: inline-block; margin: 1px 2px; padding: 0 5px; border-radius: 3px; color: #fff; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts svg { border: 1px solid #e5e5e5; border-radius: 4px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0; }
dt { color: #666; } dd { margin: 0; }
code { font-size: 12px; } .muted { color: #666; font-size: 12px; }
`;

function badge(status: Verdict["status"], text: string, title = ""): string {
  const cls = status === "pass" ? "pass" : status === "fail" ? "fail" : "na";
  return `<span class="${cls}" title="${esc(title)}">${esc(text)}</span>`;
}

const NAMES: Readonly<Record<keyof DirectionSummary["verdicts"], string>> = {
  identity: "identity",
  uniformity: "uniform",
  speed: "speed",
  cpu: "CPU",
  clientLeak: "client mem",
  serverLeak: "server mem",
};

function summaryRow(s: DirectionSummary): string {
  const n = (x: number | null | undefined) =>
    x === null || x === undefined ? "-" : x >= 100 ? x.toFixed(0) : x.toFixed(1);
  const p = (x: number | null | undefined) =>
    x === null || x === undefined ? "-" : `${(x * 100).toFixed(0)}%`;
  const verdicts = (Object.entries(s.verdicts) as [keyof typeof NAMES, Verdict][])
    .map(([k, v]) => badge(v.status, NAMES[k], v.detail)).join("");
  return `<tr><td class="l">${esc(s.file)}</td><td>${esc(formatBytes(s.size))}</td>` +
    `<td class="l">${s.direction.toUpperCase()}</td><td>${s.iterations}</td>` +
    `<td>${s.mismatches}</td><td>${s.errors}</td><td>${n(s.mbps?.median)}</td>` +
    `<td>${n(s.mbps?.min)}</td><td>${n(s.mbps?.max)}</td><td>${p(s.mbps?.cv)}</td>` +
    `<td>${p(s.clientCpu.share)}</td><td>${p(s.serverCpu?.share)}</td>` +
    `<td>${esc(memoryCell(s.clientMemory))}</td><td>${esc(memoryCell(s.serverMemory))}</td>` +
    `<td class="v">${verdicts}</td></tr>`;
}

function speedChart(report: CheckReport, file: string): string {
  const of = (d: "put" | "get") =>
    report.iterations.filter((r) => r.file === file && r.direction === d);
  const put = of("put");
  const get = of("get");
  const alerts = [...put, ...get].filter((r) => r.outcome !== "ok").map((r) => ({
    x: r.iteration,
    label: `${r.direction.toUpperCase()} iteration ${r.iteration}: ${r.outcome}: ${r.error ?? ""}`,
  }));
  return lineChart({
    title: `${file}: speed per iteration`,
    yLabel: "MB/s",
    xLabel: "iteration",
    series: [
      { name: "PUT", color: PUT_COLOR, values: put.map((r) => r.mbps) },
      { name: "GET", color: GET_COLOR, values: get.map((r) => r.mbps) },
    ],
    shadeUntil: report.settings.warmup,
    alerts,
  });
}

function memoryChart(records: readonly IterationRecord[], measured: boolean): string {
  const dividers: { x: number; label: string }[] = [];
  records.forEach((r, i) => {
    if (i === 0 || records[i - 1]!.file !== r.file) dividers.push({ x: i + 1, label: r.file });
  });
  const mib = (b: number | null) => b === null ? null : b / 1048576;
  return lineChart({
    title: "Resident memory after each transfer, in run order",
    yLabel: "MiB",
    xLabel: "transfer (PUT and GET alternate)",
    width: 1300,
    height: 300,
    series: [
      { name: "client (after GC)", color: GET_COLOR, values: records.map((r) => mib(r.clientRss)) },
      {
        name: "client peak",
        color: GET_COLOR,
        dashed: true,
        values: records.map((r) => mib(r.clientRssPeak)),
      },
      ...(measured
        ? [
          { name: "server", color: SERVER_COLOR, values: records.map((r) => mib(r.serverRss)) },
          {
            name: "server peak",
            color: SERVER_COLOR,
            dashed: true,
            values: records.map((r) => mib(r.serverRssPeak)),
          },
        ]
        : []),
    ],
    dividers,
  });
}

/**
 * Renders a check's report as one self-contained HTML page. It references
 * nothing outside itself, so it opens the same offline, attached to a mail,
 * or years later.
 *
 * @param report The report.
 * @returns The HTML document.
 *
 * @example
 * ```ts
 * import { renderHtmlReport } from "./report_html.ts";
 * import { ok } from "node:assert/strict";
 *
 * const report = {
 *   format: 1, tool: "bftp 0", startedAt: "", finishedAt: "", interrupted: false, passed: true,
 *   machine: { os: "linux", arch: "x86_64", cpus: 2, cpuModel: null, deno: "2" },
 *   target: { description: "test", embedded: true, serverMeasured: false },
 *   settings: { iterations: 0, warmup: 0, getSink: "file", thresholds: {} },
 *   files: [], iterations: [], summaries: [], failures: [],
 * } as unknown as Parameters<typeof renderHtmlReport>[0];
 * const html = renderHtmlReport(report);
 * ok(html.startsWith("<!doctype html>") && !/https?:/.test(html));
 * ```
 */
export function renderHtmlReport(report: CheckReport): string {
  const status = report.interrupted ? "INTERRUPTED" : report.passed ? "PASS" : "FAIL";
  const t = report.settings.thresholds;
  const m = report.machine;
  const parts: string[] = [];
  parts.push(
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>bftp check: ${status}</title><style>${STYLE}</style></head><body>`,
    `<h1>bftp check ${badge(report.passed ? "pass" : "fail", status)}</h1>`,
    `<p class="muted">${esc(report.tool)}, ${esc(report.startedAt)} to ${
      esc(report.finishedAt)
    }</p>`,
    "<dl>",
    `<dt>Server</dt><dd>${esc(report.target.description)}</dd>`,
    `<dt>Machine</dt><dd>${m.cpus} CPU(s)${m.cpuModel ? ` (${esc(m.cpuModel)})` : ""}, ${
      esc(m.os)
    } ${esc(m.arch)}, Deno ${esc(m.deno)}</dd>`,
    `<dt>Run</dt><dd>${report.files.length} file(s) x ${report.settings.iterations} ` +
      `iteration(s), each a PUT then a GET; the first ${report.settings.warmup} left out of ` +
      `the statistics (warm-up); GET bodies ${
        report.settings.getSink === "file" ? "written to a local file" : "hashed and dropped"
      }</dd>`,
    `<dt>Thresholds</dt><dd>CV of MB/s at most ${(t.maxCv * 100).toFixed(0)}%; memory growth ` +
      `at most ${esc(formatBytes(t.maxLeakPerIteration))}/iteration (client), ${
        esc(formatBytes(t.maxServerLeakPerIteration))
      }/iteration (server); ${
        t.minMbps > 0
          ? `median at least ${t.minMbps} MB/s for files of ${
            esc(formatBytes(t.minMbpsFileSize))
          } or more`
          : "no minimum speed"
      }; ${
        t.maxCpuShare > 0 ? `CPU at most ${(t.maxCpuShare * 100).toFixed(0)}%` : "no CPU limit"
      }</dd>`,
    "</dl>",
  );
  parts.push(
    "<h2>Summary</h2><table><thead><tr>",
    '<th class="l">file</th><th>size</th><th class="l">dir</th><th>runs</th><th>bad</th>',
    "<th>errors</th><th>MB/s median</th><th>min</th><th>max</th><th>CV</th>",
    "<th>CPU client</th><th>CPU server</th><th>client RSS MiB start/peak/end, trend</th>",
    '<th>server RSS MiB</th><th class="l">verdicts</th></tr></thead><tbody>',
    ...report.summaries.map(summaryRow),
    "</tbody></table>",
    '<p class="muted">Hover a verdict for its figures. CPU: user + system seconds over the ' +
      "wall seconds of the transfers (100% = one core busy). RSS: resident memory after each " +
      "transfer (the client's after a garbage collection); trend: least-squares growth per " +
      "iteration after warm-up.</p>",
  );
  if (report.failures.length) {
    parts.push(`<h2>Mismatches and errors (${report.failures.length})</h2><table><thead><tr>`);
    parts.push(
      '<th class="l">file</th><th class="l">dir</th><th>iteration</th><th class="l">what</th>',
      '<th class="l">expected / got SHA-256</th></tr></thead><tbody>',
    );
    for (const f of report.failures) {
      parts.push(
        `<tr><td class="l">${esc(f.file)}</td><td class="l">${f.direction.toUpperCase()}</td>` +
          `<td>${f.iteration}</td><td class="l">${esc(f.outcome)}: ${esc(f.message)}</td>` +
          `<td class="l"><code>${esc(f.expectedSha256)}<br>${
            esc(f.actualSha256 ?? "(unknown)")
          }</code></td></tr>`,
      );
    }
    parts.push("</tbody></table>");
  }
  parts.push('<h2>Speed per iteration</h2><div class="charts">');
  for (const file of report.files) parts.push(speedChart(report, file.name));
  parts.push("</div>");
  parts.push('<h2>Memory</h2><div class="charts">');
  parts.push(memoryChart(report.iterations, report.target.serverMeasured));
  parts.push("</div>");
  parts.push(
    '<p class="muted">A self-contained page: no script, nothing fetched. The numbers of every ' +
      "transfer are in the JSON report (<code>bftp check --json FILE</code>).</p>",
    "</body></html>",
  );
  return parts.join("\n") + "\n";
}
