/**
 * What a benchmark section sets up and takes down: server processes
 * started and stopped (waiting for the line that says one is ready, free
 * ports, `bftp serve` itself), and the temporary folders its trees live in.
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
 * import { startServerProcess } from "./bench_setup.ts";
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
          stop: stopChild(child),
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
 * How a started peer is stopped: SIGTERM, then its exit awaited.
 *
 * @param child The process.
 * @returns Its `stop`.
 *
 * @example
 * ```ts
 * import { stopChild } from "./bench_setup.ts";
 * import { equal } from "node:assert/strict";
 *
 * const child = new Deno.Command("sleep", { args: ["5"] }).spawn();
 * await stopChild(child)();
 * equal((await child.status).signal, "SIGTERM");
 * ```
 */
export function stopChild(child: Deno.ChildProcess): () => Promise<void> {
  return async () => {
    child.kill("SIGTERM");
    await child.status;
  };
}

/**
 * A TCP port free on 127.0.0.1 at the time of asking.
 *
 * @returns The port.
 *
 * @example
 * ```ts
 * import { freePort } from "./bench_setup.ts";
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
 * import { waitForPort } from "./bench_setup.ts";
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

/** The bftp program the benchmarks run: `$BFTP_BIN`, or this checkout's scripts/bftp. */
export const BFTP: string = Deno.env.get("BFTP_BIN") ?? new URL("./bftp", import.meta.url).pathname;

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
 * import { startBftpServer } from "./bench_setup.ts";
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
 * A new temporary folder for a benchmark's trees: under `$BENCH_TREE_DIR`
 * when set (`/dev/shm` puts them in memory), else the system's.
 *
 * @param name What the folder's name starts with, after `bftp-bench-`.
 * @returns Its path.
 *
 * @example
 * ```ts
 * import { treeDir } from "./bench_setup.ts";
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
 * Writes out everything the machine holds unwritten (`sync`), untimed,
 * before a timed row: otherwise the next row pays for the last one's
 * write-back (the tree just made, or a copy), and a server that flushes its
 * whole file system (`syncfs`) pays for every other writer's data too.
 *
 * @example
 * ```ts
 * import { settleDisk } from "./bench_setup.ts";
 *
 * await settleDisk();
 * ```
 */
export async function settleDisk(): Promise<void> {
  await new Deno.Command("sync", { stdout: "null", stderr: "null" }).output();
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
 * import { retireTreeDir } from "./bench_setup.ts";
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

/** What {@linkcode waitForQuickCreates} saw. */
export interface CreateProbe {
  /** Microseconds a file took to create in each probe, in order. */
  usPerFile: number[];
  /** Seconds waited between the probes. */
  waitedSeconds: number;
}

/** Options for {@linkcode waitForQuickCreates}. */
export interface CreateProbeOptions {
  /**
   * Empty files a probe creates (kept), spread over its folders.
   *
   * @default {1000}
   */
  files?: number;
  /**
   * Folders a probe spreads its files over, in a folder of its own: the
   * kernel places new folders over the disk's block groups, as it does a
   * copy's, and a folder's files in its group (one folder of 1,000 files
   * was quick, 18 us a file, right before copies into 50 new folders took
   * five times their time).
   *
   * @default {50}
   */
  folders?: number;
  /**
   * Microseconds a file at most for creating to count as quick.
   *
   * @default {60}
   */
  quickUs?: number;
  /**
   * The longest wait in all, in seconds.
   *
   * @default {360}
   */
  maxWaitSeconds?: number;
  /**
   * The wait between two probes, in seconds.
   *
   * @default {15}
   */
  stepSeconds?: number;
}

/**
 * Times creating empty files in new folders of `dir` and, while that is
 * slow, waits and times it again, up to a bound. ext4 without a journal
 * (this VM's root) passes over the inodes freed in the last 60 s (360 s
 * while their table block is not written back), reading the table block
 * of each: after a mass deletion (a test run's clean-up, say) a file costs
 * 110-250 us to create instead of 12-32 (here, a folder probed every 20 s
 * was slow until about 8 minutes after 200,000 files were removed), and
 * copies of a tree timed then measure the deletion more than the tool. The
 * probes' files are kept.
 *
 * @param dir Where the copies will be made.
 * @param options The probe's size, what counts as quick, the waits.
 * @returns Each probe's microseconds a file and the time waited.
 *
 * @example
 * ```ts
 * import { waitForQuickCreates } from "./bench_setup.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const probe = await waitForQuickCreates(dir, { files: 10, folders: 2, quickUs: 1e6 });
 * equal(probe.usPerFile.length, 1);
 * equal(probe.waitedSeconds, 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function waitForQuickCreates(
  dir: string,
  options: CreateProbeOptions = {},
): Promise<CreateProbe> {
  const { files = 1000, folders = 50, quickUs = 60, maxWaitSeconds = 360, stepSeconds = 15 } =
    options;
  const usPerFile: number[] = [];
  let waitedSeconds = 0;
  while (true) {
    const probe = Deno.makeTempDirSync({ dir, prefix: "create-probe-" });
    const start = performance.now();
    for (let f = 0; f < folders; f++) Deno.mkdirSync(`${probe}/${f}`);
    for (let i = 0; i < files; i++) {
      Deno.openSync(`${probe}/${i % folders}/${i}`, { createNew: true, write: true }).close();
    }
    usPerFile.push((performance.now() - start) * 1000 / files);
    if (usPerFile.at(-1)! <= quickUs || waitedSeconds + stepSeconds > maxWaitSeconds) break;
    await new Promise((resolve) => setTimeout(resolve, stepSeconds * 1000));
    waitedSeconds += stepSeconds;
  }
  return { usPerFile, waitedSeconds };
}
