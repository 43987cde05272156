/**
 * The one-shot pipe behind `bftp send` and `bftp recv`: one end listens and
 * takes exactly one connection, the other connects (retrying until the
 * listener is up); the sender streams one body with its SHA-256 and the
 * receiver checks it.
 *
 * @example
 * ```ts
 * import { PIPE_PREAMBLE } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(PIPE_PREAMBLE, "BFTP-PIPE/1");
 * ```
 *
 * @module
 */

export * from "./pipe.ts";
export * from "./listen_once.ts";
export * from "./connect_retry.ts";
