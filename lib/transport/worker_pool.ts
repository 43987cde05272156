/**
 * A pool of Web Workers that each listen on the same port with
 * SO_REUSEPORT (see `reuse_port.ts`), for `serve --workers` and
 * `echo-server`: starting the workers, replacing one that dies, and
 * stopping them all. What a worker runs and says is the caller's: the pool
 * only needs to know, from each message, whether the worker is ready, has
 * failed, or has stopped.
 *
 * @module
 */

/** Where a worker is in its life. */
export type WorkerState = "starting" | "running" | "dead" | "stopped";

/** One worker of a {@linkcode WorkerPool}. */
export interface PoolWorker {
  /** Its place in the pool, 0 to size - 1; a replacement takes the dead worker's place. */
  readonly index: number;
  /** Its number: 1 to size for the first ones, then counting on. */
  readonly id: number;
  /** The thread. */
  readonly worker: Worker;
  /** Its state. */
  state: WorkerState;
  /** Why it died, when it did. */
  diedOf?: string;
  /** The number of the worker that took its place, when one did. */
  replacedBy?: number;
}

/** What a worker's message means to the pool; `undefined`: nothing (the caller's own). */
export type WorkerSignal =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "stopped" }
  | undefined;

/** Options for {@linkcode WorkerPool.start}. */
export interface WorkerPoolOptions<M> {
  /** The worker script. */
  url: string | URL;
  /** How many workers. */
  size: number;
  /** The message that starts a worker (it answers with a ready or failed signal). */
  startMessage: (slot: PoolWorker) => unknown;
  /** Reads a worker's message. */
  signal: (message: M) => WorkerSignal;
  /** Receives the messages that are not signals, with every worker of the pool. */
  onMessage?: (slot: PoolWorker, message: M, workers: readonly PoolWorker[]) => void;
  /** A running worker died (its thread is ended); `closing` when the pool is stopping. */
  onDied?: (slot: PoolWorker, message: string, closing: boolean) => void;
  /** A replacement listens in place of a dead worker. */
  onReplaced?: (dead: PoolWorker, by: PoolWorker) => void;
  /** A replacement could not start. */
  onRestartFailed?: (dead: PoolWorker, message: string) => void;
  /** The worker's thread name. */
  name?: (slot: PoolWorker) => string;
  /**
   * Milliseconds a worker may take to be ready; 0: no limit.
   *
   * @default {10000}
   */
  startTimeout?: number;
  /**
   * Milliseconds before trying again when a replacement cannot start;
   * `undefined`: give up after one try.
   *
   * @default {undefined}
   */
  restartDelay?: number | undefined;
  /**
   * Milliseconds a worker has to stop cleanly before it is terminated.
   *
   * @default {2000}
   */
  stopGrace?: number;
}

interface Slot extends PoolWorker {
  ready: PromiseWithResolvers<void>;
  stopped: PromiseWithResolvers<void>;
}

/**
 * A running pool of workers. Make one with {@linkcode WorkerPool.start}.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./worker_pool.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const url = "data:text/javascript,self.onmessage = () => postMessage('no')";
 * await rejects(
 *   WorkerPool.start<string>({
 *     url, size: 1, startMessage: () => "go",
 *     signal: (m) => ({ type: "failed", message: m }),
 *   }),
 *   /no/,
 * );
 * ```
 */
export class WorkerPool<M> {
  #options: WorkerPoolOptions<M>;
  #slots: Slot[] = [];
  #nextId = 1;
  #closing = false;
  #closed: Promise<void> | undefined;
  #replacing = new Set<Promise<void>>();
  #wakeRestart = new Set<() => void>();

  private constructor(options: WorkerPoolOptions<M>) {
    this.#options = options;
  }

  /**
   * Starts `size` workers and waits until all are ready.
   *
   * @param options The script, the start message and the callbacks.
   * @returns The pool.
   * @throws {Error} The first failure's message, once every worker is stopped.
   */
  static async start<M>(options: WorkerPoolOptions<M>): Promise<WorkerPool<M>> {
    const pool = new WorkerPool<M>(options);
    const slots = Array.from({ length: options.size }, (_, i) => pool.#spawn(i));
    const results = await Promise.allSettled(slots.map((s) => s.ready.promise));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    return pool;
  }

  /** Every worker started, the dead ones included, in start order (a replacement that never started is dropped). */
  get workers(): readonly PoolWorker[] {
    return this.#slots;
  }

  /** Whether the pool is stopping. */
  get closing(): boolean {
    return this.#closing;
  }

  /** @returns When no replacement is pending. */
  async settled(): Promise<void> {
    while (this.#replacing.size > 0) await Promise.all(this.#replacing);
  }

  /**
   * Ends a worker as if it had died, and replaces it.
   *
   * @param slot The worker.
   * @param message Why.
   * @returns When it is dead.
   */
  kill(slot: PoolWorker, message: string): Promise<void> {
    const own = slot as Slot;
    this.#died(own, message);
    return own.stopped.promise;
  }

  /** @returns When the worker has ended (stopped or died). */
  ended(slot: PoolWorker): Promise<void> {
    return (slot as Slot).stopped.promise;
  }

  /** Stops every worker and waits for pending replacements to give up. */
  close(): Promise<void> {
    this.#closed ??= this.#closeAll();
    return this.#closed;
  }

  async #closeAll(): Promise<void> {
    this.#closing = true;
    for (const wake of this.#wakeRestart) wake();
    const live = this.#slots.filter((s) => s.state === "running" || s.state === "starting");
    await Promise.all(live.map((s) => this.#stop(s)));
    await this.settled();
  }

  #spawn(index: number): Slot {
    const id = this.#nextId++;
    const base = { index, id, state: "starting" as WorkerState };
    const name = this.#options.name?.(base as PoolWorker);
    const worker = new Worker(this.#options.url, { type: "module", ...(name ? { name } : {}) });
    const slot: Slot = {
      ...base,
      worker,
      ready: Promise.withResolvers<void>(),
      stopped: Promise.withResolvers<void>(),
    };
    // Handled by whoever waits for it; never an unhandled rejection.
    slot.ready.promise.catch(() => {});
    this.#slots.push(slot);
    const limit = this.#options.startTimeout ?? 10000;
    if (limit > 0) {
      const timer = setTimeout(() => {
        if (slot.state === "starting") this.#died(slot, "the worker did not start in time");
      }, limit);
      void slot.ready.promise.finally(() => clearTimeout(timer)).catch(() => {});
    }
    worker.onmessage = (event: MessageEvent<M>) => this.#onMessage(slot, event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#died(slot, event.message);
    };
    worker.onmessageerror = () => this.#died(slot, "a message from the worker was unreadable");
    worker.postMessage(this.#options.startMessage(slot));
    return slot;
  }

  #onMessage(slot: Slot, message: M): void {
    const signal = this.#options.signal(message);
    if (signal === undefined) this.#options.onMessage?.(slot, message, this.#slots);
    else if (signal.type === "ready" && slot.state === "starting") {
      slot.state = "running";
      slot.ready.resolve();
    } else if (signal.type === "failed") this.#died(slot, signal.message);
    else if (signal.type === "stopped") slot.stopped.resolve();
  }

  /** Marks a worker dead, ends its thread, and starts its replacement. */
  #died(slot: Slot, message: string): void {
    if (slot.state === "dead" || slot.state === "stopped") return;
    const wasRunning = slot.state === "running";
    slot.state = "dead";
    slot.diedOf = message;
    slot.worker.terminate();
    slot.stopped.resolve();
    slot.ready.reject(new Error(message));
    if (!wasRunning) return;
    this.#options.onDied?.(slot, message, this.#closing);
    if (this.#closing) return;
    const task = this.#replace(slot);
    this.#replacing.add(task);
    void task.finally(() => this.#replacing.delete(task));
  }

  async #replace(dead: Slot): Promise<void> {
    while (!this.#closing) {
      const slot = this.#spawn(dead.index);
      try {
        await slot.ready.promise;
        dead.replacedBy = slot.id;
        this.#options.onReplaced?.(dead, slot);
        return;
      } catch (e) {
        // A replacement that never started leaves no trace.
        this.#slots.splice(this.#slots.indexOf(slot), 1);
        if (this.#closing) return;
        this.#options.onRestartFailed?.(dead, e instanceof Error ? e.message : String(e));
        const delay = this.#options.restartDelay;
        if (delay === undefined) return;
        await this.#pause(delay);
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
      const timer = setTimeout(resolve, this.#options.stopGrace ?? 2000);
      await Promise.race([slot.stopped.promise, promise]);
      clearTimeout(timer);
    }
    if (slot.state === "dead") return;
    slot.state = "stopped";
    slot.worker.terminate();
    slot.ready.reject(new Error("the server is closing"));
  }
}
