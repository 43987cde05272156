/**
 * The BFTP server: sessions, access tokens, connection limits, the
 * listener (plain or TLS), and the pool of workers that serves on every core.
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
export type * from "./worker_messages.ts";
