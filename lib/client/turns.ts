/**
 * Turns in call order: a first-come, first-served lock. A pipelined session
 * takes a turn to send and a turn to read for each request, both at the
 * moment the request is made, so that replies are read in the order the
 * requests went out.
 *
 * @module
 */

/** Ends a turn: the next one in line starts. */
export type Release = () => void;

/**
 * A queue of turns, granted in the order they were taken.
 *
 * @example
 * ```ts
 * import { Turns } from "./turns.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const turns = new Turns();
 * const order: number[] = [];
 * const first = turns.take();
 * const second = turns.take();
 * const done = second.then((release) => { order.push(2); release(); });
 * (await first)();
 * order.push(1);
 * await done;
 * deepEqual(order, [1, 2]);
 * ```
 */
export class Turns {
  #tail: Promise<void> = Promise.resolve();

  /**
   * Takes the next turn in line, at once; the promise settles when it starts.
   *
   * @returns A promise of the function that ends the turn (call it exactly once).
   */
  take(): Promise<Release> {
    let release!: Release;
    const ended = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = this.#tail.then(() => release);
    this.#tail = ended;
    return started;
  }
}
