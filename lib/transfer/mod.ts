/**
 * Moving bodies: streaming a body, hashed in the same pass, for BFTP and
 * the one-shot pipe. The bytes on the wire (size header, chunks, trailer)
 * are the protocol's, in `lib/protocol/body_format.ts`. Sending: body.ts;
 * receiving: receive_body.ts; what both share: body_buffer.ts.
 *
 * @example
 * ```ts
 * import { HASH_TRAILER_LENGTH } from "./mod.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(HASH_TRAILER_LENGTH === 64);
 * ```
 *
 * @module
 */

export * from "./body.ts";
