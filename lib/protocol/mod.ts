/**
 * BFTP, the protocol: typed requests and replies (each reply with its check,
 * replies.ts), their JSON encoding, the channel they
 * travel on, the handshake, and the limits. The full specification is
 * docs/PROTOCOL.md.
 *
 * @example
 * ```ts
 * import { decodeRequest, encodeMessage } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeRequest(encodeMessage({ op: "QUIT" })), { op: "QUIT" });
 * ```
 *
 * @module
 */

export * from "./messages.ts";
export * from "./limits.ts";
export * from "./channel.ts";
export * from "./replies.ts";
