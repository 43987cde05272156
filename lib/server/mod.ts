/**
 * The BFTP server: sessions, access tokens, connection limits, the
 * listener (plain or TLS), and the pool of workers that serves on every core.
 *
 * - server.ts, pool.ts: the listener and the worker pool;
 * - session.ts: one client's session, one method per request kind, in
 *   request order (pipelined requests too); session_options.ts; its
 *   connection (framing, held replies, deadline, group): session_wire.ts;
 *   its access (a token shown, read-only or not): session_access.ts;
 * - get_handler.ts, put_handler.ts, namespace_handlers.ts: the requests;
 *   blocks_handler.ts, put_delta.ts: a delta's BLOCKS and PUT; file_version.ts:
 *   whether a file is still the version a request names;
 * - commit_group.ts: pipelined uploads committed together (group commit);
 * - auth.ts, penalties.ts, admission.ts, refusal.ts: who may come in.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { ok } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * ok(server.addr.port > 0);
 * await server.close();
 * await Deno.remove(dir);
 * ```
 *
 * @module
 */

export * from "./limits.ts";
export * from "./auth.ts";
export * from "./admission.ts";
export * from "./session.ts";
export * from "./server.ts";
export * from "./pool.ts";
export * from "./trim_memory.ts";
export type * from "./worker_messages.ts";
