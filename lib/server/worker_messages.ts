/**
 * The messages between the serving pool's main thread and its workers.
 *
 * @module
 */

import type { ChecksumName } from "../protocol/limits.ts";
import type { Access } from "./auth.ts";
import type { ServerTlsOptions } from "../transport/types.ts";

/** Main thread to worker: start serving. */
export interface StartMessage {
  /** Always `"start"`. */
  type: "start";
  /** This worker's slot in the shared counters. */
  index: number;
  /** The served folder (host path). */
  rootPath: string;
  /** Refuse changes. */
  readOnly: boolean;
  /** Flush uploads before renaming them. */
  fsync: boolean;
  /** The folder is on a shared volume (`undefined`: detect it). */
  shared: boolean | undefined;
  /** Address to listen on. */
  hostname: string;
  /** The port every worker shares (SO_REUSEPORT). */
  port: number;
  /** Seconds before a silent client is dropped. */
  idleTimeout: number;
  /** The connection limit over all workers. */
  maxConnections: number;
  /** The limit per client address over all workers. */
  maxPerClient: number;
  /** How many workers share the counters. */
  workers: number;
  /** Seconds a new connection has for its handshake. */
  handshakeTimeout: number;
  /** Milliseconds before a wrong token is answered. */
  authDelay: number;
  /** Hours an interrupted resumable upload is kept. */
  resumeExpiryHours: number;
  /** The TLS identity, if serving TLS. */
  tls: ServerTlsOptions | undefined;
  /** The accepted tokens as digests, if tokens are required. */
  tokens: { digest: Uint8Array; access: Access }[] | undefined;
  /** The body checksums accepted. */
  checksums: ChecksumName[];
  /** Whether the pool logs nothing (`serve -q`): the worker's sessions make no lines. */
  quiet: boolean;
  /** The shared connection counters (see `admission.ts`). */
  counters: SharedArrayBuffer;
}

/** Main thread to worker: stop serving, or (test hook) die of an uncaught error. */
export interface ControlMessage {
  /** What to do. */
  type: "stop" | "crash";
}

/** Either way: a file hash one worker computed, for the others' caches. */
export interface HashMessage {
  /** Always `"hash"`. */
  type: "hash";
  /** The hash's full key: the algorithm's name and the file's content key (see `lib/root/hash_cache.ts`). */
  key: string;
  /** The hash. */
  hash: string;
}

/** Worker to main thread. */
export type WorkerEvent =
  | HashMessage
  | { type: "ready" }
  | { type: "log"; line: string }
  | { type: "stopped" }
  | { type: "failed"; message: string };
