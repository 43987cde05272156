/**
 * The served root: virtual paths, confinement, atomic uploads, their
 * temporary files and the hash cache. The only module that turns a
 * client's path into a host path.
 *
 * A leaf layer: it imports nothing from `protocol/` or `transfer/`. What
 * the folder holds (`Entry`) and the host's name and path limits are
 * defined here (entry.ts) and re-exported by the protocol; the hash of a
 * file's first bytes comes from the neutral `lib/file_hash.ts`.
 *
 * @example
 * ```ts
 * import { resolveVirtual } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(resolveVirtual("/", "a//b/"), "/a/b");
 * ```
 *
 * @module
 */

export * from "./entry.ts";
export * from "./paths.ts";
export * from "./hash_cache.ts";
export * from "./served_root.ts";
export * from "./temporaries.ts";
export * from "./beneath.ts";
export * from "./fd_backend.ts";
export * from "./libc.ts";
export * from "./tree_backend.ts";
export * from "./uploads.ts";
