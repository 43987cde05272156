/**
 * What one request costs inside a session, measured apart from the
 * iterations: a file under 1 MiB is fetched again and again, first one GET
 * after another, then with many in flight, into a sink that drops the
 * bytes (the client still checks each body's checksum). The iterations'
 * own times include the check's memory reading after each transfer (a full
 * garbage collection, after which the next request runs colder: 1 KiB GETs
 * measured 0.53 ms each back to back here, 2.1 ms with a collection between
 * them), so this is the figure for a request.
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { TaskWindow } from "../client/window.ts";
import type { RequestProbe } from "./types.ts";

/** GETs in each half of a probe. */
export const PROBE_REQUESTS = 100;

/** Requests in flight in the pipelined half. */
export const PROBE_WINDOW = 32;

/** Options for {@linkcode probeRequests}. */
export interface ProbeRequestsOptions {
  /**
   * GETs in each half.
   *
   * @default {PROBE_REQUESTS}
   */
  requests?: number;
  /**
   * Requests in flight in the pipelined half.
   *
   * @default {PROBE_WINDOW}
   */
  window?: number;
}

const dropped = { write: (p: Uint8Array) => Promise.resolve(p.byteLength) };

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Fetches `remote` `requests` times one after another, then `requests`
 * times with `window` in flight, and says what a request cost.
 *
 * @param client A connected client.
 * @param file The file's name in the report.
 * @param remote Its path on the server.
 * @param options How many, and how many at once.
 * @returns The figures.
 *
 * @example
 * ```ts
 * import { probeRequests } from "./request_probe.ts";
 * import type { BftpClient } from "../client/client.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * // A stand-in that answers every GET after 1 ms.
 * const client = { get: () => new Promise((r) => setTimeout(r, 1)) } as unknown as BftpClient;
 * const probe = await probeRequests(client, "a.bin", "/a.bin", { requests: 4, window: 2 });
 * deepEqual([probe.file, probe.requests, probe.window], ["a.bin", 4, 2]);
 * ```
 */
export async function probeRequests(
  client: BftpClient,
  file: string,
  remote: string,
  options: ProbeRequestsOptions = {},
): Promise<RequestProbe> {
  const requests = options.requests ?? PROBE_REQUESTS;
  const window = options.window ?? PROBE_WINDOW;
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await client.get(remote, dropped);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const tasks = new TaskWindow({ limit: window });
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    await tasks.add(() => client.get(remote, dropped).then(() => {}));
  }
  await tasks.drain();
  const pipelinedSeconds = (performance.now() - started) / 1000;
  const medianMs = quantile(times, 0.5);
  return {
    file,
    requests,
    medianMs,
    p99Ms: quantile(times, 0.99),
    perSecond: 1000 / medianMs,
    window,
    pipelinedPerSecond: requests / pipelinedSeconds,
  };
}
