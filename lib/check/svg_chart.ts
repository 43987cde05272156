/**
 * Small SVG charts drawn by hand, with no library and nothing fetched: a
 * line chart of a series per iteration (speeds, memory) and a horizontal
 * bar chart (the benchmark). The markup can be inlined in an HTML page or
 * saved as a standalone `.svg` file.
 *
 * @module
 */

/** One line of a {@linkcode lineChart}. */
export interface LineSeries {
  /** The legend's name for it. */
  name: string;
  /** A CSS color. */
  color: string;
  /** One value per x position (1, 2, ...); `null` leaves a gap. */
  values: readonly (number | null)[];
  /**
   * Draw the line dashed.
   *
   * @default {false}
   */
  dashed?: boolean;
}

/** A labelled x position on a chart. */
export interface ChartMark {
  /** The x position (1 for the first value). */
  x: number;
  /** What it marks. */
  label: string;
}

/** Options for {@linkcode lineChart}. */
export interface LineChartOptions {
  /** The title above the chart. */
  title: string;
  /** The y axis's label, with its unit. */
  yLabel: string;
  /** The x axis's label. */
  xLabel: string;
  /** The lines. */
  series: readonly LineSeries[];
  /**
   * Width in pixels.
   *
   * @default {640}
   */
  width?: number;
  /**
   * Height in pixels.
   *
   * @default {260}
   */
  height?: number;
  /**
   * Shade x positions 1 to this one (the warm-up); 0 shades nothing.
   *
   * @default {0}
   */
  shadeUntil?: number;
  /** Vertical dividers with a label at the top (such as where each file starts). */
  dividers?: readonly ChartMark[];
  /** Positions marked in red below the axis (mismatches, errors). */
  alerts?: readonly ChartMark[];
  /**
   * Include the `xmlns` attribute, for a standalone `.svg` file. Inline SVG
   * in HTML needs none.
   *
   * @default {false}
   */
  standalone?: boolean;
}

/**
 * Escapes text for XML and HTML content and attribute values.
 *
 * @param text Any text.
 * @returns The text with `&`, `<`, `>`, `"` and `'` escaped.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./svg_chart.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(escapeXml('<a href="x">&</a>'), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * A "nice" axis step (1, 2 or 5 times a power of ten) that divides `max`
 * into about `count` intervals.
 *
 * @param max The largest value to show (positive).
 * @param count About how many intervals.
 * @returns The step.
 *
 * @example
 * ```ts
 * import { niceStep } from "./svg_chart.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(niceStep(730, 5), 200);
 * deepEqual(niceStep(1, 5), 0.2);
 * ```
 */
export function niceStep(max: number, count: number): number {
  const raw = max / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return Number((nice * power).toPrecision(12));
}

function tickLabel(v: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 1000) return v.toLocaleString("en-US", { maximumFractionDigits: 0 });
  return String(Number(v.toPrecision(6)));
}

function valueLabel(v: number): string {
  return Math.abs(v) >= 10 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);
}

function open(width: number, height: number, standalone: boolean, title: string): string {
  const ns = standalone ? ' xmlns="http://www.w3.org/2000/svg"' : "";
  return `<svg${ns} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
    `role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="#fff"/>`;
}

/**
 * Draws a line chart: one line per series over x positions 1..n, a y axis
 * from 0 with nice ticks, a legend, an optional shaded warm-up, dividers
 * and red alert marks.
 *
 * @param options The data and the labels.
 * @returns The `<svg>` markup.
 *
 * @example
 * ```ts
 * import { lineChart } from "./svg_chart.ts";
 * import { ok } from "node:assert/strict";
 *
 * const svg = lineChart({
 *   title: "Speed",
 *   yLabel: "MB/s",
 *   xLabel: "iteration",
 *   series: [{ name: "GET", color: "#1f77b4", values: [700, 720, null, 710] }],
 *   alerts: [{ x: 3, label: "mismatch" }],
 * });
 * ok(svg.startsWith("<svg") && svg.includes("<polyline") && !svg.includes("http"));
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const left = 64;
  const right = 16;
  const top = 50;
  const bottom = 44;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = options.series.reduce((a, s) => Math.max(a, s.values.length), 1);
  const all = options.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const maxValue = all.reduce((a, b) => Math.max(a, b), 0);
  const step = niceStep(maxValue > 0 ? maxValue : 1, 5);
  const yMax = Math.max(step, Math.ceil((maxValue * 1.05) / step) * step);
  const xAt = (x: number) => n === 1 ? left + plotW / 2 : left + ((x - 1) / (n - 1)) * plotW;
  const yAt = (v: number) => top + plotH - (v / yMax) * plotH;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [open(width, height, options.standalone ?? false, options.title)];
  // About 7.4 px a character of the bold title: a title too long for the chart is cut, and
  // the legend, when the title would run into it, goes on a second line.
  const fits = Math.floor((width - right - left) / 7.4);
  const title = options.title.length > fits
    ? `${options.title.slice(0, fits - 1)}\u2026`
    : options.title;
  parts.push(
    `<text x="${left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  );
  const shade = Math.min(options.shadeUntil ?? 0, n);
  if (shade > 0) {
    const half = n === 1 ? plotW / 2 : plotW / (n - 1) / 2;
    const x0 = left;
    const x1 = Math.min(left + plotW, xAt(shade) + half);
    parts.push(
      `<rect x="${f(x0)}" y="${top}" width="${f(x1 - x0)}" height="${plotH}" fill="#f1f1f1"/>`,
      `<text x="${f(x0 + 4)}" y="${top + 12}" fill="#888">warm-up</text>`,
    );
  }
  for (let v = 0; v <= yMax + step / 2; v += step) {
    const y = f(yAt(v));
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      `<text x="${left - 6}" y="${y}" dy="4" text-anchor="end" fill="#555">${tickLabel(v)}</text>`,
    );
  }
  const xStep = Math.max(1, Math.ceil(n / 10));
  for (let x = 1; x <= n; x += xStep) {
    parts.push(
      `<text x="${f(xAt(x))}" y="${top + plotH + 14}" text-anchor="middle" fill="#555">${x}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#999"/>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${
      top + plotH
    }" stroke="#999"/>`,
    `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" fill="#333">${
      escapeXml(options.xLabel)
    }</text>`,
    `<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" ` +
      `fill="#333">${escapeXml(options.yLabel)}</text>`,
  );
  for (const d of options.dividers ?? []) {
    const x = f(Math.max(left, xAt(d.x) - (n === 1 ? 0 : plotW / (n - 1) / 2)));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${top}" y2="${
        top + plotH
      }" stroke="#bbb" stroke-dasharray="3 3"/>`,
      `<text x="${x}" y="${top - 4}" dx="3" fill="#666">${escapeXml(d.label)}</text>`,
    );
  }
  for (const s of options.series) {
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) {
        parts.push(
          `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${
            run.join(" ")
          }"/>`,
        );
      }
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null) return flush();
      const x = f(xAt(i + 1));
      const y = f(yAt(v));
      run.push(`${x},${y}`);
      parts.push(
        `<circle cx="${x}" cy="${y}" r="2.5" fill="${s.color}"><title>${escapeXml(s.name)} #${
          i + 1
        }: ${tickLabel(v)}</title></circle>`,
      );
    });
    flush();
  }
  for (const a of options.alerts ?? []) {
    const x = f(xAt(a.x));
    const y = top + plotH + 24;
    parts.push(
      `<g stroke="#d62728" stroke-width="2"><line x1="${Number(x) - 4}" y1="${y - 4}" x2="${
        Number(x) + 4
      }" y2="${y + 4}"/><line x1="${Number(x) - 4}" y1="${y + 4}" x2="${Number(x) + 4}" y2="${
        y - 4
      }"/><title>${escapeXml(a.label)}</title></g>`,
    );
  }
  let lx = width - right;
  const legendW = options.series.reduce((sum, s) => sum + 26 + s.name.length * 6.5, 0);
  const ly = left + title.length * 7.4 + 12 > width - right - legendW ? 28 : 12;
  const legend: string[] = [];
  for (const s of [...options.series].reverse()) {
    const w = 26 + s.name.length * 6.5;
    lx -= w;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    legend.push(
      `<line x1="${f(lx)}" x2="${
        f(lx + 18)
      }" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${f(lx + 22)}" y="${ly + 4}" fill="#333">${escapeXml(s.name)}</text>`,
    );
  }
  parts.push(...legend, "</svg>");
  return parts.join("");
}

/** One bar of a {@linkcode barChart}. */
export interface Bar {
  /** The bar's label, left of it. */
  label: string;
  /** Its value. */
  value: number;
  /**
   * A CSS color.
   *
   * @default {"#4e79a7"}
   */
  color?: string;
}

/** Options for {@linkcode barChart}. */
export interface BarChartOptions {
  /** The title above the chart. */
  title: string;
  /** The unit of the values, shown after each value and on the axis. */
  unit: string;
  /** The bars, top to bottom. */
  bars: readonly Bar[];
  /** A line under the title (the machine, the date). */
  subtitle?: string;
  /**
   * Width in pixels.
   *
   * @default {760}
   */
  width?: number;
  /**
   * Include the `xmlns` attribute, for a standalone `.svg` file.
   *
   * @default {true}
   */
  standalone?: boolean;
}

/**
 * Draws a horizontal bar chart with each value written at the end of its bar.
 *
 * @param options The bars and the labels.
 * @returns The `<svg>` markup.
 *
 * @example
 * ```ts
 * import { barChart } from "./svg_chart.ts";
 * import { ok } from "node:assert/strict";
 *
 * const svg = barChart({ title: "Loopback", unit: "MB/s", bars: [{ label: "nc", value: 1240 }] });
 * ok(svg.includes("xmlns") && svg.includes("1,240 MB/s"));
 * ```
 */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 760;
  const barH = 22;
  const gap = 8;
  const longest = Math.max(0, ...options.bars.map((b) => b.label.length));
  const left = Math.min(360, 16 + longest * 6.4);
  const right = 90;
  const top = options.subtitle ? 52 : 36;
  const plotW = width - left - right;
  const height = top + options.bars.length * (barH + gap) + 36;
  const max = Math.max(0, ...options.bars.map((b) => b.value));
  const step = niceStep(max > 0 ? max : 1, 5);
  const xMax = Math.max(step, Math.ceil(max / step) * step);
  const xAt = (v: number) => left + (v / xMax) * plotW;
  const f = (v: number) => v.toFixed(1);
  const plotBottom = top + options.bars.length * (barH + gap);
  const parts = [open(width, height, options.standalone ?? true, options.title)];
  parts.push(
    `<text x="16" y="20" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) {
    parts.push(`<text x="16" y="38" fill="#555">${escapeXml(options.subtitle)}</text>`);
  }
  for (let v = 0; v <= xMax + step / 2; v += step) {
    const x = f(xAt(v));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${top - 4}" y2="${plotBottom}" stroke="#e3e3e3"/>`,
      `<text x="${x}" y="${plotBottom + 14}" text-anchor="middle" fill="#555">${
        tickLabel(v)
      }</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle" fill="#333">${
      escapeXml(options.unit)
    }</text>`,
  );
  options.bars.forEach((b, i) => {
    const y = top + i * (barH + gap);
    const w = Math.max(0, xAt(b.value) - left);
    parts.push(
      `<text x="${left - 8}" y="${y + barH / 2 + 4}" text-anchor="end" fill="#222">${
        escapeXml(b.label)
      }</text>`,
      `<rect x="${left}" y="${y}" width="${f(w)}" height="${barH}" fill="${
        b.color ?? "#4e79a7"
      }"/>`,
      `<text x="${f(left + w + 6)}" y="${y + barH / 2 + 4}" fill="#222">${valueLabel(b.value)} ${
        escapeXml(options.unit)
      }</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}
