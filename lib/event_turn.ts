/**
 * The next turn of the event loop, without a timer: {@linkcode afterTurn}
 * runs a function once the work queued now (every promise settled so far,
 * and what it starts) has run, as Node's `setImmediate` does, but without
 * `node:timers`, whose import makes Deno set up its Node layer (about 9 ms
 * of each command's start-up here; `local_path.ts`). A message to a
 * channel of its own, closed once it arrives, so nothing keeps the process
 * up: about 28 us a turn here (`setImmediate` 4.5; `setTimeout(0)` waits a
 * millisecond or two), and a tree's transfer takes 30 to 160 of them.
 *
 * @module
 */

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
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    run();
  };
  port2.postMessage(null);
  port2.close();
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
  return new Promise((resolve) => afterTurn(resolve));
}
