/**
 * `bftp sync`: mirror a folder either way, sending only what changed.
 *
 * - {@linkcode compareTrees}: two tree plans compared into what to send and remove (plan.ts)
 * - {@linkcode settleByContent}: `--checksum`, files of one size compared by content (content.ts)
 * - {@linkcode applySync}: the plan carried out, pipelined, one failure at a time (apply.ts)
 * - {@linkcode summaryLine}, {@linkcode syncReport}: the lines, the summary, the JSON (report.ts)
 * - {@linkcode PathFilter}, {@linkcode readExcludeFrom}: the include and
 *   exclude rules (`--include`, `--exclude`, `--exclude-from`)
 *
 * @module
 */

export * from "./filter.ts";
export * from "./plan.ts";
export * from "./content.ts";
export * from "./apply.ts";
export * from "./report.ts";
