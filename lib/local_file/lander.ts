/**
 * A landing thread for a tree of small files: creating a file is the
 * kernel's slowest step of a small download (on ext4 here about 200 us a
 * file once recently freed inodes are about, as after `rm -rf` of an
 * earlier copy), and on the session's thread it adds to the protocol's own
 * work. A {@linkcode Lander} hands each verified body to a Web Worker that
 * creates the temporary, writes it, gives it its attributes and renames it
 * into place (`atomic_file.ts`), so both run at once on two cores. Where
 * creating a file is quick (a quiet disk: 12-32 us), the thread costs more
 * than it saves, so a tree's lander starts it only once the first creates
 * on the session's thread have proved slow ({@linkcode Lander.observeCreate}).
 *
 * @module
 */

import { afterTurn } from "../event_turn.ts";
import { LocalIoError } from "../errors.ts";
import type { LocalTree, SharedTree } from "./local_tree.ts";

/** How many bodies go to the thread in one message at most. */
const BATCH = 16;

/**
 * The most bytes of bodies on their way to the thread (sent, not yet
 * landed) before {@linkcode Lander.room} asks the session to wait: when
 * creating files is slow, bodies arrive faster than they land. A 5,000-file
 * `get -r` with the thread's links slowed to 400 us each (strace's
 * `inject`) peaked at 145 MB with no bound, 135 with 8 MiB, 111-113 with 2
 * MiB (105 MB when the thread keeps up); a bench copy that took 3.2 s on a
 * slow disk peaked at 140 MB.
 */
export const LANDER_PENDING_BYTES = 2 << 20;

/** The fewest small files of a download that start a thread ({@linkcode Lander.startFor}). */
const LANDER_FROM = 200;

/**
 * `BFTP_LANDER` decides for {@linkcode Lander.startFor} instead of the
 * probe: `thread` (always the thread) or `here` (never), for tests and
 * measurements; unset or anything else, the probe decides.
 */
function landerChoice(): "thread" | "here" | "probe" {
  let value: string | undefined;
  try {
    value = Deno.env.get("BFTP_LANDER");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable)) throw e;
  }
  return value === "thread" || value === "here" ? value : "probe";
}

/** How many creates on the session's thread a probing lander times before it decides. */
export const PROBE_CREATES = 32;

/** The median create (ms) above which a probing lander starts its thread. */
export const SLOW_CREATE_MS = 0.1;

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
  /** The server's bits, for a file that replaces none (less the umask). */
  newMode?: number | null | undefined;
}

/** A request as the thread receives it. */
export interface LandMessage extends LandRequest {
  /** Which request. */
  id: number;
  /** The tree `path` is in (held by the session's thread), if any. */
  tree?: SharedTree | undefined;
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
  #worker: Worker | undefined;
  /** Creates timed on the session's thread before deciding (`startFor`'s lander), or `null` once decided. */
  #probe: number[] | null = null;
  #next = 0;
  #pending = new Map<number, { waiting: PromiseWithResolvers<void>; bytes: number }>();
  /** The bytes of the bodies in `#pending`. */
  #pendingBytes = 0;
  #bound: number;
  /** Resolved once `#pendingBytes` falls to half the bound ({@linkcode Lander.room}). */
  #room: PromiseWithResolvers<void> | undefined;
  #queue: LandMessage[] = [];
  #flushing = false;
  #tree: SharedTree | undefined;

  /**
   * A lander for a download of `files`, when enough of them are small for
   * the thread to pay (starting one costs about 35 ms of the session's
   * thread); `undefined` otherwise. It probes: its thread starts only if
   * the first creates prove slow ({@linkcode Lander.observeCreate}).
   *
   * @param files The files to come, with their listed sizes.
   * @param from The fewest small files that may start a thread.
   * @returns The lander (`BFTP_LANDER=thread`: its thread started), or `undefined` (also with `BFTP_LANDER=here`).
   */
  static startFor(
    files: readonly { size: number }[],
    tree?: LocalTree,
    from = LANDER_FROM,
  ): Lander | undefined {
    const choice = landerChoice();
    if (choice === "here") return undefined;
    let small = 0;
    for (const f of files) {
      if (f.size <= Lander.MAX_BODY && ++small >= from) {
        return new Lander({ probe: choice !== "thread", tree });
      }
    }
    return undefined;
  }

  /**
   * @param options With `probe`, the thread starts only once creating files
   * here has proved slow ({@linkcode Lander.observeCreate}); until then
   * {@linkcode Lander.threaded} is false and bodies are written where they
   * arrive. With `tree`, every path is below its top, reached as the tree
   * reaches it (the tree stays open until the lander is disposed).
   */
  constructor(
    options: { probe?: boolean; pendingBytes?: number; tree?: LocalTree | undefined } = {},
  ) {
    this.#bound = options.pendingBytes ?? LANDER_PENDING_BYTES;
    this.#tree = options.tree?.share();
    if (options.probe) this.#probe = [];
    else this.#start();
  }

  /**
   * When the bodies on their way to the thread have passed the bound
   * ({@linkcode LANDER_PENDING_BYTES}), a promise that resolves once half of
   * them have landed (or failed); otherwise `undefined`: go on at once.
   *
   * @returns The wait, if any.
   */
  room(): Promise<void> | undefined {
    if (this.#pendingBytes <= this.#bound) return undefined;
    this.#room ??= Promise.withResolvers<void>();
    return this.#room.promise;
  }

  /** Forgets request `id` (landed, failed or refused); `room`'s wait ends below half the bound. */
  #settle(id: number): PromiseWithResolvers<void> | undefined {
    const entry = this.#pending.get(id);
    if (entry === undefined) return undefined;
    this.#pending.delete(id);
    this.#pendingBytes -= entry.bytes;
    if (this.#room !== undefined && this.#pendingBytes <= this.#bound / 2) {
      this.#room.resolve();
      this.#room = undefined;
    }
    return entry.waiting;
  }

  /** Whether bodies go to the thread now (else the caller writes them itself and reports its creates). */
  get threaded(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Reports how long creating a temporary file took on the session's
   * thread. After {@linkcode PROBE_CREATES} of them, a median above
   * {@linkcode SLOW_CREATE_MS} starts the thread: on ext4 soon after many
   * files were deleted a create costs 150-250 us here, and the thread
   * saved 0.4-0.5 s of a 5,000-file `get -r` (2.1 -> 1.6-1.7 s); on a quiet
   * disk one costs 12-32 us, and the thread cost 0.15 s more CPU than it
   * saved (0.85-1.03 s without it, 0.96-1.15 s with it).
   *
   * @param ms The create's time.
   */
  observeCreate(ms: number): void {
    if (this.#probe === null) return;
    this.#probe.push(ms);
    if (this.#probe.length < PROBE_CREATES) return;
    const sorted = this.#probe.sort((a, b) => a - b);
    this.#probe = null;
    if (sorted[sorted.length >> 1]! > SLOW_CREATE_MS) this.#start();
  }

  #start(): void {
    this.#worker = new Worker(new URL("./lander_worker.ts", import.meta.url).href, {
      type: "module",
      name: "bftp-lander",
    });
    this.#worker.onmessage = (e: MessageEvent<LandAnswer[]>) => {
      for (const answer of e.data) {
        const waiting = this.#settle(answer.id);
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
    if (this.#worker === undefined) {
      return Promise.reject(new Error("The landing thread has not started (see Lander.threaded)"));
    }
    const id = this.#next++;
    const waiting = Promise.withResolvers<void>();
    const { data } = request;
    this.#pending.set(id, { waiting, bytes: data.byteLength });
    this.#pendingBytes += data.byteLength;
    // Transferred to the thread: a piece of a larger buffer (a slab's) is copied out first.
    const own = data.byteLength === data.buffer.byteLength ? data : data.slice();
    this.#queue.push({ id, ...request, data: own, tree: this.#tree });
    // What this turn of the event loop lands goes in one message (the next turn, not a timer:
    // setTimeout(0) waits about a millisecond here).
    if (this.#queue.length >= BATCH) this.#flush();
    else if (!this.#flushing) {
      this.#flushing = true;
      afterTurn(() => this.#flush());
    }
    return waiting.promise;
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#worker!.postMessage(batch, batch.map((m) => m.data.buffer as ArrayBuffer));
  }

  /** Stops the thread; what is still pending is refused. */
  [Symbol.dispose](): void {
    this.#queue = [];
    this.#worker?.terminate();
    this.#fail("The landing thread was stopped");
  }

  #fail(message: string): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id)?.reject(new LocalIoError(message));
  }
}
