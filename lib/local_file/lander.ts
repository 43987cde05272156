/**
 * A landing thread for a tree of small files: creating a file is the
 * kernel's slowest step of a small download (on ext4 here about 200 us a
 * file once recently freed inodes are about, as after `rm -rf` of an
 * earlier copy), and on the session's thread it adds to the protocol's own
 * work. A {@linkcode Lander} hands each verified body to a Web Worker that
 * creates the temporary, writes it, gives it its attributes and renames it
 * into place (`atomic_file.ts`), so both run at once on two cores.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { LocalIoError } from "../errors.ts";

/** How many bodies go to the thread in one message at most. */
const BATCH = 16;

/** The fewest small files of a download that start a thread ({@linkcode Lander.startFor}). */
const LANDER_FROM = 200;

/** A body to land: its final path, its bytes, and what `-p` keeps. */
export interface LandRequest {
  /** The final path. */
  path: string;
  /** The whole verified body. */
  data: Uint8Array;
  /** Nothing is at `path` (a listing just said so): the look for a replaced file's mode is skipped. */
  absent: boolean;
  /** The modification time to give it (ms since the epoch), or `null`. */
  mtime: number | null;
  /** The permission bits to give it, or `null` (a replaced file's stay). */
  mode: number | null;
}

/** A request as the thread receives it. */
export interface LandMessage extends LandRequest {
  /** Which request. */
  id: number;
}

/** The thread's answer. */
export interface LandAnswer {
  /** Which request. */
  id: number;
  /** The one-line error, when it did not land. */
  error?: string;
}

/**
 * A thread that lands small files (see the module doc). Close it when the
 * tree is done; requests still pending are then refused.
 *
 * @example
 * ```ts
 * import { Lander } from "./lander.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using lander = new Lander();
 * await lander.land({ path: `${dir}/a.txt`, data: new TextEncoder().encode("hi"), absent: true, mtime: null, mode: null });
 * deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Lander implements Disposable {
  /** The largest body sent to the thread; a larger one is written where it arrives. */
  static readonly MAX_BODY = 256 << 10;
  #worker = new Worker(new URL("./lander_worker.ts", import.meta.url).href, {
    type: "module",
    name: "bftp-lander",
  });
  #next = 0;
  #pending = new Map<number, PromiseWithResolvers<void>>();
  #queue: LandMessage[] = [];
  #flushing = false;

  /**
   * A lander for a download of `files`, when enough of them are small for
   * the thread to pay (starting one costs about 35 ms of the session's
   * thread); `undefined` otherwise.
   *
   * @param files The files to come, with their listed sizes.
   * @param from The fewest small files that start a thread.
   * @returns The lander, or `undefined`.
   */
  static startFor(files: readonly { size: number }[], from = LANDER_FROM): Lander | undefined {
    let small = 0;
    for (const f of files) if (f.size <= Lander.MAX_BODY && ++small >= from) return new Lander();
    return undefined;
  }

  constructor() {
    this.#worker.onmessage = (e: MessageEvent<LandAnswer[]>) => {
      for (const answer of e.data) {
        const waiting = this.#pending.get(answer.id);
        this.#pending.delete(answer.id);
        if (answer.error === undefined) waiting?.resolve();
        else waiting?.reject(new LocalIoError(answer.error));
      }
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(`The landing thread failed: ${e.message}`);
    };
  }

  /**
   * Lands a verified body as a new file at `request.path`, atomically.
   *
   * @param request What to land.
   * @throws {LocalIoError} When it cannot be written.
   */
  land(request: LandRequest): Promise<void> {
    const id = this.#next++;
    const waiting = Promise.withResolvers<void>();
    this.#pending.set(id, waiting);
    this.#queue.push({ id, ...request });
    // What this turn of the event loop lands goes in one message (an immediate, not a timer:
    // setTimeout(0) waits about a millisecond here).
    if (this.#queue.length >= BATCH) this.#flush();
    else if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => this.#flush());
    }
    return waiting.promise;
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#worker.postMessage(batch, batch.map((m) => m.data.buffer as ArrayBuffer));
  }

  /** Stops the thread; what is still pending is refused. */
  [Symbol.dispose](): void {
    this.#queue = [];
    this.#worker.terminate();
    this.#fail("The landing thread was stopped");
  }

  #fail(message: string): void {
    for (const waiting of this.#pending.values()) waiting.reject(new LocalIoError(message));
    this.#pending.clear();
  }
}
