/**
 * What the benchmark scripts share: starting a server process and waiting
 * for the line that says it is ready, free ports, timing a process under
 * /usr/bin/time, medians and percentiles, the machine's description.
 *
 * @module
 */

/** A server process started by {@linkcode startServerProcess}. */
export interface ServerProcess {
  /** The first stdout line that matched. */
  line: string;
  /** The process id (for /proc readings). */
  pid: number;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Spawns `command args`, reads its stdout until a line matches `ready`,
 * and returns that line.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param ready What the ready line looks like.
 * @returns The running process.
 *
 * @example
 * ```ts
 * import { startServerProcess } from "./bench_lib.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const p = await startServerProcess("bash", ["-c", "echo listening on 1; sleep 5"], /listening/);
 * deepEqual(p.line, "listening on 1");
 * await p.stop();
 * ```
 */
export async function startServerProcess(
  command: string,
  args: string[],
  ready: RegExp,
): Promise<ServerProcess> {
  const child = new Deno.Command(command, { args, stdout: "piped", stderr: "null" }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (true) {
      // Only whole lines: a line still arriving could hold half a port number.
      const line = text.split("\n").slice(0, -1).find((l) => ready.test(l));
      if (line !== undefined) {
        return {
          line,
          pid: child.pid,
          stop: async () => {
            child.kill("SIGTERM");
            await child.status;
          },
        };
      }
      const { value, done } = await reader.read();
      if (done) {
        await child.status;
        throw new Error(`${command} exited before it was ready`);
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
    await child.stdout.cancel();
  }
}

/**
 * The median of `xs` (the mean of the two middle values for an even count).
 *
 * @param xs The values (at least one).
 * @returns The median.
 *
 * @example
 * ```ts
 * import { median } from "./bench_lib.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(median([3, 1, 2]), 2);
 * equal(median([4, 1, 2, 3]), 2.5);
 * ```
 */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The value below which `p` percent of `xs` lie (nearest rank).
 *
 * @param xs The values (at least one).
 * @param p The percentile, 0 to 100.
 * @returns The percentile.
 *
 * @example
 * ```ts
 * import { percentile } from "./bench_lib.ts";
 * import { equal } from "node:assert/strict";
 *
 * const xs = Array.from({ length: 100 }, (_, i) => i + 1);
 * equal(percentile(xs, 50), 50);
 * equal(percentile(xs, 99), 99);
 * ```
 */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/**
 * A TCP port free on 127.0.0.1 at the time of asking.
 *
 * @returns The port.
 *
 * @example
 * ```ts
 * import { freePort } from "./bench_lib.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(freePort() > 0);
 * ```
 */
export function freePort(): number {
  using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return l.addr.port;
}

/**
 * Waits until something listens on `port` (looking at the socket table with
 * `ss`: probing would consume a one-shot listener such as `nc -l`).
 *
 * @param port The TCP port.
 * @param tries How many times to look, 10 ms apart.
 * @throws {Error} When nothing listens after that.
 *
 * @example
 * ```ts
 * import { waitForPort } from "./bench_lib.ts";
 *
 * using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * await waitForPort(l.addr.port);
 * ```
 */
export async function waitForPort(port: number, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const ss = await new Deno.Command("ss", { args: ["-ltnH", `sport = :${port}`] }).output();
    if (new TextDecoder().decode(ss.stdout).trim() !== "") return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`Nothing listens on port ${port}`);
}

/**
 * The peak resident memory of a running process (VmHWM, Linux), 0 when it
 * has exited.
 *
 * @param pid The process.
 * @returns KiB.
 *
 * @example
 * ```ts
 * import { peakRssKiB } from "./bench_lib.ts";
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
 * import { shellQuote } from "./bench_lib.ts";
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
 * import { timed } from "./bench_lib.ts";
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
 * One line naming the machine: cores, CPU model, Deno version, and the load
 * average now (other work on a shared machine slows every row alike, or not).
 *
 * @returns The line.
 *
 * @example
 * ```ts
 * import { machineLine } from "./bench_lib.ts";
 * import { match } from "node:assert/strict";
 *
 * match(await machineLine(), /cores/);
 * ```
 */
export async function machineLine(): Promise<string> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1];
  return `${navigator.hardwareConcurrency} cores (${
    cpu ?? "unknown CPU"
  }), Deno ${Deno.version.deno}, load average ${await loadAverage()} when the section ended`;
}

/** The 1-minute and 5-minute load averages (Linux), as "1.20 / 0.80"; "unknown" elsewhere. */
async function loadAverage(): Promise<string> {
  try {
    const [one, five] = (await Deno.readTextFile("/proc/loadavg")).split(" ");
    return `${one} (1 min) / ${five} (5 min)`;
  } catch {
    return "unknown";
  }
}

/**
 * `text` for a markdown table cell: its pipes escaped.
 *
 * @param text Any one-line text.
 * @returns The cell's markdown.
 *
 * @example
 * ```ts
 * import { cell } from "./bench_lib.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(cell("cat | nc"), "cat \\| nc");
 * ```
 */
export function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** The bftp program the benchmarks run: `$BFTP_BIN`, or this checkout's scripts/bftp. */
export const BFTP = Deno.env.get("BFTP_BIN") ?? new URL("./bftp", import.meta.url).pathname;

/** A `bftp serve` process started by {@linkcode startBftpServer}. */
export interface BftpServerProcess extends ServerProcess {
  /** Its URL, as it printed it (`bftp://127.0.0.1:PORT`). */
  url: string;
}

/**
 * Starts `bftp serve root --port 0 -q` (plus `extra`) and waits until it
 * listens; its pid is deno's (scripts/bftp execs it), for /proc readings.
 *
 * @param root The folder to serve.
 * @param extra More arguments for `bftp serve`.
 * @returns The server.
 *
 * @example
 * ```ts
 * import { startBftpServer } from "./bench_lib.ts";
 * import { match } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = await startBftpServer(dir);
 * match(server.url, /^bftp:\/\/127\.0\.0\.1:\d+$/);
 * await server.stop();
 * await Deno.remove(dir);
 * ```
 */
export async function startBftpServer(
  root: string,
  extra: string[] = [],
): Promise<BftpServerProcess> {
  const server = await startServerProcess(
    BFTP,
    ["serve", root, "--port", "0", "-q", ...extra],
    /^listening on /,
  );
  return { ...server, url: /listening on (\S+)/.exec(server.line)![1]! };
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
 * import { cpuSecondsOf } from "./bench_lib.ts";
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
 * import { childrenCpuSeconds } from "./bench_lib.ts";
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
 * import { againstServer } from "./bench_lib.ts";
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

/**
 * A new temporary folder for a benchmark's trees: under `$BENCH_TREE_DIR`
 * when set (`/dev/shm` puts them in memory), else the system's.
 *
 * @param name What the folder's name starts with, after `bftp-bench-`.
 * @returns Its path.
 *
 * @example
 * ```ts
 * import { treeDir } from "./bench_lib.ts";
 * import { match } from "node:assert/strict";
 *
 * const dir = await treeDir("doc");
 * match(dir, /bftp-bench-doc-/);
 * await Deno.remove(dir);
 * ```
 */
export async function treeDir(name: string): Promise<string> {
  const parent = Deno.env.get("BENCH_TREE_DIR");
  return await Deno.makeTempDir({
    prefix: `bftp-bench-${name}-`,
    ...parent ? { dir: parent } : {},
  });
}

/**
 * Removes a section's tree folder, or, when `BENCH_TRASH` names a folder
 * (scripts/bench makes one), moves it there for scripts/bench to remove
 * when the whole run ends: on ext4, files created soon after thousands were
 * deleted cost 150-250 us each instead of 12-32, so a section's deletions
 * would weigh on the next section's copies.
 *
 * @param dir The section's folder.
 *
 * @example
 * ```ts
 * import { retireTreeDir } from "./bench_lib.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await retireTreeDir(dir);
 * await rejects(() => Deno.stat(dir));
 * ```
 */
export async function retireTreeDir(dir: string): Promise<void> {
  const trash = Deno.env.get("BENCH_TRASH");
  if (trash) {
    try {
      await Deno.rename(dir, `${trash}/${dir.split("/").at(-1)}`);
      return;
    } catch (e) {
      // Another file system (BENCH_TREE_DIR=/dev/shm): removed now.
      if (!(e instanceof Error)) throw e;
    }
  }
  await Deno.remove(dir, { recursive: true });
}
