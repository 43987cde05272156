/**
 * Measuring the benchmarks' processes: wall time, peak RSS and CPU of a
 * command under /usr/bin/time, and of a running server or of this
 * process's children from /proc (Linux).
 *
 * @module
 */

/**
 * The peak resident memory of a running process (VmHWM, Linux), 0 when it
 * has exited.
 *
 * @param pid The process.
 * @returns KiB.
 *
 * @example
 * ```ts
 * import { peakRssKiB } from "./bench_measure.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(peakRssKiB(Deno.pid) > 0);
 * ```
 */
export function peakRssKiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** What {@linkcode timed} measured of one process. */
export interface Timing {
  /** Wall time, start-up included. */
  seconds: number;
  /** Peak resident memory. */
  rssKiB: number;
  /** User plus system CPU time. */
  cpuSeconds: number;
}

/** Options for {@linkcode timed}. */
export interface TimedOptions {
  /** A file for standard input. */
  stdin?: string;
  /**
   * A file for standard output.
   *
   * @default {"/dev/null"}
   */
  stdout?: string;
}

/**
 * Quotes `s` for a POSIX shell.
 *
 * @param s Any string.
 * @returns It in single quotes, its own single quotes escaped.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./bench_measure.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(shellQuote("it's"), "'it'\\''s'");
 * ```
 */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/**
 * Runs `cmd` under /usr/bin/time: wall time, peak RSS and CPU of that process.
 *
 * @param cmd The program and its arguments.
 * @param options Standard input and output.
 * @returns The measures.
 * @throws {Error} When the command fails (its stderr in the message).
 *
 * @example
 * ```ts
 * import { timed } from "./bench_measure.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok((await timed(["true"])).seconds >= 0);
 * ```
 */
export async function timed(cmd: string[], options: TimedOptions = {}): Promise<Timing> {
  const timeFile = await Deno.makeTempFile();
  try {
    const shell = [
      `exec /usr/bin/time -f "%e %M %U %S" -o ${timeFile}`,
      ...cmd.map(shellQuote),
      options.stdin ? `< ${shellQuote(options.stdin)}` : "",
      `> ${shellQuote(options.stdout ?? "/dev/null")}`,
    ].join(" ");
    const started = performance.now();
    const out = await new Deno.Command("bash", { args: ["-c", shell], stderr: "piped" }).output();
    const wall = (performance.now() - started) / 1000;
    if (!out.success) {
      throw new Error(`${cmd.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    const [, rss, user, sys] = (await Deno.readTextFile(timeFile)).trim().split(/\s+/).map(Number);
    return { seconds: wall, rssKiB: rss ?? 0, cpuSeconds: (user ?? 0) + (sys ?? 0) };
  } finally {
    await Deno.remove(timeFile);
  }
}

/**
 * User plus system CPU seconds of a process and all its threads, from
 * /proc (Linux; USER_HZ 100).
 *
 * @param pid The process.
 * @returns Seconds.
 *
 * @example
 * ```ts
 * import { cpuSecondsOf } from "./bench_measure.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(cpuSecondsOf(Deno.pid) >= 0);
 * ```
 */
export function cpuSecondsOf(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * User plus system CPU seconds of this process's children that have been
 * waited for (the clients a benchmark ran), from /proc/self (Linux).
 *
 * @returns Seconds.
 *
 * @example
 * ```ts
 * import { childrenCpuSeconds } from "./bench_measure.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(childrenCpuSeconds() >= 0);
 * ```
 */
export function childrenCpuSeconds(): number {
  const fields = Deno.readTextFileSync(`/proc/self/stat`).split(") ")[1]!.split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** One copy's measures: the client's (/usr/bin/time) and, for a server of ours, the server's. */
export interface Measured extends Timing {
  /** The server's peak RSS so far. */
  serverRssKiB?: number;
  /** The server's user plus system CPU seconds while the client ran. */
  serverCpu?: number;
}

/**
 * Times `cmd` (as {@linkcode timed} does) against a running server: also
 * the server's peak RSS and the CPU it spent meanwhile (Linux /proc).
 *
 * @param server The server's process.
 * @param cmd The client program and its arguments.
 * @param options Standard input and output.
 * @returns The measures.
 *
 * @example
 * ```ts
 * import { againstServer } from "./bench_measure.ts";
 * import { ok } from "node:assert/strict";
 *
 * const m = await againstServer({ pid: Deno.pid }, ["true"]);
 * ok(m.serverCpu !== undefined && m.serverCpu >= 0);
 * ```
 */
export async function againstServer(
  server: { pid: number },
  cmd: string[],
  options: TimedOptions = {},
): Promise<Measured> {
  const cpu0 = cpuSecondsOf(server.pid);
  const t = await timed(cmd, options);
  return {
    ...t,
    serverRssKiB: peakRssKiB(server.pid),
    serverCpu: cpuSecondsOf(server.pid) - cpu0,
  };
}
