/**
 * A serving worker: runs one BFTP server on the port shared by the pool
 * (SO_REUSEPORT), so the kernel spreads connections over the workers. Its
 * log lines go to the main thread, which alone writes to the console.
 *
 * Loaded by URL from `pool.ts`; a compiled binary must include it
 * (`deno compile --include lib/server/serve_worker.ts`).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { ServedRoot } from "../root/served_root.ts";
import { sharedAdmission } from "./admission.ts";
import { TokenSet } from "./auth.ts";
import { type BftpServer, startServer } from "./server.ts";
import type { ControlMessage, HashMessage, StartMessage, WorkerEvent } from "./worker_messages.ts";
import { HashCache } from "../root/hash_cache.ts";

const post = (event: WorkerEvent) => self.postMessage(event);
let server: BftpServer | undefined;

// Hashes this worker computes go to the pool, which passes them to the other workers.
const hashes = new HashCache({ onSet: (key, hash) => post({ type: "hash", key, hash }) });

self.onmessage = async (e: MessageEvent<StartMessage | ControlMessage | HashMessage>) => {
  const msg = e.data;
  if (msg.type === "hash") {
    hashes.learn(msg.key, msg.hash);
  } else if (msg.type === "start") {
    try {
      const root = await ServedRoot.open(msg.rootPath, {
        readOnly: msg.readOnly,
        fsync: msg.fsync,
        shared: msg.shared,
        resumeExpiryHours: msg.resumeExpiryHours,
        hashCache: hashes,
      });
      const limits = { maxConnections: msg.maxConnections, maxPerClient: msg.maxPerClient };
      server = startServer({
        root,
        hostname: msg.hostname,
        port: msg.port,
        reusePort: true,
        idleTimeout: msg.idleTimeout,
        handshakeTimeout: msg.handshakeTimeout,
        maxConnections: msg.maxConnections,
        maxPerClient: msg.maxPerClient,
        tls: msg.tls,
        tokens: msg.tokens === undefined ? undefined : TokenSet.fromDigests(msg.tokens),
        authDelay: msg.authDelay,
        checksums: msg.checksums,
        admission: sharedAdmission(msg.counters, msg.workers, msg.index, limits),
        ...(msg.quiet ? {} : { log: (line: string) => post({ type: "log", line }) }),
      });
      post({ type: "ready" });
    } catch (err) {
      post({ type: "failed", message: err instanceof Error ? err.message : String(err) });
    }
  } else if (msg.type === "stop") {
    await server?.close();
    post({ type: "stopped" });
    self.close();
  } else if (msg.type === "crash") {
    // Test hook: an uncaught error, as a bug would raise, kills this worker.
    setTimeout(() => {
      throw new Error("Worker crashed on purpose");
    }, 0);
  }
};
