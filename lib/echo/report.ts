/**
 * How the echo commands show their numbers: the per-worker statistics of
 * `bftp echo-server` (printed on SIGUSR1 and at exit) and the summary of a
 * `bftp echo` load run.
 *
 * @module
 */

import type { EchoLoadResult } from "./load.ts";
import type { WorkerStats } from "./server.ts";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/**
 * Formats each worker's counters, one line per worker and a total line.
 *
 * @param stats From {@linkcode EchoServer.stats}.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { formatWorkerStats } from "./report.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const lines = formatWorkerStats([
 *   { id: 1, state: "running", accepted: 3, open: 1, bytes: 300 },
 *   { id: 2, state: "dead", accepted: 2, open: 0, bytes: 20, diedOf: "Error: boom", replacedBy: 3 },
 *   { id: 3, state: "running", accepted: 0, open: 0, bytes: 0 },
 * ]);
 * deepEqual(lines, [
 *   "worker 1: 3 connections (1 open), 300 bytes echoed",
 *   "worker 2: 2 connections, 20 bytes echoed (died: Error: boom; replaced by worker 3)",
 *   "worker 3: 0 connections, 0 bytes echoed",
 *   "total: 5 connections, 320 bytes echoed",
 * ]);
 * ```
 */
export function formatWorkerStats(stats: readonly WorkerStats[]): string[] {
  const lines = stats.map((s) => {
    const open = s.open > 0 ? ` (${s.open} open)` : "";
    let fate = "";
    if (s.state === "dead") {
      fate = ` (died: ${s.diedOf ?? "unknown"}${
        s.replacedBy === undefined ? "" : `; replaced by worker ${s.replacedBy}`
      })`;
    }
    return `worker ${s.id}: ${s.accepted} connections${open}, ${s.bytes} bytes echoed${fate}`;
  });
  const accepted = stats.reduce((sum, s) => sum + s.accepted, 0);
  const bytes = stats.reduce((sum, s) => sum + s.bytes, 0);
  lines.push(`total: ${accepted} connections, ${bytes} bytes echoed`);
  return lines;
}

/**
 * Formats a load run's result for people.
 *
 * @param r The result.
 * @returns The lines.
 *
 * @example
 * ```ts
 * import { formatLoadResult } from "./report.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const lines = formatLoadResult({
 *   connections: 2, count: 10, size: 64, roundTrips: 20, bytes: 1280, setupSeconds: 0.01, seconds: 0.5,
 *   roundTripsPerSecond: 40, p50Ms: 0.25, p99Ms: 1.5, maxMs: 2,
 * });
 * deepEqual(lines[1], "2 connections opened and echoing in 0.010 s");
 * deepEqual(lines[2], "round trips/s: 40");
 * ```
 */
export function formatLoadResult(r: EchoLoadResult): string[] {
  return [
    `${r.connections} connections x ${r.count} round trips of ${r.size} bytes: ` +
    `${integer.format(r.roundTrips)} round trips in ${r.seconds.toFixed(3)} s, every reply checked`,
    `${r.connections} connections opened and echoing in ${r.setupSeconds.toFixed(3)} s`,
    `round trips/s: ${integer.format(r.roundTripsPerSecond)}`,
    `latency: p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}, max ${ms(r.maxMs)}`,
  ];
}

function ms(value: number): string {
  return `${value < 1 ? value.toFixed(3) : value.toFixed(2)} ms`;
}
