/**
 * The HTML report of a check: one self-contained page (styles inline,
 * charts as inline SVG, no script, nothing fetched) with the verdict, the
 * summary table, a chart of speed per iteration for each file, a chart of
 * memory over the whole run, and every mismatch and error.
 *
 * @module
 */

import { formatBytes } from "../bytes.ts";
import { memoryCell, ms, perRequestLines } from "./report_text.ts";
import { lineChart } from "./line_chart.ts";
import { escapeXml as esc } from "./svg_chart.ts";
import { describeThresholds } from "./overall.ts";
import type {
  CheckName,
  CheckReport,
  DirectionSummary,
  IterationRecord,
  MemorySummary,
  Verdict,
} from "./types.ts";

const PUT_COLOR = "#e15759";
const GET_COLOR = "#4e79a7";
const SERVER_COLOR = "#59a14f";

/**
 * The page's layout at a 1280 px window: the content is at most
 * {@linkcode PAGE_WIDTH} px wide (plus 16 px padding each side), two speed
 * charts sit side by side in it (each with a 1 px border), and the memory
 * chart is as wide as the two.
 */
const PAGE_WIDTH = 1248;
const CHART_GAP = 12;
const SPEED_CHART_WIDTH = 600;
const MEMORY_CHART_WIDTH = 2 * (SPEED_CHART_WIDTH + 2) + CHART_GAP - 2;

// Chip colours: each text on its background has a contrast ratio of 5.6:1 or more (WCAG AA).
const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: ${PAGE_WIDTH}px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 4px; font-weight: bold; vertical-align: 2px; }
.pass { background: #1b5e20; color: #fff; } .fail { background: #c62828; color: #fff; }
.nm { background: #ffca28; color: #3b2800; } .na { background: #e0e0e0; color: #333; }
p.verdict { font-size: 15px; margin: 6px 0 12px; } p.verdict.partial { border-left: 4px solid #ffca28; padding-left: 8px; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 5px; border-bottom: 1px solid #e5e5e5; text-align: right; white-space: nowrap; }
th { background: #fafafa; font-weight: 600; vertical-align: bottom; } td.l, th.l { text-align: left; }
td.f { min-width: 8em; max-width: 16em; white-space: normal; overflow-wrap: anywhere; }
td.v { text-align: left; font-size: 12px; white-space: normal; min-width: 11em; }
td.v span, .legend span { display: inline-block; margin: 1px 2px; padding: 0 5px; border-radius: 3px; }
.legend { font-size: 12px; margin: 6px 0; }
.charts { display: flex; flex-wrap: wrap; gap: ${CHART_GAP}px; }
.charts svg { border: 1px solid #e5e5e5; border-radius: 4px; max-width: 100%; height: auto; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0; }
dt { color: #666; } dd { margin: 0; }
code { font-size: 12px; } .muted { color: #666; font-size: 12px; }
`;

const CHIP_CLASS: Readonly<Record<Verdict["status"], string>> = {
  pass: "pass",
  fail: "fail",
  "not measured": "nm",
  "n/a": "na",
};

function chip(status: Verdict["status"], text: string, title = ""): string {
  return `<span class="${CHIP_CLASS[status]}" title="${esc(title)}">${esc(text)}</span>`;
}

const LEGEND = '<p class="legend">Verdicts: ' +
  `${chip("pass", "pass")} measured, within its limit; ` +
  `${chip("fail", "fail")} measured, over its limit; ` +
  `${chip("not measured", "not measured")} applies, but too few samples (or a server that ` +
  "cannot be sampled): nothing is known; " +
  `${chip("n/a", "n/a")} does not apply (a file under the size limit, an empty file, no limit ` +
  "set). Hover a verdict for its figures or reason.</p>";

const NAMES: Readonly<Record<CheckName, string>> = {
  identity: "identity",
  uniformity: "uniform",
  speed: "speed",
  cpu: "CPU",
  clientLeak: "client mem",
  serverLeak: "server mem",
};

function memoryCells(m: MemorySummary | null): string {
  const [range, trend] = m === null ? ["-", ""] : memoryCell(m).split("  ");
  return `<td>${esc(range!)}${trend ? `<br>${esc(trend)}` : ""}</td>`;
}

function summaryRow(s: DirectionSummary): string {
  const n = (x: number | null | undefined) =>
    x === null || x === undefined ? "-" : x >= 100 ? x.toFixed(0) : x.toFixed(1);
  const p = (x: number | null | undefined) =>
    x === null || x === undefined ? "-" : `${(x * 100).toFixed(0)}%`;
  const verdicts = (Object.entries(s.verdicts) as [CheckName, Verdict][])
    .map(([k, v]) => chip(v.status, NAMES[k], `${v.status}: ${v.detail}`)).join("");
  return `<tr><td class="l f">${esc(s.file)}</td><td>${esc(formatBytes(s.size))}</td>` +
    `<td class="l">${s.direction.toUpperCase()}</td><td>${s.iterations}</td>` +
    `<td>${s.mismatches}</td><td>${s.errors}</td><td>${n(s.mbps?.median)}</td>` +
    `<td>${n(s.mbps?.min)}</td><td>${n(s.mbps?.max)}</td><td>${p(s.mbps?.cv)}</td>` +
    `<td>${ms(s.milliseconds?.median)}</td>` +
    `<td>${p(s.clientCpu.share)}</td><td>${p(s.serverCpu?.share)}</td>` +
    memoryCells(s.clientMemory) + memoryCells(s.serverMemory) +
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
    width: SPEED_CHART_WIDTH,
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
    width: MEMORY_CHART_WIDTH,
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

function header(report: CheckReport): string[] {
  const v = report.verdict;
  const status = v.status === "interrupted" ? "INTERRUPTED" : v.status === "pass" ? "PASS" : "FAIL";
  const m = report.machine;
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>bftp check: ${status}</title><style>${STYLE}</style></head><body>`,
    `<h1>bftp check <span class="badge ${
      v.status === "pass" ? "pass" : "fail"
    }">${status}</span></h1>`,
    `<p class="verdict${v.notMeasured.length ? " partial" : ""}">${esc(v.text)}</p>`,
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
    `<dt>Thresholds</dt><dd>${esc(describeThresholds(report.settings.thresholds))}</dd>`,
    "</dl>",
  ];
}

function summaryTable(report: CheckReport): string[] {
  return [
    '<h2>Summary</h2><div class="wide"><table><thead><tr>',
    '<th class="l">file</th><th>size</th><th class="l">dir</th><th>runs</th><th>bad</th>',
    "<th>err</th><th>MB/s<br>median</th><th>min</th><th>max</th><th>CV</th><th>ms/req<br>median</th>",
    "<th>CPU<br>client</th><th>CPU<br>server</th>",
    "<th>client RSS MiB<br>start/peak/end<br>trend</th><th>server RSS MiB<br>start/peak/end<br>trend</th>",
    '<th class="l">verdicts</th></tr></thead><tbody>',
    ...report.summaries.map(summaryRow),
    "</tbody></table></div>",
    LEGEND,
    ...perRequestLines(report).map((line) => `<p>${esc(line)}</p>`),
    '<p class="muted">ms/req: wall time of one transfer, request to last reply. CPU: user + system seconds over the wall seconds of the transfers ' +
    "(100% = one core busy). RSS: resident memory after each transfer (the client's after a " +
    "garbage collection); trend: least-squares growth per iteration after warm-up.</p>",
  ];
}

function failuresTable(report: CheckReport): string[] {
  if (report.failures.length === 0) return [];
  return [
    `<h2>Mismatches and errors (${report.failures.length})</h2><div class="wide"><table><thead>`,
    '<tr><th class="l">file</th><th class="l">dir</th><th>iteration</th><th class="l">what</th>',
    '<th class="l">expected / got SHA-256</th></tr></thead><tbody>',
    ...report.failures.map((f) =>
      `<tr><td class="l f">${esc(f.file)}</td><td class="l">${f.direction.toUpperCase()}</td>` +
      `<td>${f.iteration}</td><td class="l v">${esc(f.outcome)}: ${esc(f.message)}</td>` +
      `<td class="l"><code>${esc(f.expectedSha256)}<br>${
        esc(f.actualSha256 ?? "(unknown)")
      }</code></td></tr>`
    ),
    "</tbody></table></div>",
  ];
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
 * } as unknown as Parameters<typeof renderHtmlReport>[0];
 * const html = renderHtmlReport(report);
 * ok(html.startsWith("<!doctype html>") && !/https?:/.test(html));
 * ```
 */
export function renderHtmlReport(report: CheckReport): string {
  return [
    ...header(report),
    ...summaryTable(report),
    ...failuresTable(report),
    '<h2>Speed per iteration</h2><div class="charts">',
    ...report.files.map((file) => speedChart(report, file.name)),
    "</div>",
    '<h2>Memory</h2><div class="charts">',
    memoryChart(report.iterations, report.target.serverMeasured),
    "</div>",
    '<p class="muted">A self-contained page: no script, nothing fetched. The numbers of every ' +
    "transfer are in the JSON report (<code>bftp check --json FILE</code>).</p>",
    "</body></html>",
  ].join("\n") + "\n";
}
