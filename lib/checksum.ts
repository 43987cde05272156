/**
 * The body checksums, by the name a session negotiates: SHA-256 from
 * `node:crypto`, and XXH3-128 from the system's libxxhash (native, about
 * 19 GB/s on one core here) or, where that cannot be opened, from hash-wasm
 * (WebAssembly, about 6 GB/s); SHA-256 manages 1.5 GB/s. Both give
 * lowercase hex: 64 digits for SHA-256, 32 for XXH3-128 (the 128-bit value,
 * most significant byte first, as `xxhsum -H2` prints it).
 *
 * Making a WebAssembly hasher costs about 0.2 ms, as much as a whole small
 * request, so XXH3 hashers are kept in a pool and reused. The libraries
 * are loaded on the first hash, not at start-up: a command that moves no
 * body (`ls`, a sync with nothing to send) starts about 35 ms sooner.
 *
 * @module
 */

import type { IHasher } from "hash-wasm";
import { NativeXxh3 } from "./libc/xxhash.ts";
import { nodeBuiltin } from "./node_builtin.ts";

/**
 * The body checksums this implementation speaks, in its order of preference:
 * XXH3-128 keeps up with the wire, SHA-256 stays for those who ask for it.
 * The protocol negotiates them by these names (`lib/protocol/limits.ts`).
 */
export const CHECKSUMS = ["xxh3-128", "sha256"] as const;

/** A body checksum's name, as the hello line and its reply write it. */
export type ChecksumName = typeof CHECKSUMS[number];

/** Each checksum's digest length in bytes (twice that in hex digits: a trailer's length). */
export const DIGEST_BYTES: Readonly<Record<ChecksumName, number>> = {
  "xxh3-128": 16,
  sha256: 32,
};

/** A hash being fed: a body's, or a file's from its start. */
export interface RunningHash {
  /** The algorithm. */
  readonly checksum: ChecksumName;
  /** Feeds bytes; `chunk` may be reused at once. */
  update(chunk: Uint8Array): void;
  /** Finishes: the lowercase hex digest. Call once; the hash is spent after. */
  digest(): string;
}

/** The most idle XXH3 hashers kept for reuse. */
const POOL_MAX = 32;
const idle: IHasher[] = [];

/** XXH3-128 over a pooled hasher, returned to the pool by `digest`. */
class Xxh3Hash implements RunningHash {
  readonly checksum = "xxh3-128" as const;
  #hasher: IHasher | null;

  constructor(hasher: IHasher) {
    this.#hasher = hasher.init();
  }

  update(chunk: Uint8Array): void {
    this.#hasher!.update(chunk);
  }

  digest(): string {
    const hasher = this.#hasher!;
    this.#hasher = null;
    const hex = hasher.digest("hex");
    if (idle.length < POOL_MAX) idle.push(hasher);
    return hex;
  }
}

/**
 * Starts a hash of the given algorithm.
 *
 * @param checksum The algorithm's name.
 * @returns The running hash, empty.
 *
 * @example
 * ```ts
 * import { createChecksum } from "./checksum.ts";
 * import { equal } from "node:assert/strict";
 *
 * const hash = await createChecksum("xxh3-128");
 * hash.update(new TextEncoder().encode("hello"));
 * equal(hash.digest(), "b5e9c1ad071b3e7fc779cfaa5e523818");
 * ```
 */
export async function createChecksum(checksum: ChecksumName): Promise<RunningHash> {
  return createChecksumNow(checksum) ??
    new Xxh3Hash(await (await loadHashWasm()).createXXHash128());
}

/**
 * A running hash of `checksum` at once, when one is ready: SHA-256 always,
 * XXH3-128 from libxxhash where it opens, else when a spent WebAssembly one
 * waits to be reused (WebAssembly is made asynchronously, by
 * {@linkcode createChecksum}); else `null`.
 *
 * @param checksum The algorithm.
 * @returns The hash, or `null`.
 *
 * @example
 * ```ts
 * import { createChecksum, createChecksumNow } from "./checksum.ts";
 * import { equal, notEqual } from "node:assert/strict";
 *
 * (await createChecksum("xxh3-128")).digest(); // spent: kept for reuse
 * const hash = createChecksumNow("xxh3-128");
 * notEqual(hash, null);
 * hash!.update(new TextEncoder().encode("hello"));
 * equal(hash!.digest(), "b5e9c1ad071b3e7fc779cfaa5e523818");
 * ```
 */
export function createChecksumNow(checksum: ChecksumName): RunningHash | null {
  if (checksum === "sha256") {
    const hash = nodeCrypto().createHash("sha256");
    return {
      checksum,
      update: (chunk) => void hash.update(chunk),
      digest: () => hash.digest("hex"),
    };
  }
  const native = NativeXxh3.create();
  if (native !== null) return native;
  const hasher = idle.pop();
  return hasher === undefined ? null : new Xxh3Hash(hasher);
}

/**
 * The digest of `data` whole in `checksum`: at once where a hash is at hand
 * ({@linkcode createChecksumNow}), without a promise of its own to wait for.
 *
 * @param checksum The algorithm.
 * @param data The bytes.
 * @returns The digest, lowercase hex.
 *
 * @example
 * ```ts
 * import { digestOf } from "./checksum.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(await digestOf("xxh3-128", new TextEncoder().encode("hello")), "b5e9c1ad071b3e7fc779cfaa5e523818");
 * ```
 */
export function digestOf(checksum: ChecksumName, data: Uint8Array): string | Promise<string> {
  return digestNow(checksum, data) ??
    createChecksum(checksum).then((hash) => digestWith(hash, data));
}

/**
 * The digest of `data` whole in `checksum`, at once, or `null` where no
 * hash is at hand without waiting (WebAssembly not loaded yet: use
 * {@linkcode digestOf}). XXH3-128 by libxxhash takes one call.
 *
 * @param checksum The algorithm.
 * @param data The bytes.
 * @returns The digest, lowercase hex, or `null`.
 *
 * @example
 * ```ts
 * import { digestNow } from "./checksum.ts";
 * import { equal } from "node:assert/strict";
 *
 * const digest = digestNow("sha256", new TextEncoder().encode("hi"));
 * equal(digest, "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4");
 * ```
 */
export function digestNow(checksum: ChecksumName, data: Uint8Array): string | null {
  const whole = checksum === "xxh3-128" ? NativeXxh3.digestWhole(data) : null;
  if (whole !== null) return whole;
  const now = createChecksumNow(checksum);
  return now === null ? null : digestWith(now, data);
}

function digestWith(hash: RunningHash, data: Uint8Array): string {
  hash.update(data);
  return hash.digest();
}

/**
 * hash-wasm's ES module build: about 20 ms less of each command's start-up
 * than its CommonJS main (33 against 55 ms for a script that hashes 10
 * bytes, an empty one 19 ms), which needs Deno's Node module loader.
 */
async function loadHashWasm(): Promise<typeof import("hash-wasm")> {
  return await import("hash-wasm/esm");
}

/**
 * The SHA-256 of `data` in lowercase hex, at once (for names and keys, not
 * bodies). `node:crypto` is loaded on the first call, synchronously, rather
 * than when the program starts.
 *
 * @param data The bytes, or a string (hashed as UTF-8).
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./checksum.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(sha256Hex("abc").slice(0, 8), "ba7816bf");
 * ```
 */
export function sha256Hex(data: string | Uint8Array): string {
  return nodeCrypto().createHash("sha256").update(data).digest("hex");
}

/** `node:crypto`, loaded on first use (synchronously) rather than at start-up. */
function nodeCrypto(): typeof import("node:crypto") {
  return nodeBuiltin<typeof import("node:crypto")>("node:crypto");
}
