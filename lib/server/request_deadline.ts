/**
 * The deadline for a whole hello line or request frame, counted from the
 * first byte of it that the session reads: a client that drips a request
 * slower than that (a "slowloris") is dropped, even though each byte resets
 * the idle timeout.
 *
 * @module
 */

/**
 * A deadline that runs while a request is awaited, from its first byte.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { RequestDeadline } from "./request_deadline.ts";
 *
 * const dropped: string[] = [];
 * const deadline = new RequestDeadline(5, (why) => dropped.push(why));
 * const n = await deadline.during(() => {
 *   deadline.sawBytes(3); // the first byte of the request starts the 5 seconds
 *   return Promise.resolve(3);
 * });
 * // The request was complete in time: the deadline is cleared.
 * equal(n, 3);
 * equal(dropped.length, 0);
 * ```
 */
export class RequestDeadline {
  readonly #ms: number;
  readonly #onExpire: (why: string) => void;
  /** Set while the session waits for a hello or a request. */
  #awaiting = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param seconds The time allowed for a whole request; 0 disables the deadline.
   * @param onExpire Told, with the reason for the log, when a request is not complete in time.
   */
  constructor(seconds: number, onExpire: (why: string) => void) {
    this.#ms = seconds * 1000;
    this.#onExpire = onExpire;
  }

  /** Told of each read from the stream: the first bytes read while a request is awaited start the deadline. */
  sawBytes(n: number | null): void {
    const ms = this.#ms;
    if (this.#awaiting && this.#timer === undefined && ms > 0 && n !== null && n > 0) {
      this.#timer = setTimeout(
        () => this.#onExpire(`request not complete ${ms / 1000}s after its first byte`),
        ms,
      );
    }
  }

  /** Runs one read of a hello or a request under the deadline. */
  async during<T>(read: () => Promise<T>): Promise<T> {
    this.#awaiting = true;
    try {
      return await read();
    } finally {
      this.#awaiting = false;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
