/**
 * Remembers the SHA-256 of files the server has already hashed, keyed by
 * device, inode, size, modification time and change time (rsync's quick
 * check, plus ctime),
 * so a file served again is not hashed again.
 *
 * @module
 */

/** Options for {@linkcode HashCache}. */
export interface HashCacheOptions {
  /**
   * How many files to remember; the least recently used are forgotten.
   *
   * @default {10000}
   */
  capacity?: number;
  /**
   * Told of every hash {@linkcode HashCache.set} remembers (not of those
   * {@linkcode HashCache.learn}s), so a pool of workers can share them.
   */
  onSet?: ((key: string, sha256: string) => void) | undefined;
}

/**
 * The cache key of a file's current content, or `null` when the platform
 * gives no inode or time to key on.
 *
 * @param info The file's `stat`.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { contentKey } from "./hash_cache.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(contentKey(Deno.statSync(import.meta.filename!)) !== "");
 * ```
 */
export function contentKey(info: Deno.FileInfo): string | null {
  if (info.ino === null || info.mtime === null) return null;
  // Millisecond mtime alone is coarse; ctime (changed by any write) narrows it.
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime.getTime()}:${info.ctime?.getTime()}`;
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
 * ```
 */
export class HashCache {
  #map = new Map<string, string>();
  #capacity: number;
  #onSet: ((key: string, sha256: string) => void) | undefined;

  /** @param options The capacity, and who to tell of new hashes. */
  constructor(options: HashCacheOptions = {}) {
    this.#capacity = options.capacity ?? 10000;
    this.#onSet = options.onSet;
  }

  /**
   * @param key A content key.
   * @returns The remembered hash, if any.
   */
  get(key: string | null): string | undefined {
    if (key === null) return undefined;
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /**
   * @param key A content key.
   * @param sha256 The file's hash.
   */
  set(key: string | null, sha256: string): void {
    if (key === null) return;
    this.learn(key, sha256);
    this.#onSet?.(key, sha256);
  }

  /**
   * Remembers a hash learnt from elsewhere (another worker), without
   * telling `onSet`.
   *
   * @param key A content key.
   * @param sha256 The file's hash.
   */
  learn(key: string, sha256: string): void {
    this.#map.delete(key);
    this.#map.set(key, sha256);
    if (this.#map.size > this.#capacity) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
  }
}
