/**
 * Moving bodies: the streamed, hashed body encoding shared by BFTP and the
 * one-shot pipe, and the progress line.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatBytes(1048576), "1.0 MiB");
 * ```
 *
 * @module
 */

export * from "./body.ts";
export * from "./progress.ts";
