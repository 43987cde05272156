/**
 * Opening a TCP connection: kept here for the modules that import it from
 * the client; it lives in `lib/transport/`, with TLS.
 *
 * @example
 * ```ts
 * import { connectTcp } from "./connect.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(typeof connectTcp === "function");
 * ```
 *
 * @module
 */

export { connectTcp, type ConnectTcpOptions } from "../transport/tcp.ts";
