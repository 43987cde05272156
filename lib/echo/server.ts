/**
 * The echo server's main thread: a pool of Web Workers that each listen on
 * the same port with `SO_REUSEPORT`, so that the kernel hands every new
 * connection to one of them and they serve in parallel on all cores. The
 * main thread never touches a client connection: it learns a free port,
 * starts the workers, reads their counters from shared memory, and replaces
 * a worker that dies.
 *
 * The worker script is `echo_worker.ts`, loaded by URL; a compiled binary
 * needs it passed to `deno compile --include` (see docs/THREADS.md).
 *
 * @module
 */

import { listenError } from "../transport/listen.ts";
import { reservePort } from "../transport/reuse_port.ts";
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

/** Where a worker is in its life. */
export type WorkerState = "starting" | "running" | "dead" | "stopped";

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

interface Slot {
  id: number;
  worker: Worker;
  counters: EchoCounters;
  state: WorkerState;
  diedOf?: string;
  replacedBy?: number;
  listening: PromiseWithResolvers<void>;
  stopped: PromiseWithResolvers<void>;
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
  #options: ResolvedOptions;
  #slots: Slot[] = [];
  #nextId = 1;
  #closing = false;
  #replacing = new Set<Promise<void>>();
  #wakeRestart = new Set<() => void>();

  /**
   * Use {@linkcode startEchoServer}.
   *
   * @param addr The address every worker listens on (a real port).
   * @param options The resolved options.
   */
  private constructor(addr: HostPort, options: ResolvedOptions) {
    this.#addr = addr;
    this.#options = options;
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
    const server = new EchoServer(addr, resolved);
    const slots = Array.from({ length: resolved.workers }, () => server.#spawn());
    const results = await Promise.allSettled(slots.map((s) => s.listening.promise));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await server.close();
      const why = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      throw new ConnectionError(
        `Cannot listen on "${formatHostPort(addr.hostname, addr.port)}": ${why}`,
      );
    }
    return server;
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
    return this.#slots.map((s) => {
      const counts = s.counters.read();
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
  async settled(): Promise<void> {
    while (this.#replacing.size > 0) await Promise.all(this.#replacing);
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
    const slot = this.#slots.find((s) => s.id === id && s.state === "running");
    if (!slot) throw new RangeError(`No running worker ${id}`);
    if (how === "crash") slot.worker.postMessage({ type: "crash" });
    else this.#died(slot, "Terminated on purpose (test hook)");
    return slot.stopped.promise;
  }

  /**
   * Stops every worker (closing their listeners and connections) and waits
   * for pending replacements to give up.
   *
   * @returns When every worker has ended.
   */
  async close(): Promise<void> {
    this.#closing = true;
    for (const wake of this.#wakeRestart) wake();
    const live = this.#slots.filter((s) => s.state === "running" || s.state === "starting");
    await Promise.all(live.map((s) => this.#stop(s)));
    await this.settled();
  }

  /** Closes the server, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #spawn(): Slot {
    const id = this.#nextId++;
    const worker = new Worker(new URL("./echo_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const counters = new EchoCounters();
    const slot: Slot = {
      id,
      worker,
      counters,
      state: "starting",
      listening: Promise.withResolvers<void>(),
      stopped: Promise.withResolvers<void>(),
    };
    // Handled by whoever waits for it; never an unhandled rejection.
    slot.listening.promise.catch(() => {});
    this.#slots.push(slot);
    const timer = setTimeout(() => {
      if (slot.state === "starting") this.#died(slot, "the worker did not start in time");
    }, this.#options.startTimeout);
    void slot.listening.promise.finally(() => clearTimeout(timer)).catch(() => {});
    worker.onmessage = (event: MessageEvent<WorkerReport>) => this.#onReport(slot, event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#died(slot, event.message);
    };
    worker.onmessageerror = () => this.#died(slot, "a message from the worker was unreadable");
    worker.postMessage({
      type: "start",
      id,
      hostname: this.#addr.hostname,
      port: this.#addr.port,
      maxConnections: Math.max(
        1,
        Math.floor(this.#options.maxConnections / this.#options.workers),
      ),
      bufferSize: this.#options.bufferSize,
      tcpBacklog: this.#options.tcpBacklog,
      counters: counters.buffer,
      tls: this.#options.tls,
    });
    return slot;
  }

  #onReport(slot: Slot, report: WorkerReport): void {
    switch (report.type) {
      case "listening":
        if (slot.state === "starting") {
          slot.state = "running";
          slot.listening.resolve();
        }
        break;
      case "failed":
        this.#died(slot, describeListenError(report.name, report.message));
        break;
      case "fatal":
        this.#died(slot, report.message);
        break;
      case "stopped":
        slot.stopped.resolve();
        break;
    }
  }

  /** Marks a worker dead, ends its thread, and starts its replacement. */
  #died(slot: Slot, message: string): void {
    if (slot.state === "dead" || slot.state === "stopped") return;
    const wasRunning = slot.state === "running";
    slot.state = "dead";
    slot.diedOf = message;
    slot.worker.terminate();
    slot.stopped.resolve();
    slot.listening.reject(new Error(message));
    if (!wasRunning) return;
    this.#options.onEvent({ type: "died", id: slot.id, message });
    if (this.#closing) return;
    const task = this.#replace(slot);
    this.#replacing.add(task);
    void task.finally(() => this.#replacing.delete(task));
  }

  async #replace(dead: Slot): Promise<void> {
    while (!this.#closing) {
      const slot = this.#spawn();
      try {
        await slot.listening.promise;
        dead.replacedBy = slot.id;
        this.#options.onEvent({ type: "replaced", id: dead.id, by: slot.id });
        return;
      } catch (e) {
        // A replacement that never listened leaves no trace in the stats.
        this.#slots.splice(this.#slots.indexOf(slot), 1);
        if (this.#closing) return;
        const message = e instanceof Error ? e.message : String(e);
        this.#options.onEvent({ type: "restart-failed", id: dead.id, message });
        await this.#pause(this.#options.restartDelay);
      }
    }
  }

  async #pause(ms: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(resolve, ms);
    this.#wakeRestart.add(resolve);
    try {
      await promise;
    } finally {
      clearTimeout(timer);
      this.#wakeRestart.delete(resolve);
    }
  }

  async #stop(slot: Slot): Promise<void> {
    if (slot.state === "running") {
      slot.worker.postMessage({ type: "stop" });
      const { promise, resolve } = Promise.withResolvers<void>();
      const timer = setTimeout(resolve, 2000);
      await Promise.race([slot.stopped.promise, promise]);
      clearTimeout(timer);
    }
    if (slot.state === "dead") return;
    slot.state = "stopped";
    slot.worker.terminate();
    slot.listening.reject(new Error("the server is closing"));
  }
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
