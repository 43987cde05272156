/**
 * A line chart drawn by hand as SVG: a series per iteration (a check's
 * speeds, its memory), a y axis from 0 with nice ticks, a legend, an
 * optional shaded warm-up, dividers and red alert marks.
 *
 * @module
 */

import { escapeXml, niceStep, svgOpen, tickLabel } from "./svg_chart.ts";

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

/** A line chart's frame: its size, its plot area and its scales. */
interface LinePlot {
  width: number;
  height: number;
  /** The plot area: from (LEFT, TOP), this wide and high. */
  plotW: number;
  plotH: number;
  /** How many x positions. */
  n: number;
  /** The y axis's top and its tick step. */
  yMax: number;
  step: number;
}

const LEFT = 64;
const RIGHT = 16;
const TOP = 50;
const BOTTOM = 44;
const f = (v: number) => v.toFixed(1);

function linePlot(options: LineChartOptions): LinePlot {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const n = options.series.reduce((a, s) => Math.max(a, s.values.length), 1);
  const all = options.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const maxValue = all.reduce((a, b) => Math.max(a, b), 0);
  const step = niceStep(maxValue > 0 ? maxValue : 1, 5);
  const yMax = Math.max(step, Math.ceil((maxValue * 1.05) / step) * step);
  return {
    width,
    height,
    plotW: width - LEFT - RIGHT,
    plotH: height - TOP - BOTTOM,
    n,
    yMax,
    step,
  };
}

function xAt(p: LinePlot, x: number): number {
  return p.n === 1 ? LEFT + p.plotW / 2 : LEFT + ((x - 1) / (p.n - 1)) * p.plotW;
}

function yAt(p: LinePlot, v: number): number {
  return TOP + p.plotH - (v / p.yMax) * p.plotH;
}

/** The shaded warm-up, the grid with its y ticks, the x ticks, the axes and their labels. */
function frame(p: LinePlot, options: LineChartOptions): string[] {
  const parts: string[] = [];
  const shade = Math.min(options.shadeUntil ?? 0, p.n);
  if (shade > 0) {
    const half = p.n === 1 ? p.plotW / 2 : p.plotW / (p.n - 1) / 2;
    const x1 = Math.min(LEFT + p.plotW, xAt(p, shade) + half);
    parts.push(
      `<rect x="${f(LEFT)}" y="${TOP}" width="${
        f(x1 - LEFT)
      }" height="${p.plotH}" fill="#f1f1f1"/>`,
      `<text x="${f(LEFT + 4)}" y="${TOP + 12}" fill="#888">warm-up</text>`,
    );
  }
  for (let v = 0; v <= p.yMax + p.step / 2; v += p.step) {
    const y = f(yAt(p, v));
    parts.push(
      `<line x1="${LEFT}" x2="${LEFT + p.plotW}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      `<text x="${LEFT - 6}" y="${y}" dy="4" text-anchor="end" fill="#555">${tickLabel(v)}</text>`,
    );
  }
  const bottom = TOP + p.plotH;
  for (let x = 1; x <= p.n; x += Math.max(1, Math.ceil(p.n / 10))) {
    parts.push(
      `<text x="${f(xAt(p, x))}" y="${bottom + 14}" text-anchor="middle" fill="#555">${x}</text>`,
    );
  }
  parts.push(
    `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${bottom}" stroke="#999"/>`,
    `<line x1="${LEFT}" x2="${LEFT + p.plotW}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`,
    `<text x="${LEFT + p.plotW / 2}" y="${p.height - 6}" text-anchor="middle" fill="#333">${
      escapeXml(options.xLabel)
    }</text>`,
    `<text transform="translate(14 ${TOP + p.plotH / 2}) rotate(-90)" text-anchor="middle" ` +
      `fill="#333">${escapeXml(options.yLabel)}</text>`,
  );
  return parts;
}

/** Dashed vertical dividers, each labelled at the top. */
function dividerMarks(p: LinePlot, marks: readonly ChartMark[]): string[] {
  return marks.flatMap((d) => {
    const x = f(Math.max(LEFT, xAt(p, d.x) - (p.n === 1 ? 0 : p.plotW / (p.n - 1) / 2)));
    return [
      `<line x1="${x}" x2="${x}" y1="${TOP}" y2="${TOP + p.plotH}" stroke="#bbb" ` +
      `stroke-dasharray="3 3"/>`,
      `<text x="${x}" y="${TOP - 4}" dx="3" fill="#666">${escapeXml(d.label)}</text>`,
    ];
  });
}

/** A series: a dot per value, a polyline per run of values between gaps. */
function seriesLines(p: LinePlot, s: LineSeries): string[] {
  const parts: string[] = [];
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
    const x = f(xAt(p, i + 1));
    const y = f(yAt(p, v));
    run.push(`${x},${y}`);
    parts.push(
      `<circle cx="${x}" cy="${y}" r="2.5" fill="${s.color}"><title>${escapeXml(s.name)} #${
        i + 1
      }: ${tickLabel(v)}</title></circle>`,
    );
  });
  flush();
  return parts;
}

/** A red cross below the axis at each alert, its label as a tooltip. */
function alertMarks(p: LinePlot, marks: readonly ChartMark[]): string[] {
  const y = TOP + p.plotH + 24;
  return marks.map((a) => {
    const x = Number(f(xAt(p, a.x)));
    return `<g stroke="#d62728" stroke-width="2"><line x1="${x - 4}" y1="${y - 4}" x2="${
      x + 4
    }" y2="${y + 4}"/><line x1="${x - 4}" y1="${y + 4}" x2="${x + 4}" y2="${y - 4}"/>` +
      `<title>${escapeXml(a.label)}</title></g>`;
  });
}

/** The legend, right-aligned: beside the title, or under it when they would meet. */
function legend(p: LinePlot, series: readonly LineSeries[], title: string): string[] {
  let lx = p.width - RIGHT;
  const legendW = series.reduce((sum, s) => sum + 26 + s.name.length * 6.5, 0);
  const ly = LEFT + title.length * 7.4 + 12 > p.width - RIGHT - legendW ? 28 : 12;
  return [...series].reverse().flatMap((s) => {
    lx -= 26 + s.name.length * 6.5;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    return [
      `<line x1="${f(lx)}" x2="${f(lx + 18)}" y1="${ly}" y2="${ly}" stroke="${s.color}" ` +
      `stroke-width="2"${dash}/>`,
      `<text x="${f(lx + 22)}" y="${ly + 4}" fill="#333">${escapeXml(s.name)}</text>`,
    ];
  });
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
 * import { lineChart } from "./line_chart.ts";
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
  const p = linePlot(options);
  // About 7.4 px a character of the bold title: a title too long for the chart is cut, and
  // the legend, when the title would run into it, goes on a second line.
  const fits = Math.floor((p.width - RIGHT - LEFT) / 7.4);
  const title = options.title.length > fits
    ? `${options.title.slice(0, fits - 1)}\u2026`
    : options.title;
  return [
    svgOpen(p.width, p.height, options.standalone ?? false, options.title),
    `<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
    ...frame(p, options),
    ...dividerMarks(p, options.dividers ?? []),
    ...options.series.flatMap((s) => seriesLines(p, s)),
    ...alertMarks(p, options.alerts ?? []),
    ...legend(p, options.series, title),
    "</svg>",
  ].join("");
}
