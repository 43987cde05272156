/**
 * The served root: virtual paths, confinement, atomic uploads, their
 * temporary files and the hash cache. The only module that turns a
 * client's path into a host path.
 *
 * `ServedRoot` (served_root.ts, its options in served_root_options.ts) is
 * the one class callers use; behind it,
 * one module per job:
 * - confinement: confined.ts (a path's length, its walk beneath the root),
 *   beneath.ts (one name at a time, links followed only while inside),
 *   fd_backend.ts and tree_backend.ts (descriptor-relative calls, through
 *   `../libc/`);
 * - reads: reads.ts (a file opened for reading, its remembered hash),
 *   hash_cache.ts;
 * - atomic and resumable uploads: uploads.ts, their targets: upload_target.ts,
 *   temporaries.ts, an MPUT's
 *   folders resolved once: upload_folders.ts; several landed
 *   together: group_commit.ts, which flushes a file system whole where
 *   volume_flush.ts says it may;
 * - namespace operations (list, remove, mkdir, rmdir, rename): namespace.ts;
 * - clean-up of leftover temporaries: cleanup.ts;
 * - virtual paths and their limits: paths.ts, entry.ts; file-system errors
 *   as remote errors: fs_errors.ts.
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
export * from "./served_root_options.ts";
export * from "./shared_volume.ts";
export * from "./confined.ts";
export * from "./reads.ts";
export * from "./temporaries.ts";
export * from "./beneath.ts";
export * from "./fd_backend.ts";
export * from "./tree_backend.ts";
export * from "./uploads.ts";
export * from "./upload_target.ts";
export * from "./upload_sink.ts";
export * from "./upload_folders.ts";
export * from "./group_commit.ts";
export * from "./volume_flush.ts";
