/**
 * The echo server's main thread: a pool of Web Workers that each listen on
 * the same port with `SO_REUSEPORT`, so that the kernel hands every new
 * connection to one of them and they serve in parallel on all cores. The
 * main thread never touches a client connection: it learns a free port,
 * starts the workers, reads their counters from shared memory, and replaces
 * a worker that dies, through the pool `serve --workers` uses too
 * (`lib/transport/worker_pool.ts`).
 *
 * The worker script is `echo_worker.ts`, loaded by URL; a compiled binary
 * needs it passed to `deno compile --include` (see docs/THREADS.md).
 *
 * @module
 */

import { listenError } from "../transport/listen.ts";
import { reservePort } from "../transport/reuse_port.ts";
import { WorkerPool, type WorkerPoolOptions, type WorkerState } from "../transport/worker_pool.ts";

export type { WorkerState };
import type { ServerTlsOptions } from "../transport/types.ts";
import { ConnectionError } from "../errors.ts";
import { connectionBudget } from "./file_limit.ts";
import { EchoCounters, type EchoCounts } from "./counters.ts";
import { formatHostPort, type HostPort } from "../transport/address.ts";
import type { WorkerReport } from "./worker_messages.ts";

/** Options for {@linkcode startEchoServer}. */
export interface EchoServerOptions {
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one (read it from {@linkcode EchoServer.addr}).
   *
   * @default {2525}
   */
  port?: number;
  /**
   * How many workers serve connections.
   *
   * @default {navigator.hardwareConcurrency}
   */
  workers?: number;
  /**
   * The most connections open at once over all workers (each worker takes
   * an equal share); clients beyond it wait in the listen queue. Kept below
   * the open-file limit, where Deno may panic.
   *
   * @default {connectionBudget()}
   */
  maxConnections?: number;
  /**
   * Each connection's buffer, in bytes: the most the server holds for one
   * client, however much it sends without reading.
   *
   * @default {16384}
   */
  bufferSize?: number;
  /**
   * Each worker's listen queue length.
   *
   * @default {4096}
   */
  tcpBacklog?: number;
  /** Speak TLS with this certificate and key; absent: plain TCP. */
  tls?: ServerTlsOptions | undefined;
  /**
   * How long a worker may take to start listening, in milliseconds.
   *
   * @default {10000}
   */
  startTimeout?: number;
  /**
   * The wait before trying again when a replacement worker cannot listen,
   * in milliseconds.
   *
   * @default {1000}
   */
  restartDelay?: number;
  /** Called when a worker dies, is replaced, or cannot be replaced yet. */
  onEvent?: (event: EchoServerEvent) => void;
}

/** Something that happened to the pool while serving. */
export type EchoServerEvent =
  | {
    /** A worker died; its connections were closed with it. */
    type: "died";
    /** The worker's number. */
    id: number;
    /** Why, as the worker or the runtime reported it. */
    message: string;
  }
  | {
    /** A new worker is listening in place of a dead one. */
    type: "replaced";
    /** The dead worker's number. */
    id: number;
    /** The new worker's number. */
    by: number;
  }
  | {
    /** A replacement could not start; another try follows. */
    type: "restart-failed";
    /** The dead worker's number. */
    id: number;
    /** Why. */
    message: string;
  };

/** One worker's counters and state. */
export interface WorkerStats extends EchoCounts {
  /** The worker's number: 1 to N for the first ones, then counting on. */
  id: number;
  /** Its state. */
  state: WorkerState;
  /** Why it died, when it did. */
  diedOf?: string;
  /** The number of the worker that took its place, when one did. */
  replacedBy?: number;
}

interface ResolvedOptions {
  tls: ServerTlsOptions | undefined;
  workers: number;
  maxConnections: number;
  bufferSize: number;
  tcpBacklog: number;
  startTimeout: number;
  restartDelay: number;
  onEvent: (event: EchoServerEvent) => void;
}

/**
 * A running pool of echo workers. Make one with {@linkcode startEchoServer};
 * close it with {@linkcode EchoServer.close} (or `await using`).
 *
 * @example
 * ```ts
 * import { startEchoServer } from "./server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * await using server = await startEchoServer({ port: 0, workers: 2 });
 * const conn = await Deno.connect(server.addr);
 * await conn.write(new TextEncoder().encode("hi"));
 * const reply = new Uint8Array(2);
 * deepEqual(await conn.read(reply), 2);
 * conn.close();
 * deepEqual(server.stats().length, 2);
 * ```
 */
export class EchoServer {
  #addr: HostPort;
  #pool: WorkerPool<WorkerReport>;
  #counters: Map<number, EchoCounters>;

  /**
   * Use {@linkcode startEchoServer}.
   *
   * @param addr The address every worker listens on (a real port).
   * @param pool The running workers.
   * @param counters Each worker's counters, by number.
   */
  private constructor(
    addr: HostPort,
    pool: WorkerPool<WorkerReport>,
    counters: Map<number, EchoCounters>,
  ) {
    this.#addr = addr;
    this.#pool = pool;
    this.#counters = counters;
  }

  /**
   * Starts a server; the same as {@linkcode startEchoServer}.
   *
   * @param options Address, worker count, limits, and an event callback.
   * @returns The running server, every worker listening.
   */
  static async start(options: EchoServerOptions = {}): Promise<EchoServer> {
    const resolved = resolveOptions(options);
    const addr = probeAddress({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 2525,
    });
    const counters = new Map<number, EchoCounters>();
    let pool: WorkerPool<WorkerReport>;
    try {
      pool = await WorkerPool.start(poolOptions(addr, resolved, counters));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ConnectionError(
        `Cannot listen on "${formatHostPort(addr.hostname, addr.port)}": ${why}`,
      );
    }
    return new EchoServer(addr, pool, counters);
  }

  /** The address the workers listen on, with the real port. */
  get addr(): HostPort {
    return { ...this.#addr };
  }

  /**
   * Every worker's counters and state, the dead ones included, by number.
   *
   * @returns One entry per worker that has listened.
   */
  stats(): WorkerStats[] {
    return this.#pool.workers.map((s) => {
      const counts = this.#counters.get(s.id)!.read();
      const live = s.state === "running" || s.state === "starting";
      return {
        id: s.id,
        state: s.state,
        ...counts,
        open: live ? counts.open : 0,
        ...(s.diedOf === undefined ? {} : { diedOf: s.diedOf }),
        ...(s.replacedBy === undefined ? {} : { replacedBy: s.replacedBy }),
      };
    });
  }

  /**
   * Waits until every dead worker's replacement is listening (or the server
   * is closed).
   *
   * @returns When no replacement is pending.
   */
  settled(): Promise<void> {
    return this.#pool.settled();
  }

  /**
   * Test hook, not part of the command line: ends worker `id` on purpose,
   * either by making it throw an uncaught error (`crash`, the way a bug
   * would kill it) or by terminating its thread from outside
   * (`terminate`). The pool then replaces it as it would any dead worker.
   *
   * @param id A running worker's number.
   * @param how How it dies.
   * @returns When the worker is dead and its replacement is starting (see
   * {@linkcode EchoServer.settled}).
   * @throws {RangeError} When no running worker has that number.
   */
  killWorker(id: number, how: "crash" | "terminate" = "crash"): Promise<void> {
    const slot = this.#pool.workers.find((s) => s.id === id && s.state === "running");
    if (!slot) throw new RangeError(`No running worker ${id}`);
    if (how === "terminate") return this.#pool.kill(slot, "Terminated on purpose (test hook)");
    slot.worker.postMessage({ type: "crash" });
    return this.#pool.ended(slot);
  }

  /**
   * Stops every worker (closing their listeners and connections) and waits
   * for pending replacements to give up.
   *
   * @returns When every worker has ended.
   */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /** Closes the server, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The pool's side of an echo server: the worker script, its start message and its events. */
function poolOptions(
  addr: HostPort,
  options: ResolvedOptions,
  counters: Map<number, EchoCounters>,
): WorkerPoolOptions<WorkerReport> {
  const onEvent = options.onEvent;
  return {
    url: new URL("./echo_worker.ts", import.meta.url).href,
    size: options.workers,
    startTimeout: options.startTimeout,
    restartDelay: options.restartDelay,
    stopGrace: 2000,
    startMessage: (slot) => {
      const mine = new EchoCounters();
      counters.set(slot.id, mine);
      return {
        type: "start",
        id: slot.id,
        hostname: addr.hostname,
        port: addr.port,
        maxConnections: Math.max(1, Math.floor(options.maxConnections / options.workers)),
        bufferSize: options.bufferSize,
        tcpBacklog: options.tcpBacklog,
        counters: mine.buffer,
        tls: options.tls,
      };
    },
    signal: (report) => {
      switch (report.type) {
        case "listening":
          return { type: "ready" };
        case "failed":
          return { type: "failed", message: describeListenError(report.name, report.message) };
        case "fatal":
          return { type: "failed", message: report.message };
        case "stopped":
          return { type: "stopped" };
      }
    },
    onDied: (slot, message) => onEvent({ type: "died", id: slot.id, message }),
    onReplaced: (dead, by) => onEvent({ type: "replaced", id: dead.id, by: by.id }),
    onRestartFailed: (dead, message) => onEvent({ type: "restart-failed", id: dead.id, message }),
  };
}

function describeListenError(name: string, message: string): string {
  if (name === "AddrInUse" && Deno.build.os !== "linux") {
    return "address in use (more than one worker needs SO_REUSEPORT, which only Linux has)";
  }
  if (name === "AddrInUse") return "address in use";
  return message;
}

/**
 * Starts an echo server: checks that the address is free (and learns the
 * port when 0 is asked), then starts the workers on it and waits until all
 * of them listen.
 *
 * @param options Address, worker count, limits, and an event callback.
 * @returns The running server.
 * @throws {ConnectionError} When the address cannot be listened on.
 * @throws {RangeError} When a count is not a positive whole number.
 *
 * @example
 * ```ts
 * import { startEchoServer } from "./server.ts";
 * import { ok } from "node:assert/strict";
 *
 * const server = await startEchoServer({ port: 0, workers: 1 });
 * try {
 *   ok(server.addr.port > 0);
 * } finally {
 *   await server.close();
 * }
 * ```
 */
export function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  return EchoServer.start(options);
}

function resolveOptions(options: EchoServerOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    tls: options.tls,
    workers: options.workers ?? Math.max(1, navigator.hardwareConcurrency),
    maxConnections: options.maxConnections ?? connectionBudget(),
    bufferSize: options.bufferSize ?? 16384,
    tcpBacklog: options.tcpBacklog ?? 4096,
    startTimeout: options.startTimeout ?? 10000,
    restartDelay: options.restartDelay ?? 1000,
    onEvent: options.onEvent ?? (() => {}),
  };
  for (const key of ["workers", "maxConnections", "bufferSize", "tcpBacklog"] as const) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`Invalid ${key} ${value}: expected a whole number above 0`);
    }
  }
  return resolved;
}

/** Learns the real port, and that no one (not even another SO_REUSEPORT group) holds it. */
function probeAddress(wanted: HostPort): HostPort {
  try {
    using held = reservePort(wanted.hostname, wanted.port);
    return { hostname: held.addr.hostname, port: held.addr.port };
  } catch (e) {
    throw listenError(formatHostPort(wanted.hostname, wanted.port), e);
  }
}
