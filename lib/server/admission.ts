/**
 * Who may open a session: at most so many sessions over the whole server,
 * and so many from one client address. One server counts in a map; the
 * workers of a pool count together in a `SharedArrayBuffer`, where client
 * addresses are counted in hashed slots.
 *
 * @module
 */

/** Why a connection is refused, or `"ok"`. */
export type AdmissionResult = "ok" | "full" | "client-full";

/** A connection counter that enforces the limits. */
export interface Admission {
  /**
   * Takes a place for a new session.
   *
   * @param host The client's address (see `clientHost`).
   * @returns `"ok"`, or which limit is reached.
   */
  tryAcquire(host: string): AdmissionResult;
  /**
   * Gives a place back when a session ends.
   *
   * @param host The same address as given to `tryAcquire`.
   */
  release(host: string): void;
}

/** The limits an {@linkcode Admission} enforces. */
export interface AdmissionLimits {
  /** Sessions at once, overall. */
  maxConnections: number;
  /** Sessions at once from one address; 0: no limit. */
  maxPerClient: number;
}

/**
 * The admission of a single server: exact counts in memory.
 *
 * @param limits The limits.
 * @returns The admission.
 *
 * @example
 * ```ts
 * import { localAdmission } from "./admission.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const a = localAdmission({ maxConnections: 2, maxPerClient: 1 });
 * deepEqual(a.tryAcquire("10.0.0.1"), "ok");
 * deepEqual(a.tryAcquire("10.0.0.1"), "client-full");
 * deepEqual(a.tryAcquire("10.0.0.2"), "ok");
 * a.release("10.0.0.1");
 * deepEqual(a.tryAcquire("10.0.0.1"), "ok");
 * deepEqual(a.tryAcquire("10.0.0.3"), "full");
 * ```
 */
export function localAdmission(limits: AdmissionLimits): Admission {
  let total = 0;
  const perHost = new Map<string, number>();
  return {
    tryAcquire(host) {
      if (total >= limits.maxConnections) return "full";
      const mine = perHost.get(host) ?? 0;
      if (limits.maxPerClient > 0 && mine >= limits.maxPerClient) return "client-full";
      total++;
      perHost.set(host, mine + 1);
      return "ok";
    },
    release(host) {
      total--;
      const mine = (perHost.get(host) ?? 1) - 1;
      if (mine <= 0) perHost.delete(host);
      else perHost.set(host, mine);
    },
  };
}

/** Client addresses are counted in this many hashed slots in a pool. */
export const HOST_SLOTS = 16384;

/**
 * The size of the shared counters for a pool of `workers`: the total, one
 * count per worker, the pool's host slots, and each worker's own host
 * slots (so a dead worker's places can be given back).
 *
 * @param workers How many workers.
 * @returns Bytes for the `SharedArrayBuffer`.
 *
 * @example
 * ```ts
 * import { sharedAdmissionBytes } from "./admission.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(sharedAdmissionBytes(2) > 0);
 * ```
 */
export function sharedAdmissionBytes(workers: number): number {
  return Int32Array.BYTES_PER_ELEMENT * (1 + workers + HOST_SLOTS * (1 + workers));
}

/** FNV-1a of the address, folded into a slot. */
function hostSlot(host: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < host.length; i++) {
    h ^= host.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % HOST_SLOTS;
}

/** The layout of the shared counters. */
function layout(counts: Int32Array, workers: number) {
  const pool = 1 + workers;
  return {
    total: 0,
    worker: (w: number) => 1 + w,
    poolSlot: (s: number) => pool + s,
    workerSlot: (w: number, s: number) => pool + HOST_SLOTS * (1 + w) + s,
    counts,
  };
}

/**
 * One worker's view of a pool's shared admission. Two addresses that hash
 * to the same slot share one per-client count (rare with 16,384 slots).
 *
 * @param counters The pool's buffer ({@linkcode sharedAdmissionBytes}).
 * @param workers How many workers share it.
 * @param index This worker's index.
 * @param limits The limits.
 * @returns The admission.
 *
 * @example
 * ```ts
 * import { sharedAdmission, sharedAdmissionBytes } from "./admission.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const buf = new SharedArrayBuffer(sharedAdmissionBytes(2));
 * const a = sharedAdmission(buf, 2, 0, { maxConnections: 10, maxPerClient: 1 });
 * const b = sharedAdmission(buf, 2, 1, { maxConnections: 10, maxPerClient: 1 });
 * deepEqual(a.tryAcquire("::1"), "ok");
 * deepEqual(b.tryAcquire("::1"), "client-full");
 * ```
 */
export function sharedAdmission(
  counters: SharedArrayBuffer,
  workers: number,
  index: number,
  limits: AdmissionLimits,
): Admission {
  const at = layout(new Int32Array(counters), workers);
  const c = at.counts;
  return {
    tryAcquire(host) {
      if (Atomics.add(c, at.total, 1) >= limits.maxConnections) {
        Atomics.sub(c, at.total, 1);
        return "full";
      }
      const slot = hostSlot(host);
      if (
        limits.maxPerClient > 0 && Atomics.add(c, at.poolSlot(slot), 1) >= limits.maxPerClient
      ) {
        Atomics.sub(c, at.poolSlot(slot), 1);
        Atomics.sub(c, at.total, 1);
        return "client-full";
      }
      if (limits.maxPerClient <= 0) Atomics.add(c, at.poolSlot(slot), 1);
      Atomics.add(c, at.workerSlot(index, slot), 1);
      Atomics.add(c, at.worker(index), 1);
      return "ok";
    },
    release(host) {
      const slot = hostSlot(host);
      Atomics.sub(c, at.workerSlot(index, slot), 1);
      Atomics.sub(c, at.poolSlot(slot), 1);
      Atomics.sub(c, at.worker(index), 1);
      Atomics.sub(c, at.total, 1);
    },
  };
}

/**
 * Gives back every place a dead worker held, so its sessions (gone with
 * it) no longer count.
 *
 * @param counters The pool's buffer.
 * @param workers How many workers share it.
 * @param index The dead worker.
 *
 * @example
 * ```ts
 * import { releaseWorker, sharedAdmission, sharedAdmissionBytes, sharedSessions } from "./admission.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const buf = new SharedArrayBuffer(sharedAdmissionBytes(1));
 * sharedAdmission(buf, 1, 0, { maxConnections: 5, maxPerClient: 5 }).tryAcquire("h");
 * releaseWorker(buf, 1, 0);
 * deepEqual(sharedSessions(buf), 0);
 * ```
 */
export function releaseWorker(counters: SharedArrayBuffer, workers: number, index: number): void {
  const at = layout(new Int32Array(counters), workers);
  const c = at.counts;
  for (let s = 0; s < HOST_SLOTS; s++) {
    const n = Atomics.exchange(c, at.workerSlot(index, s), 0);
    if (n !== 0) Atomics.sub(c, at.poolSlot(s), n);
  }
  Atomics.sub(c, at.total, Atomics.exchange(c, at.worker(index), 0));
}

/**
 * Sessions open over the whole pool.
 *
 * @param counters The pool's buffer.
 * @returns The count.
 *
 * @example
 * ```ts
 * import { sharedAdmissionBytes, sharedSessions } from "./admission.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(sharedSessions(new SharedArrayBuffer(sharedAdmissionBytes(1))), 0);
 * ```
 */
export function sharedSessions(counters: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(counters), 0);
}
