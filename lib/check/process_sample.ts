/**
 * Samples of a process's CPU time and resident memory: this process's own
 * (from `node:process` `cpuUsage()`, which is getrusage, and
 * `Deno.memoryUsage().rss`), and another process's on Linux (from
 * `/proc/PID/stat` and `/proc/PID/status`).
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** CPU time and resident memory of a process at one moment. */
export interface ProcessSample {
  /** CPU seconds spent in user mode since the process started. */
  userSeconds: number;
  /** CPU seconds spent in the kernel on the process's behalf since it started. */
  systemSeconds: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
}

/**
 * Linux's USER_HZ, the unit of the CPU times in `/proc/PID/stat`: 100 on
 * every architecture Linux supports today (the kernel fixes it for user
 * space whatever its internal tick rate).
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Samples this process: CPU from getrusage (microsecond resolution, every
 * thread of the process counted), memory from the resident set size.
 *
 * @returns The sample.
 *
 * @example
 * ```ts
 * import { sampleSelf } from "./process_sample.ts";
 * import { ok } from "node:assert/strict";
 *
 * const s = sampleSelf();
 * ok(s.rssBytes > 0 && s.userSeconds >= 0 && s.systemSeconds >= 0);
 * ```
 */
export function sampleSelf(): ProcessSample {
  const cpu = cpuUsage();
  return {
    userSeconds: cpu.user / 1e6,
    systemSeconds: cpu.system / 1e6,
    rssBytes: Deno.memoryUsage().rss,
  };
}

/**
 * Parses the text of `/proc/PID/stat` and `/proc/PID/status` into a sample.
 *
 * @param stat The text of `/proc/PID/stat`.
 * @param status The text of `/proc/PID/status`.
 * @returns The sample.
 * @throws {TypeError} When the texts do not have the fields expected.
 *
 * @example
 * ```ts
 * import { parseProcSample } from "./process_sample.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const stat = "42 (de no) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 5 0 9 0";
 * const status = "Name:\tdeno\nVmRSS:\t   51200 kB\n";
 * deepEqual(parseProcSample(stat, status), { userSeconds: 2.5, systemSeconds: 0.3, rssBytes: 52428800 });
 * ```
 */
export function parseProcSample(stat: string, status: string): ProcessSample {
  // The command name (field 2) is in parentheses and may hold spaces and parentheses:
  // the fields after it start after the last ")".
  const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime) are the 12th and 13th after the name.
  const utime = Number(after[11]);
  const stime = Number(after[12]);
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || !rss) {
    throw new TypeError("Cannot parse a process sample from /proc");
  }
  return {
    userSeconds: utime / CLOCK_TICKS_PER_SECOND,
    systemSeconds: stime / CLOCK_TICKS_PER_SECOND,
    rssBytes: Number(rss[1]) * 1024,
  };
}

/**
 * Samples another process on this machine through `/proc` (Linux). CPU
 * times there count in ticks of 10 ms, so a single short transfer may read
 * as 0 or 0.01 s; sums over many iterations are accurate.
 *
 * @param pid The process id.
 * @returns The sample, or `null` when there is no `/proc` entry for it
 * (another system, or the process has ended).
 *
 * @example
 * ```ts
 * import { sampleProcess } from "./process_sample.ts";
 * import { ok } from "node:assert/strict";
 *
 * const s = sampleProcess(Deno.pid);
 * ok(Deno.build.os !== "linux" || (s !== null && s.rssBytes > 0));
 * ```
 */
export function sampleProcess(pid: number): ProcessSample | null {
  try {
    return parseProcSample(
      Deno.readTextFileSync(`/proc/${pid}/stat`),
      Deno.readTextFileSync(`/proc/${pid}/status`),
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof TypeError) return null;
    throw e;
  }
}

let gcFunction: (() => void) | null | undefined;

/**
 * Runs a full garbage collection in this process, so that resident memory
 * measured right after it holds live data, not garbage V8 has not got round
 * to collecting (it collects lazily: a few hundred MiB of dead buffers can
 * look exactly like a leak). Uses V8's `gc` extension, enabled at run time
 * the first time.
 *
 * @returns `true` when a collection ran; `false` when this runtime does not allow it.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./process_sample.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(typeof collectGarbage() === "boolean");
 * ```
 */
export function collectGarbage(): boolean {
  if (gcFunction === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const gc: unknown = runInNewContext("gc");
      gcFunction = typeof gc === "function" ? gc as () => void : null;
    } catch {
      gcFunction = null;
    }
  }
  if (gcFunction === null) return false;
  gcFunction();
  return true;
}
