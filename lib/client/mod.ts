/**
 * The BFTP client: URLs, the session, and local downloads and uploads.
 *
 * - client.ts: `BftpClient`, the session's API (one method per op);
 * - request_channel.ts: connect, hello and token, then one request at a
 *   time: send it, read its reply (the one place that does);
 * - transfers.ts: GET and PUT, their bodies over that channel;
 * - local.ts, resume.ts, remove_tree.ts, glob.ts: local files;
 * - tree_plan.ts, tree_transfer.ts: folder trees, a listing pass (the
 *   plan) and then the transfer.
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
export * from "./request_channel.ts";
export * from "./transfers.ts";
export * from "./local.ts";
export * from "./tree_plan.ts";
export * from "./tree_transfer.ts";
