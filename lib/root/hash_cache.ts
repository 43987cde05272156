/**
 * Remembers the hashes of files the server has already hashed (SHA-256 and
 * XXH3-128 apart: each algorithm's under its own key), keyed by device,
 * inode, size, and modification and change times to the nanosecond (rsync's quick check, plus ctime, which every write moves and
 * no user can set back), so a file served again is not hashed again. A hash
 * is remembered only for a file that had settled when it was read
 * ({@linkcode settled}).
 *
 * @module
 */

import type { ChecksumName } from "../checksum.ts";
import type { FsStat } from "./tree_backend.ts";

/** Options for {@linkcode HashCache}. */
export interface HashCacheOptions {
  /**
   * How many files to remember; the least recently used are forgotten. 0
   * remembers none (a shared volume's root).
   *
   * @default {10000}
   */
  capacity?: number;
  /**
   * Told of every hash {@linkcode HashCache.set} remembers (not of those
   * {@linkcode HashCache.learn}s), under its full key (the algorithm's name
   * and the content key), so a pool of workers can share them.
   */
  onSet?: ((key: string, hash: string) => void) | undefined;
}

/**
 * The cache key of a file's current content, or `null` when the platform
 * gives no inode or times to key on.
 *
 * @param stat The file's {@linkcode FsStat}.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { contentKey } from "./hash_cache.ts";
 * import { ok } from "node:assert/strict";
 *
 * const key = contentKey({
 *   type: "file", size: 2, mode: 0o644, dev: "8:1", ino: 12n, mtimeNs: 1n, ctimeNs: 2n,
 * });
 * ok(key !== null);
 * ```
 */
export function contentKey(stat: FsStat): string | null {
  if (stat.ino === null || stat.mtimeNs === null || stat.ctimeNs === null) return null;
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

/**
 * How long after its last change a file's hash may be remembered, in ms,
 * when its change time has a fraction of a second: more than the lag of
 * the clock the kernel stamps files with (one timer tick, 1-10 ms).
 */
export const SETTLE_FINE_MS = 50;

/** The same, when the change time is a whole second (a file system that stamps seconds, FAT's two). */
export const SETTLE_COARSE_MS = 2500;

/**
 * Whether a hash read from a file opened at `openedAt` may be remembered
 * under the key of `stat` (taken when it was opened): only when the file's
 * last change is older than the opening by more than the file system's
 * timestamp granularity. A file changed in the same instant as it is read
 * ("racily clean", in Git's words) could be changed again, after the read,
 * without its change time moving: its hash is not remembered, and the next
 * request hashes it again.
 *
 * @param stat The file when it was opened.
 * @param openedAt When it was opened, ms since the epoch.
 * @returns Whether its hash may be remembered.
 *
 * @example
 * ```ts
 * import { settled } from "./hash_cache.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const stat = {
 *   type: "file" as const, size: 2, mode: 0o644, dev: "8:1", ino: 12n, mtimeNs: 0n,
 *   ctimeNs: 1_000_000_123n,
 * };
 * deepEqual(settled(stat, 1_010), false); // changed 10 ms before: too close
 * deepEqual(settled(stat, 2_000), true);
 * ```
 */
export function settled(stat: FsStat, openedAt: number): boolean {
  if (stat.ctimeNs === null) return false;
  const coarse = stat.ctimeNs % 1_000_000_000n === 0n;
  const margin = BigInt(coarse ? SETTLE_COARSE_MS : SETTLE_FINE_MS) * 1_000_000n;
  return stat.ctimeNs < BigInt(Math.floor(openedAt)) * 1_000_000n - margin;
}

/**
 * A bounded least-recently-used map from {@linkcode contentKey} to hash.
 *
 * @example
 * ```ts
 * import { HashCache } from "./hash_cache.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const cache = new HashCache({ capacity: 1 });
 * cache.set("a", "1");
 * cache.set("b", "2");
 * deepEqual(cache.get("a"), undefined);
 * deepEqual(cache.get("b"), "2");
 * deepEqual(cache.get("b", "xxh3-128"), undefined);
 * ```
 */
export class HashCache {
  #map = new Map<string, string>();
  #capacity: number;
  #onSet: ((key: string, hash: string) => void) | undefined;

  /** @param options The capacity, and who to tell of new hashes. */
  constructor(options: HashCacheOptions = {}) {
    this.#capacity = options.capacity ?? 10000;
    this.#onSet = options.onSet;
  }

  /**
   * @param key A content key.
   * @param checksum The algorithm.
   * @returns The remembered hash, if any.
   */
  get(key: string | null, checksum: ChecksumName = "sha256"): string | undefined {
    if (key === null) return undefined;
    const full = `${checksum} ${key}`;
    const v = this.#map.get(full);
    if (v !== undefined) {
      this.#map.delete(full);
      this.#map.set(full, v);
    }
    return v;
  }

  /**
   * @param key A content key.
   * @param hash The file's hash.
   * @param checksum Its algorithm.
   */
  set(key: string | null, hash: string, checksum: ChecksumName = "sha256"): void {
    if (key === null || this.#capacity === 0) return;
    const full = `${checksum} ${key}`;
    this.learn(full, hash);
    this.#onSet?.(full, hash);
  }

  /**
   * Remembers a hash learnt from elsewhere (another worker), without
   * telling `onSet`.
   *
   * @param full The key `onSet` was told: the algorithm's name, a space, the content key.
   * @param hash The file's hash.
   */
  learn(full: string, hash: string): void {
    if (this.#capacity === 0) return;
    this.#map.delete(full);
    this.#map.set(full, hash);
    if (this.#map.size > this.#capacity) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }
}
