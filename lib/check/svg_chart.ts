/**
 * Small SVG charts drawn by hand, with no library and nothing fetched: the
 * pieces every chart shares (escaping, nice axis steps, tick labels, the
 * opening element) and a horizontal bar chart (the benchmark). The line
 * chart of a check's series is line_chart.ts. The markup can be inlined in
 * an HTML page or saved as a standalone `.svg` file.
 *
 * @module
 */

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

/**
 * An axis tick's label: whole numbers with thousands separators from 1,000
 * on, otherwise up to six significant digits.
 *
 * @param v The tick's value.
 * @returns Its label.
 *
 * @example
 * ```ts
 * import { tickLabel } from "./svg_chart.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([tickLabel(0), tickLabel(0.2), tickLabel(1200)], ["0", "0.2", "1,200"]);
 * ```
 */
export function tickLabel(v: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 1000) return v.toLocaleString("en-US", { maximumFractionDigits: 0 });
  return String(Number(v.toPrecision(6)));
}

function valueLabel(v: number): string {
  return Math.abs(v) >= 10 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);
}

/**
 * Opens an SVG chart: the `<svg>` element with its size and accessible
 * title, on a white background. The caller closes it with `</svg>`.
 *
 * @param width Width in pixels.
 * @param height Height in pixels.
 * @param standalone Include the `xmlns` attribute, for a standalone `.svg` file.
 * @param title The chart's title, for screen readers and tooltips.
 * @returns The opening markup.
 *
 * @example
 * ```ts
 * import { svgOpen } from "./svg_chart.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(svgOpen(100, 50, true, "A & B").includes("<title>A &amp; B</title>"));
 * ```
 */
export function svgOpen(width: number, height: number, standalone: boolean, title: string): string {
  const ns = standalone ? ' xmlns="http://www.w3.org/2000/svg"' : "";
  return `<svg${ns} viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
    `role="img" aria-label="${escapeXml(title)}" font-family="sans-serif" font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="#fff"/>`;
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
  const parts = [svgOpen(width, height, options.standalone ?? true, options.title)];
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
