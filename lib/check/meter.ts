/**
 * The cost of one transfer of a check: wall time, the CPU time of the client
 * (this process) and of the server when its process can be read, and the
 * resident memory of both, after the transfer and at its peak.
 *
 * @module
 */

import { collectGarbage, type ProcessSample, sampleSelf } from "./process_sample.ts";
import type { CpuSeconds, IterationRecord } from "./types.ts";

/** What a {@linkcode TransferMeter} measured over one transfer. */
export type Measurement = Pick<
  IterationRecord,
  | "seconds"
  | "clientCpu"
  | "serverCpu"
  | "clientRss"
  | "clientRssPeak"
  | "serverRss"
  | "serverRssPeak"
>;

/** Options for {@linkcode TransferMeter}. */
export interface TransferMeterOptions {
  /** Reads the server's process, or gives `null` when it cannot be read. */
  sampleServer: () => ProcessSample | null;
  /**
   * Milliseconds between memory samples during a transfer (for the peaks).
   *
   * @default {25}
   */
  intervalMs?: number;
  /**
   * Run a full garbage collection in this process at the end of a transfer,
   * before its resident memory is read (live data only).
   *
   * @default {true}
   */
  collectGarbage?: boolean;
}

function cpuDelta(a: ProcessSample | null, b: ProcessSample | null): CpuSeconds | null {
  if (a === null || b === null) return null;
  return {
    user: Math.max(0, b.userSeconds - a.userSeconds),
    system: Math.max(0, b.systemSeconds - a.systemSeconds),
  };
}

/**
 * Samples the client and the server over one transfer at a time: CPU
 * deltas between {@linkcode TransferMeter.start} and
 * {@linkcode TransferMeter.stop}, memory peaks from
 * {@linkcode TransferMeter.tick} (called per chunk).
 *
 * @example
 * ```ts
 * import { TransferMeter } from "./meter.ts";
 * import { ok } from "node:assert/strict";
 *
 * const meter = new TransferMeter({ sampleServer: () => null, collectGarbage: false });
 * meter.start();
 * meter.tick();
 * const m = meter.stop();
 * ok(m.seconds >= 0 && m.clientRss > 0 && m.serverCpu === null);
 * ```
 */
export class TransferMeter {
  #sampleServer: () => ProcessSample | null;
  #interval: number;
  #collect: boolean;
  #last = 0;
  #client!: ProcessSample;
  #server!: ProcessSample | null;
  #started = 0;
  #clientPeak = 0;
  #serverPeak: number | null = null;
  #running = false;

  /** @param options How to read the server, how often, and whether to collect garbage. */
  constructor(options: TransferMeterOptions) {
    this.#sampleServer = options.sampleServer;
    this.#interval = options.intervalMs ?? 25;
    this.#collect = options.collectGarbage ?? true;
  }

  /** Whether a transfer is being measured (between start and stop). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Reads both processes now, outside any transfer.
   *
   * @returns This process, and the server's (`null` when it cannot be read).
   */
  sampleNow(): { client: ProcessSample; server: ProcessSample | null } {
    const client = sampleSelf();
    return { client, server: this.#sampleServer() };
  }

  /** Starts measuring a transfer. */
  start(): void {
    this.#server = this.#sampleServer();
    this.#client = sampleSelf();
    this.#clientPeak = this.#client.rssBytes;
    this.#serverPeak = this.#server?.rssBytes ?? null;
    this.#last = performance.now();
    this.#started = this.#last;
    this.#running = true;
  }

  /** Called per chunk; samples memory at most once per interval. */
  tick = (): void => {
    const now = performance.now();
    if (now - this.#last < this.#interval) return;
    this.#last = now;
    this.#clientPeak = Math.max(this.#clientPeak, Deno.memoryUsage().rss);
    const s = this.#sampleServer();
    if (s !== null && this.#serverPeak !== null) {
      this.#serverPeak = Math.max(this.#serverPeak, s.rssBytes);
    }
  };

  /**
   * Ends the transfer's measurement.
   *
   * @returns Its wall time, CPU times and memory.
   */
  stop(): Measurement {
    this.#running = false;
    const seconds = (performance.now() - this.#started) / 1000;
    const server = this.#sampleServer();
    const atEnd = sampleSelf();
    this.#clientPeak = Math.max(this.#clientPeak, atEnd.rssBytes);
    // CPU is taken before the collection, memory after it: live data only.
    const client = this.#collect && collectGarbage()
      ? { ...atEnd, rssBytes: Deno.memoryUsage().rss }
      : atEnd;
    if (server !== null && this.#serverPeak !== null) {
      this.#serverPeak = Math.max(this.#serverPeak, server.rssBytes);
    }
    return {
      seconds,
      clientCpu: cpuDelta(this.#client, atEnd)!,
      serverCpu: cpuDelta(this.#server, server),
      clientRss: client.rssBytes,
      clientRssPeak: this.#clientPeak,
      serverRss: server?.rssBytes ?? null,
      serverRssPeak: server === null ? null : this.#serverPeak,
    };
  }
}
