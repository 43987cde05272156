/**
 * The hashing thread: feeds the chunks it is sent, in order, to one
 * SHA-256 and sends each buffer back for reuse; answers `digest` with the
 * hex digest. Loaded by URL from `stream_hash.ts`; a compiled binary must
 * include it (`deno compile --include lib/transfer/hash_worker.ts`).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { createHash } from "node:crypto";

const hash = createHash("sha256");

self.onmessage = (e: MessageEvent<{ buffer: ArrayBuffer; length: number } | "digest">) => {
  const msg = e.data;
  if (msg === "digest") {
    self.postMessage({ digest: hash.digest("hex") });
    return;
  }
  hash.update(new Uint8Array(msg.buffer, 0, msg.length));
  self.postMessage({ buffer: msg.buffer }, [msg.buffer]);
};
