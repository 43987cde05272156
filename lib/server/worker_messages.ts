/**
 * The messages between the serving pool's main thread and its workers.
 *
 * @module
 */

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
  /** Address to listen on. */
  hostname: string;
  /** The port every worker shares (SO_REUSEPORT). */
  port: number;
  /** Seconds before a silent client is dropped. */
  idleTimeout: number;
  /** The connection limit over all workers. */
  maxConnections: number;
  /** `[0]` open sessions over all workers, `[1 + index]` this worker's own. */
  counters: SharedArrayBuffer;
}

/** Main thread to worker: stop serving, or (test hook) die of an uncaught error. */
export interface ControlMessage {
  /** What to do. */
  type: "stop" | "crash";
}

/** Worker to main thread. */
export type WorkerEvent =
  | { type: "ready" }
  | { type: "log"; line: string }
  | { type: "stopped" }
  | { type: "failed"; message: string };
