/**
 * Per-source penalties for token guessing, as sshd's `PerSourcePenalties`
 * and fail2ban do: an address that sends too many wrong tokens is refused
 * for a time that doubles at each new offence. Only that address: the
 * table is keyed by address, bounded, and its entries expire.
 *
 * @module
 */

/** Options for {@linkcode SourcePenalties}. */
export interface SourcePenaltiesOptions {
  /**
   * Wrong tokens from one address before it is refused.
   *
   * @default {6}
   */
  strikes?: number;
  /**
   * The first refusal, in milliseconds; each later one doubles it.
   *
   * @default {30000}
   */
  firstMs?: number;
  /**
   * The longest refusal, in milliseconds.
   *
   * @default {600000}
   */
  maxMs?: number;
  /**
   * Addresses remembered at once; the oldest is forgotten first.
   *
   * @default {4096}
   */
  maxEntries?: number;
  /** The clock (tests). */
  now?: () => number;
}

interface Entry {
  strikes: number;
  offences: number;
  until: number;
  seen: number;
}

/**
 * Wrong tokens counted by client address.
 *
 * @example
 * ```ts
 * import { SourcePenalties } from "./penalties.ts";
 * import { deepEqual, ok } from "node:assert/strict";
 *
 * const p = new SourcePenalties({ strikes: 2, firstMs: 1000 });
 * p.strike("10.0.0.1");
 * deepEqual(p.refusedFor("10.0.0.1"), 0);
 * p.strike("10.0.0.1");
 * ok(p.refusedFor("10.0.0.1") > 0);
 * deepEqual(p.refusedFor("10.0.0.2"), 0);
 * ```
 */
export class SourcePenalties {
  #entries = new Map<string, Entry>();
  #strikes: number;
  #firstMs: number;
  #maxMs: number;
  #maxEntries: number;
  #now: () => number;

  /** @param options The thresholds. */
  constructor(options: SourcePenaltiesOptions = {}) {
    this.#strikes = options.strikes ?? 6;
    this.#firstMs = options.firstMs ?? 30_000;
    this.#maxMs = options.maxMs ?? 600_000;
    this.#maxEntries = options.maxEntries ?? 4096;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Counts a wrong token from `host`; at the threshold, refuses it.
   *
   * @param host The client's address.
   */
  strike(host: string): void {
    const now = this.#now();
    const entry = this.#entries.get(host) ?? { strikes: 0, offences: 0, until: 0, seen: now };
    this.#entries.delete(host); // re-inserted last: the map's order is the age
    entry.strikes++;
    entry.seen = now;
    if (entry.strikes >= this.#strikes) {
      entry.strikes = 0;
      entry.until = now + Math.min(this.#maxMs, this.#firstMs * 2 ** entry.offences);
      entry.offences++;
    }
    this.#entries.set(host, entry);
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /**
   * How long `host` is still refused.
   *
   * @param host The client's address.
   * @returns Milliseconds left, 0 when it is not refused.
   */
  refusedFor(host: string): number {
    const entry = this.#entries.get(host);
    if (entry === undefined) return 0;
    const now = this.#now();
    // Forgotten once its refusal and a quiet spell as long as the longest one are over.
    if (entry.until <= now && now - entry.seen > this.#maxMs) {
      this.#entries.delete(host);
      return 0;
    }
    return Math.max(0, entry.until - now);
  }
}
