/**
 * The echo load generator: opens many connections at once, makes every one
 * do a number of round trips of random bytes, checks each reply byte for
 * byte, and measures round trips per second and latency percentiles.
 *
 * @module
 */

import { ConnectionError, IntegrityError, TimeoutError } from "../errors.ts";
import { connectEcho, connectionError, exchange } from "./client.ts";
import type { ClientTlsOptions, TransportConn } from "../transport/types.ts";
import { connectionBudget } from "./file_limit.ts";
import { formatHostPort, type HostPort } from "../transport/address.ts";
import { LatencyHistogram } from "./latency_histogram.ts";
import { Watchdog } from "../transport/watchdog.ts";

/** Options for {@linkcode runEchoLoad}. */
export interface EchoLoadOptions {
  /**
   * How many connections, all open at once.
   *
   * @default {10}
   */
  connections?: number;
  /**
   * Round trips each connection makes, one after another.
   *
   * @default {1000}
   */
  count?: number;
  /**
   * Bytes per message. Every connection sends its own random bytes, with
   * the round trip's number in the first four, so that a stale or foreign
   * reply cannot pass the check.
   *
   * @default {64}
   */
  size?: number;
  /**
   * The longest a round trip (or a connect) may take, in milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
  /** Stops the run: the connections are closed and a {@linkcode ConnectionError} thrown. */
  signal?: AbortSignal;
  /** Speak TLS, trusting the server as these options say; absent: plain TCP. */
  tls?: ClientTlsOptions | undefined;
}

/** What a load run measured. */
export interface EchoLoadResult {
  /** Connections used. */
  connections: number;
  /** Round trips per connection. */
  count: number;
  /** Bytes per message. */
  size: number;
  /** Round trips made in all, every reply checked. */
  roundTrips: number;
  /** Bytes sent in all (as many came back). */
  bytes: number;
  /**
   * Seconds to open every connection and make one untimed first round trip
   * on each (which waits for the server to accept it).
   */
  setupSeconds: number;
  /** Wall time from the first timed round trip to the last reply, in seconds. */
  seconds: number;
  /** `roundTrips / seconds`. */
  roundTripsPerSecond: number;
  /** Median round-trip latency, in milliseconds (within 1%). */
  p50Ms: number;
  /** 99th percentile round-trip latency, in milliseconds (within 1%). */
  p99Ms: number;
  /** The slowest round trip, in milliseconds. */
  maxMs: number;
}

/**
 * Runs a load test against an echo server.
 *
 * @param addr The server.
 * @param options Connections, round trips, message size, timeout, signal.
 * @returns The measurements.
 * @throws {IntegrityError} When a reply differs from what was sent.
 * @throws {ConnectionError} When a connection fails, is closed or reset.
 * @throws {TimeoutError} When a connect or a round trip takes too long.
 * @throws {RangeError} When a count is not a positive whole number, or
 * there are more connections than the open-file limit allows.
 *
 * @example
 * ```ts
 * import { runEchoLoad } from "./load.ts";
 * import { startEchoServer } from "./server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * await using server = await startEchoServer({ port: 0, workers: 1 });
 * const result = await runEchoLoad(server.addr, { connections: 4, count: 10, size: 100 });
 * deepEqual(result.roundTrips, 40);
 * deepEqual(result.bytes, 4000);
 * ```
 */
export async function runEchoLoad(
  addr: HostPort,
  options: EchoLoadOptions = {},
): Promise<EchoLoadResult> {
  const connections = options.connections ?? 10;
  const count = options.count ?? 1000;
  const size = options.size ?? 64;
  const timeout = options.timeout ?? 10000;
  for (const [name, value] of [["connections", connections], ["count", count], ["size", size]]) {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new RangeError(`Invalid ${name} ${value}: expected a whole number above 0`);
    }
  }
  const budget = connectionBudget();
  if (connections > budget) {
    throw new RangeError(
      `Too many connections: ${connections} (the open-file limit allows ${budget})`,
    );
  }
  const run = new LoadRun(addr, connections, timeout, options.tls);
  return await run.execute(count, size, options.signal);
}

/** One run's connections, failure state and watchdog. */
class LoadRun {
  #addr: HostPort;
  #where: string;
  #conns: (TransportConn | undefined)[];
  #tls: ClientTlsOptions | undefined;
  #payloads: (Uint8Array<ArrayBuffer> | undefined)[];
  #closed: boolean[];
  /** One per connection: a connect or round trip that takes longer than the timeout fails the run. */
  #dogs: Watchdog[];
  #timeout: number;
  #failure: unknown = undefined;
  #failed = false;

  constructor(
    addr: HostPort,
    connections: number,
    timeout: number,
    tls: ClientTlsOptions | undefined,
  ) {
    this.#addr = addr;
    this.#tls = tls;
    this.#where = formatHostPort(addr.hostname, addr.port);
    this.#conns = new Array(connections).fill(undefined);
    this.#payloads = new Array(connections).fill(undefined);
    this.#closed = new Array(connections).fill(false);
    this.#timeout = timeout;
    this.#dogs = this.#conns.map((_, i) =>
      new Watchdog(timeout, () => this.#fail(this.#timedOut(i)), { whilePending: true })
    );
  }

  async execute(count: number, size: number, signal?: AbortSignal): Promise<EchoLoadResult> {
    const onAbort = () =>
      this.#fail(new ConnectionError(`Interrupted: load run against "${this.#where}" stopped`));
    signal?.addEventListener("abort", onAbort);
    for (const dog of this.#dogs) dog.start();
    try {
      if (signal?.aborted) onAbort();
      const setupStart = performance.now();
      await this.#settle(this.#conns.map((_, i) => this.#open(i)));
      // One untimed round trip per connection first: it waits for the server
      // to accept the connection, which is not what the run measures.
      const histograms = this.#conns.map(() => new LatencyHistogram());
      await this.#settle(this.#conns.map((_, i) => this.#drive(i, -1, 1, size, histograms[i]!)));
      const start = performance.now();
      const setupSeconds = (start - setupStart) / 1000;
      await this.#settle(
        this.#conns.map((_, i) => this.#drive(i, 0, count, size, histograms[i]!)),
      );
      const seconds = (performance.now() - start) / 1000;
      const all = new LatencyHistogram();
      for (const h of histograms) all.merge(h);
      const roundTrips = this.#conns.length * count;
      return {
        connections: this.#conns.length,
        count,
        size,
        roundTrips,
        bytes: roundTrips * size,
        setupSeconds,
        seconds,
        roundTripsPerSecond: roundTrips / seconds,
        p50Ms: all.percentile(50),
        p99Ms: all.percentile(99),
        maxMs: all.max,
      };
    } finally {
      for (const dog of this.#dogs) dog.stop();
      signal?.removeEventListener("abort", onAbort);
      for (let i = 0; i < this.#conns.length; i++) this.#close(i);
    }
  }

  /** Waits for every task; throws the run's first failure, if any. */
  async #settle(tasks: Promise<void>[]): Promise<void> {
    await Promise.allSettled(tasks);
    if (this.#failed) throw this.#failure;
  }

  async #open(i: number): Promise<void> {
    if (this.#failed) return;
    this.#dogs[i]!.begin();
    try {
      const conn = await connectEcho(this.#addr, this.#timeout, this.#tls);
      if (this.#failed) conn.close();
      else this.#conns[i] = conn;
    } catch (e) {
      this.#fail(e);
    } finally {
      this.#dogs[i]!.end();
    }
  }

  /**
   * Makes round trips `from` to `from + count - 1` on connection `i`
   * (round trip -1 is the untimed first one).
   */
  async #drive(i: number, from: number, count: number, size: number, h: LatencyHistogram) {
    const conn = this.#conns[i]!;
    const payload = this.#payloads[i] ??= randomBytes(size);
    const stamp = new DataView(payload.buffer);
    const reply = new Uint8Array(size);
    const dog = this.#dogs[i]!;
    try {
      for (let trip = from; trip < from + count && !this.#failed; trip++) {
        if (size >= 4) stamp.setInt32(0, trip);
        const t0 = performance.now();
        dog.begin();
        await exchange(conn, payload, reply, () => this.#close(i));
        if (trip >= 0) h.record(performance.now() - t0);
        dog.end();
        const at = firstDifference(payload, reply);
        if (at >= 0) {
          const which = trip < 0 ? "The first reply" : `Reply ${trip + 1}`;
          throw new IntegrityError(
            `${which} on connection ${i + 1} differs from what was sent at byte ${at}`,
          );
        }
      }
    } catch (e) {
      this.#fail(e instanceof IntegrityError ? e : connectionError(e, this.#where));
    }
  }

  #timedOut(i: number): TimeoutError {
    return new TimeoutError(
      `No reply from "${this.#where}" on connection ${i + 1} within ${this.#timeout / 1000} s`,
    );
  }

  /** Records the first failure and closes every connection to end the run. */
  #fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = e;
    for (let i = 0; i < this.#conns.length; i++) this.#close(i);
  }

  #close(i: number): void {
    const conn = this.#conns[i];
    if (!conn || this.#closed[i]) return;
    this.#closed[i] = true;
    conn.close();
  }
}

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
  }
  return bytes;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return i;
  return -1;
}
