/**
 * A window of tasks in flight: many files move at once over one pipelined
 * session, at most `limit` at a time, started in the order they were given.
 * The first failure stops new tasks; those in flight finish.
 *
 * @module
 */

/** Options for {@linkcode TaskWindow}. */
export interface TaskWindowOptions {
  /**
   * The most tasks in flight at once.
   *
   * @default {32}
   */
  limit?: number | undefined;
}

/** How many requests a transfer of many files keeps in flight by default. */
export const DEFAULT_WINDOW = 32;

/**
 * Runs tasks with at most `limit` in flight.
 *
 * @example
 * ```ts
 * import { TaskWindow } from "./window.ts";
 * import { equal } from "node:assert/strict";
 *
 * const window = new TaskWindow({ limit: 2 });
 * let most = 0, now = 0;
 * for (let i = 0; i < 5; i++) {
 *   await window.add(async () => {
 *     most = Math.max(most, ++now);
 *     await new Promise((r) => setTimeout(r, 1));
 *     now--;
 *   });
 * }
 * await window.drain();
 * equal(most, 2);
 * ```
 */
export class TaskWindow {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  /** Callers of `add` waiting for room, woken one per task that ends. */
  readonly #waiting: (() => void)[] = [];
  #failure: { error: unknown } | undefined;

  /** @param options The limit. */
  constructor(options: TaskWindowOptions = {}) {
    this.#limit = Math.max(1, options.limit ?? DEFAULT_WINDOW);
  }

  /**
   * Starts `task` once there is room; returns when it has started.
   *
   * @param task The task.
   * @throws The first failure, once there is one: no task starts after it.
   */
  async add(task: () => Promise<void>): Promise<void> {
    // A queue, not Promise.race over the tasks in flight: a race adds a reaction to each of
    // them every time, which a long tree (thousands of files) pays for in time and memory.
    while (this.#running.size >= this.#limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (this.#failure) throw this.#failure.error;
    const running: Promise<void> = task().catch((error) => {
      this.#failure ??= { error };
    }).finally(() => {
      this.#running.delete(running);
      this.#waiting.shift()?.();
    });
    this.#running.add(running);
  }

  /**
   * Waits for every task in flight.
   *
   * @throws The first failure, if any.
   */
  async drain(): Promise<void> {
    await this.settle();
    if (this.#failure) throw this.#failure.error;
  }

  /** Waits for every task in flight, whatever becomes of them (after a failure elsewhere). */
  async settle(): Promise<void> {
    // The tasks' promises never reject (failures are kept apart): wait for them all at once.
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}
