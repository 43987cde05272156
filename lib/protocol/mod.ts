/**
 * BFTP, the protocol: typed requests and replies (each reply with its check,
 * replies.ts), their JSON encoding, a request frame with the id its answer
 * echoes (request_frame.ts), the channel they travel on, the hello
 * (versions 1 and 2, the body checksum settled), the limits, and the body
 * wire format (size header, chunks, checksum trailer: body_format.ts) that
 * `transfer/` streams through. The full specification is docs/PROTOCOL.md.
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
export * from "./body_format.ts";
export * from "./request_frame.ts";
