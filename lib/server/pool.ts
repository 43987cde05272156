/**
 * Serving on every core: a pool of Web Workers that each run a BFTP server
 * on the same port with SO_REUSEPORT. The kernel hands each new connection
 * to one worker; the workers share one connection count (in a
 * `SharedArrayBuffer`) so `maxConnections` holds over the whole pool. A
 * worker that dies is replaced; its own clients see their connection
 * close, the others never notice. Starting, replacing and stopping are the
 * shared pool's (`lib/transport/worker_pool.ts`, also `echo-server`'s).
 *
 * @module
 */

import { reservePort } from "../transport/reuse_port.ts";
import {
  type PoolWorker,
  WorkerPool,
  type WorkerPoolOptions,
  type WorkerSignal,
} from "../transport/worker_pool.ts";
import type { ServerTlsOptions } from "../transport/types.ts";
import { releaseWorker, sharedAdmissionBytes, sharedSessions } from "./admission.ts";
import type { TokenSet } from "./auth.ts";
import {
  DEFAULT_AUTH_DELAY_MS,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PER_CLIENT,
} from "./limits.ts";
import { RESUME_EXPIRY_HOURS } from "../root/paths.ts";
import { type ChecksumName, CHECKSUMS } from "../protocol/limits.ts";
import type { StartMessage, WorkerEvent } from "./worker_messages.ts";

/** Options for {@linkcode startServerPool}. */
export interface ServerPoolOptions {
  /** The served folder (host path). */
  rootPath: string;
  /** How many workers. */
  workers: number;
  /**
   * Refuse changes.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Flush uploads before renaming them into place.
   *
   * @default {true}
   */
  fsync?: boolean;
  /**
   * The folder is on a shared volume: no file hash is remembered
   * (`ServedRootOptions.shared`).
   *
   * @default {detected from the mount table}
   */
  shared?: boolean | undefined;
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one.
   *
   * @default {2121}
   */
  port?: number;
  /**
   * Sessions at once over all workers.
   *
   * @default {1000}
   */
  maxConnections?: number;
  /**
   * Sessions at once from one client address, over all workers; 0: no limit.
   *
   * @default {32}
   */
  maxPerClient?: number;
  /**
   * Seconds before a silent client is dropped; 0 never.
   *
   * @default {300}
   */
  idleTimeout?: number;
  /**
   * Seconds a new connection has for its handshake; 0 never.
   *
   * @default {10}
   */
  handshakeTimeout?: number;
  /** Speak TLS with this identity; absent: plain TCP. */
  tls?: ServerTlsOptions | undefined;
  /** Require one of these tokens. */
  tokens?: TokenSet | undefined;
  /**
   * Milliseconds before a wrong token is answered.
   *
   * @default {1000}
   */
  authDelay?: number;
  /**
   * Hours an interrupted resumable upload is kept.
   *
   * @default {24}
   */
  resumeExpiryHours?: number;
  /**
   * The body checksums the workers accept.
   *
   * @default {CHECKSUMS}
   */
  checksums?: readonly ChecksumName[] | undefined;
  /**
   * Receives the workers' log lines, in the same form as a single server's,
   * with the index of the worker that wrote it (none for the pool's own lines).
   */
  log?: (line: string, worker?: number) => void;
}

/** A running pool. */
export interface ServerPool {
  /** The address every worker listens on. */
  readonly addr: Deno.NetAddr;
  /** How many workers have been replaced since the start. */
  readonly replaced: number;
  /** Sessions open now over all workers. */
  readonly connections: number;
  /**
   * Test hook: makes worker `index` die of an uncaught error, as a bug
   * would, so that its replacement can be observed.
   */
  crashWorker(index: number): void;
  /** Stops every worker and resolves when all have stopped. */
  close(): Promise<void>;
}

const WORKER_URL = new URL("./serve_worker.ts", import.meta.url).href;

/**
 * Starts a pool of serving workers.
 *
 * @param options The folder, the address and the number of workers.
 * @returns The running pool, once every worker listens.
 *
 * @example
 * ```ts
 * import { startServerPool } from "./pool.ts";
 * import { ok } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const pool = await startServerPool({ rootPath: dir, workers: 2, port: 0 });
 * ok(pool.addr.port > 0);
 * await pool.close();
 * await Deno.remove(dir);
 * ```
 */
export function startServerPool(options: ServerPoolOptions): Promise<ServerPool> {
  return ServingPool.start(options);
}

/**
 * The workers, their shared connection count and the pool's log: what
 * {@linkcode startServerPool} returns. Starting, replacing and stopping
 * workers are the shared {@linkcode WorkerPool}'s; this class says what a
 * serving worker is told at its start and how its events are read.
 */
class ServingPool implements ServerPool {
  readonly #options: ServerPoolOptions;
  readonly #log: (line: string, worker?: number) => void;
  /** The workers' shared admission counts (see admission.ts). */
  readonly #counters: SharedArrayBuffer;
  readonly #addr: Deno.NetAddr;
  #workers: WorkerPool<WorkerEvent> | undefined;
  #replaced = 0;

  private constructor(options: ServerPoolOptions, addr: Deno.NetAddr) {
    this.#options = options;
    this.#log = options.log ?? (() => {});
    this.#counters = new SharedArrayBuffer(sharedAdmissionBytes(options.workers));
    this.#addr = addr;
  }

  /** Reserves the port, then starts every worker on it; resolves once all listen. */
  static async start(options: ServerPoolOptions): Promise<ServingPool> {
    // Held until every worker listens on it (see reuse_port.ts).
    using probe = reservePort(options.hostname ?? "127.0.0.1", options.port ?? 2121);
    const pool = new ServingPool(options, probe.addr);
    pool.#workers = await WorkerPool.start<WorkerEvent>(pool.#poolOptions())
      .finally(() => probe.release());
    return pool;
  }

  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  get replaced(): number {
    return this.#replaced;
  }

  get connections(): number {
    return sharedSessions(this.#counters);
  }

  crashWorker(index: number): void {
    const live = this.#workers?.workers.find((s) => s.index === index && s.state === "running");
    live?.worker.postMessage({ type: "crash" });
  }

  close(): Promise<void> {
    return this.#workers?.close() ?? Promise.resolve();
  }

  #poolOptions(): WorkerPoolOptions<WorkerEvent> {
    return {
      url: WORKER_URL,
      size: this.#options.workers,
      name: (slot) => `bftp-serve-${slot.index}`,
      startTimeout: 0,
      stopGrace: 5000,
      startMessage: (slot) => this.#startMessage(slot.index),
      signal: (event) => this.#signal(event),
      onMessage: (slot, event, workers) => this.#onMessage(slot, event, workers),
      onDied: (slot, message, closing) => this.#onDied(slot, message, closing),
      onRestartFailed: (dead, message) =>
        this.#log(`worker ${dead.index} could not restart: ${message}`),
    };
  }

  /** What a worker's event means to the pool: it started, stopped or failed to start. */
  #signal(event: WorkerEvent): WorkerSignal {
    if (event.type === "ready" || event.type === "stopped") return { type: event.type };
    if (event.type === "failed") return { type: "failed", message: event.message };
    return undefined;
  }

  #onMessage(slot: PoolWorker, event: WorkerEvent, workers: readonly PoolWorker[]): void {
    if (event.type === "log") this.#log(event.line, slot.index);
    else if (event.type === "hash") {
      // Share what one worker hashed, so no other worker hashes the same file again.
      for (const other of workers) {
        if (other !== slot && other.state === "running") other.worker.postMessage(event);
      }
    }
  }

  #onDied(slot: PoolWorker, message: string, closing: boolean): void {
    // The dead worker's sessions are gone with it: give their places back.
    releaseWorker(this.#counters, this.#options.workers, slot.index);
    if (closing) return;
    this.#replaced++;
    this.#log(`worker ${slot.index} died (${message}); starting a new one`);
  }

  /** What worker `index` is told at its start: the pool's options, filled with their defaults. */
  #startMessage(index: number): StartMessage {
    const options = this.#options;
    return {
      type: "start",
      index,
      workers: options.workers,
      rootPath: options.rootPath,
      readOnly: options.readOnly ?? false,
      fsync: options.fsync ?? true,
      shared: options.shared,
      hostname: options.hostname ?? "127.0.0.1",
      port: this.#addr.port,
      idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
      handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      maxPerClient: options.maxPerClient ?? DEFAULT_MAX_PER_CLIENT,
      authDelay: options.authDelay ?? DEFAULT_AUTH_DELAY_MS,
      resumeExpiryHours: options.resumeExpiryHours ?? RESUME_EXPIRY_HOURS,
      tls: options.tls,
      tokens: options.tokens?.toDigests(),
      checksums: [...(options.checksums ?? CHECKSUMS)],
      quiet: options.log === undefined,
      counters: this.#counters,
    };
  }
}
