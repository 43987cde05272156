/**
 * The BFTP client: URLs, the session, and local downloads and uploads.
 *
 * @example
 * ```ts
 * import { parseBftpUrl } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseBftpUrl("bftp://127.0.0.1/").path, "/");
 * ```
 *
 * @module
 */

export * from "./url.ts";
export * from "./client.ts";
export * from "./local.ts";
