/**
 * The next turn of the event loop, without a timer: {@linkcode afterTurn}
 * runs a function once the work queued now (every promise settled so far,
 * and what it starts) has run. Node's `setImmediate`: about 4.5 us a turn
 * here, where `setTimeout(0)` waits a millisecond or two and a message to
 * a channel of its own took 28 us (5,000 STATs one at a time, two
 * interleaved runs of the bench's part: 6,898 and 6,794 a second with an
 * immediate before each request's write, 6,089 and 6,268 with a message).
 * Its import costs no start-up of its own: Deno's `setTimeout`
 * sets up the same Node timers at its first use (an empty script 14-16 ms;
 * one that calls `setTimeout` 20-22, with `node:timers` imported too the
 * same), which every session does.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/**
 * Runs `run` in a later turn of the event loop, after what is queued now.
 *
 * @param run What to run.
 *
 * @example
 * ```ts
 * import { afterTurn } from "./event_turn.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const seen: string[] = [];
 * await new Promise<void>((done) => {
 *   afterTurn(() => {
 *     seen.push("turn");
 *     done();
 *   });
 *   queueMicrotask(() => seen.push("microtask"));
 * });
 * deepEqual(seen, ["microtask", "turn"]);
 * ```
 */
export function afterTurn(run: () => void): void {
  setImmediate(run);
}

/**
 * Resolves in a later turn of the event loop ({@linkcode afterTurn}).
 *
 * @returns Once the turn has come.
 *
 * @example
 * ```ts
 * import { nextTurn } from "./event_turn.ts";
 *
 * await nextTurn();
 * ```
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
