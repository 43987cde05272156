/**
 * What a served root is opened with: read-only or not, whether uploads are
 * flushed to disk, how long an interrupted resumable upload is kept, the
 * cache of known file hashes, and whether the folder is on a volume other
 * machines write to.
 *
 * @module
 */

import type { HashCache } from "./hash_cache.ts";

/** Options for `ServedRoot.open` (served_root.ts). */
export interface ServedRootOptions {
  /**
   * Refuse every request that would change something.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Flush uploads to disk (fdatasync) before they are renamed into place.
   *
   * @default {true}
   */
  fsync?: boolean;
  /**
   * Hours an interrupted resumable upload is kept after its last byte.
   *
   * @default {24}
   */
  resumeExpiryHours?: number;
  /**
   * The cache of known file hashes; workers of one pool pass one that
   * shares what it learns with the others.
   *
   * @default {new HashCache()}
   */
  hashCache?: HashCache;
  /**
   * Whether the folder is on a volume other machines write to (another bftp
   * head on GlusterFS, NFS...): no file hash is remembered then, each is
   * computed from the bytes (`hashCache` is not used). `true` where the
   * mount table cannot tell (docs/SCALING.md).
   *
   * @default {sharedVolumeType(root) !== null}
   */
  shared?: boolean | undefined;
}
