/**
 * Moving bodies: the streamed, hashed body encoding shared by BFTP and the
 * one-shot pipe.
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
