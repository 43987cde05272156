/**
 * The one inactivity watchdog of every connection: the client's stall
 * timeout, the server's idle timeout, `http-get`'s timeout and the echo
 * load's round-trip limit. It fires once when nothing has happened for its
 * limit: no byte moved either way (`touch`), and, when it counts only
 * waits, no wait has lasted that long (`begin`/`end` around each one).
 *
 * One timer per watchdog, rescheduled lazily (when it fires early, it
 * sleeps again for what is left), not one per read or write: a busy
 * connection costs no timer work per byte.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../framing/types.ts";

/** The longest delay `setTimeout` takes as is; a longer wait is rescheduled. */
const MAX_TIMER_MS = 2147483647;

/** Options for {@linkcode Watchdog}. */
export interface WatchdogOptions {
  /**
   * Count time only while a wait is pending (between `begin` and `end`):
   * a connection whose owner is busy elsewhere between reads is not idle.
   * Otherwise time counts from `start` on.
   *
   * @default {false}
   */
  whilePending?: boolean;
}

/**
 * Fires `onExpire` once when nothing has happened for `ms` milliseconds.
 *
 * @example
 * ```ts
 * import { Watchdog } from "./watchdog.ts";
 * import { equal } from "node:assert/strict";
 *
 * const { promise, resolve } = Promise.withResolvers<void>();
 * const dog = new Watchdog(20, () => resolve());
 * dog.start();
 * await promise;
 * equal(dog.expired, true);
 * ```
 */
export class Watchdog {
  /** The limit, in milliseconds; 0 never fires. */
  readonly ms: number;
  #onExpire: () => void;
  #whilePending: boolean;
  #pending = 0;
  #since = 0;
  #id: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #expired = false;

  /**
   * @param ms The limit in milliseconds; 0 disables the watchdog.
   * @param onExpire Called once, when the limit passes (close the connection there).
   * @param options Whether only pending waits count.
   */
  constructor(ms: number, onExpire: () => void, options: WatchdogOptions = {}) {
    this.ms = ms;
    this.#onExpire = onExpire;
    this.#whilePending = options.whilePending ?? false;
  }

  /** Whether it has fired. */
  get expired(): boolean {
    return this.#expired;
  }

  /** Starts (or restarts) watching, from now. */
  start(): void {
    this.#running = true;
    this.touch();
  }

  /** Marks activity: the limit counts again from now. */
  touch(): void {
    this.#since = performance.now();
    this.#arm();
  }

  /** A wait begins (a connect, a read, a write): it counts from now. */
  begin(): void {
    this.#pending++;
    this.touch();
  }

  /** The wait that began last ends. */
  end(): void {
    this.#pending--;
    this.#since = performance.now();
  }

  /** Stops watching; `start` watches again. */
  stop(): void {
    this.#running = false;
    if (this.#id !== undefined) clearTimeout(this.#id);
    this.#id = undefined;
  }

  /**
   * The connection, with every read and write marking activity.
   *
   * @param conn The connection.
   * @returns A reader and writer over it.
   */
  watch(conn: ByteReader & ByteWriter): ByteReader & ByteWriter {
    return {
      read: async (p) => {
        const n = await conn.read(p);
        this.touch();
        return n;
      },
      write: async (p) => {
        const n = await conn.write(p);
        this.touch();
        return n;
      },
    };
  }

  #counting(): boolean {
    return this.#running && !this.#expired && (!this.#whilePending || this.#pending > 0);
  }

  #arm(): void {
    if (this.ms > 0 && this.#id === undefined && this.#counting()) this.#schedule(this.ms);
  }

  #schedule(delay: number): void {
    this.#id = setTimeout(() => {
      this.#id = undefined;
      if (!this.#counting()) return;
      const idle = performance.now() - this.#since;
      if (idle >= this.ms) {
        this.#expired = true;
        this.#running = false;
        this.#onExpire();
      } else {
        this.#schedule(this.ms - idle);
      }
    }, Math.min(Math.max(delay, 1), MAX_TIMER_MS));
  }
}
