/**
 * What the benchmarks' reports are made of: the medians and percentiles of
 * the runs, the line describing the machine, and markdown table cells.
 *
 * @module
 */

/**
 * The median of `xs` (the mean of the two middle values for an even count).
 *
 * @param xs The values (at least one).
 * @returns The median.
 *
 * @example
 * ```ts
 * import { median } from "./bench_report.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(median([3, 1, 2]), 2);
 * equal(median([4, 1, 2, 3]), 2.5);
 * ```
 */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The median over the rounds of a run of `base`'s time over `row`'s, each
 * round's two side by side: this disk and this VM drift within a run (a
 * round can take twice as long as the one before, for every tool), and a
 * ratio of the two medians can set one tool's fast round against the
 * other's slow one. Rounds where either failed are left out.
 *
 * @param base The baseline's seconds, by round (`undefined`: failed).
 * @param row The row's seconds, by round.
 * @returns The median ratio, or `NaN` when no round has both.
 *
 * @example
 * ```ts
 * import { pairedRatio } from "./bench_report.ts";
 * import { equal } from "node:assert/strict";
 *
 * // Round 1 was slow for the row, round 3 for both: the medians' ratio would say 0.5.
 * equal(pairedRatio([1, 1, 2], [2, 1, 2]), 1);
 * equal(pairedRatio([1, 1], [undefined, 2]), 0.5);
 * equal(pairedRatio([1], [undefined]), NaN);
 * ```
 */
export function pairedRatio(
  base: readonly (number | undefined)[],
  row: readonly (number | undefined)[],
): number {
  const ratios: number[] = [];
  for (const [i, b] of base.entries()) {
    const r = row[i];
    if (b !== undefined && r !== undefined) ratios.push(b / r);
  }
  return ratios.length > 0 ? median(ratios) : NaN;
}

/**
 * The value below which `p` percent of `xs` lie (nearest rank).
 *
 * @param xs The values (at least one).
 * @param p The percentile, 0 to 100.
 * @returns The percentile.
 *
 * @example
 * ```ts
 * import { percentile } from "./bench_report.ts";
 * import { equal } from "node:assert/strict";
 *
 * const xs = Array.from({ length: 100 }, (_, i) => i + 1);
 * equal(percentile(xs, 50), 50);
 * equal(percentile(xs, 99), 99);
 * ```
 */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * One line naming the machine: cores, CPU model, Deno version, and the load
 * average now (other work on a shared machine slows every row alike, or not).
 *
 * @returns The line.
 *
 * @example
 * ```ts
 * import { machineLine } from "./bench_report.ts";
 * import { match } from "node:assert/strict";
 *
 * match(await machineLine(), /cores/);
 * ```
 */
export async function machineLine(): Promise<string> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1];
  return `${navigator.hardwareConcurrency} cores (${
    cpu ?? "unknown CPU"
  }), Deno ${Deno.version.deno}, load average ${await loadAverage()} when the section ended`;
}

/** The 1-minute and 5-minute load averages (Linux), as "1.20 / 0.80"; "unknown" elsewhere. */
async function loadAverage(): Promise<string> {
  try {
    const [one, five] = (await Deno.readTextFile("/proc/loadavg")).split(" ");
    return `${one} (1 min) / ${five} (5 min)`;
  } catch {
    return "unknown";
  }
}

/**
 * `text` for a markdown table cell: its pipes escaped.
 *
 * @param text Any one-line text.
 * @returns The cell's markdown.
 *
 * @example
 * ```ts
 * import { cell } from "./bench_report.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(cell("cat | nc"), "cat \\| nc");
 * ```
 */
export function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}
