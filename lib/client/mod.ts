/**
 * The BFTP client: URLs, the session, and local downloads and uploads.
 *
 * - client.ts: `BftpClient`, the session's API (one method per op);
 * - heads.ts: several servers of one volume, in order, and connecting to
 *   the first that is up;
 * - request_channel.ts: requests on an open session (open_session.ts:
 *   connect, hello and token): send them, read their replies (the one
 *   place that does); pipelined with a
 *   version 2 server (turns.ts: send and read turns in request order; ids
 *   checked), one at a time with a version 1 one; session_options.ts: what
 *   a session is opened with and its stall watch;
 * - window.ts: a window of tasks in flight (many files on one session);
 * - transfers.ts: GET and PUT, their bodies over that channel;
 * - local.ts, resume.ts, resumed_tree.ts, remove_tree.ts, glob.ts: local files;
 * - tree_plan.ts, remote_plan.ts, local_plan.ts, tree_transfer.ts:
 *   folder trees, a listing pass of either side (the plan) and then the
 *   transfer; download_folder.ts: a download's local
 *   folders made or checked; folder_attributes.ts: a copy's folders
 *   given their source's times and bits (`-p`, sync).
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
export * from "./heads.ts";
export * from "./request_channel.ts";
export * from "./transfers.ts";
export * from "./local.ts";
export * from "./tree_plan.ts";
export * from "./remote_plan.ts";
export * from "./local_plan.ts";
export * from "./tree_transfer.ts";
export * from "./download_folder.ts";
export * from "./folder_attributes.ts";
export * from "./window.ts";
