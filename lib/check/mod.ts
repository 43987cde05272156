/**
 * `bftp check`, a transfer quality check as a command: move files of
 * several sizes to a BFTP server and back many times, and check that every
 * copy is identical, that the speed is reasonable and uniform, that CPU use
 * is sane and that memory does not grow.
 *
 * - the servers a check runs against: {@linkcode spawnEmbeddedServer},
 *   {@linkcode startInProcessServer}, {@linkcode remoteTarget}
 * - the files: {@linkcode generateFile}, {@linkcode userFile}
 * - the loop: {@linkcode runCheck}, which runs an object holding the run's state (its
 *   session, scratch folder and records) with one method per phase: make the scratch
 *   folder, check each file (PUT then GET, so many times), clean up, report
 * - one transfer, measured and checked: {@linkcode measureTransfer}, timed and sampled by
 *   a {@linkcode TransferMeter}
 * - the numbers and the verdict: {@linkcode summarize}, {@linkcode linearSlope},
 *   {@linkcode summarizeDirection}, {@linkcode DEFAULT_THRESHOLDS}, {@linkcode overallVerdict}
 * - the reports: {@linkcode formatTextReport}, {@linkcode renderHtmlReport} (with charts drawn
 *   by {@linkcode lineChart}), and the {@linkcode CheckReport} itself as JSON
 *
 * @example Judging a series of speeds
 * ```ts
 * import { DEFAULT_THRESHOLDS, judgeUniformity } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(judgeUniformity([700, 710, 690, 705], DEFAULT_THRESHOLDS).status, "pass");
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./stats.ts";
export * from "./sizes.ts";
export * from "./process_sample.ts";
export * from "./files.ts";
export * from "./target.ts";
export * from "./verdict.ts";
export * from "./overall.ts";
export * from "./meter.ts";
export * from "./measured_transfer.ts";
export * from "./run.ts";
export * from "./svg_chart.ts";
export * from "./line_chart.ts";
export * from "./report_text.ts";
export * from "./report_html.ts";
