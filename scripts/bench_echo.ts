/**
 * Benchmarks `bftp echo-server` with 1 worker and with 2 (or the counts
 * given): it starts the real entry point on port 0 once per count, warms
 * each up, runs `bftp echo HOST:PORT --connections 50 --count N --json`
 * 3 times against each (alternating between the servers, so that a noisy
 * machine weighs on all alike), and prints a markdown table of the medians,
 * with the server's CPU use (from /proc, Linux) and how the connections
 * were spread over the workers (from the server's exit statistics).
 *
 * Run: `deno run -A scripts/bench_echo.ts [--count N] [--connections C]
 * [--size BYTES] [--runs R] [--workers 1,2]`. The program is `$BFTP_BIN`,
 * or this checkout's `scripts/bftp`.
 *
 * @module
 */

import { parseArgs } from "node:util";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function print(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

/** One load run's JSON, as `bftp echo --json` prints it. */
interface LoadResult {
  roundTrips: number;
  seconds: number;
  roundTripsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** A run plus the server CPU it cost. */
interface Measured extends LoadResult {
  serverCores: number;
}

const BIN = Deno.env.get("BFTP_BIN") ?? new URL("./bftp", import.meta.url).pathname;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function clockTicks(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const n = Number(decoder.decode(out.stdout).trim());
    return n > 0 ? n : 100;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 100;
    throw e;
  }
}

/** User plus system CPU time of a process, all its threads, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function runLoad(port: number, args: string[]): Promise<LoadResult> {
  const out = await new Deno.Command(BIN, {
    args: ["echo", `127.0.0.1:${port}`, ...args, "--json"],
    stdin: "null",
  }).output();
  if (out.code !== 0) {
    throw new Error(`bftp echo failed (${out.code}): ${decoder.decode(out.stderr)}`);
  }
  return JSON.parse(decoder.decode(out.stdout)) as LoadResult;
}

/** A running `bftp echo-server` child. */
interface Server {
  workers: number;
  child: Deno.ChildProcess;
  port: number;
  stderr: Promise<string>;
}

async function startServer(workers: number): Promise<Server> {
  const child = new Deno.Command(BIN, {
    args: ["echo-server", "--port", "0", "--workers", String(workers)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    first += value;
  }
  await lines.cancel();
  const port = Number(/^listening on tcp:\/\/.+:(\d+)$/m.exec(first)?.[1]);
  if (!port) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`echo-server did not start: ${first}${await stderr}`);
  }
  return { workers, child, port, stderr };
}

/** Stops a server and returns its connection count per worker, from its exit statistics. */
async function stopServer(server: Server): Promise<string> {
  server.child.kill("SIGINT");
  await server.child.status;
  const stats = await server.stderr;
  return [...stats.matchAll(/^worker \d+: (\d+) connections/gm)].map((m) => m[1]).join(" / ");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string", default: "4000" },
      connections: { type: "string", default: "50" },
      size: { type: "string", default: "64" },
      runs: { type: "string", default: "3" },
      workers: { type: "string", default: "1,2" },
    },
  });
  const loadArgs = [
    "--connections",
    values.connections,
    "--count",
    values.count,
    "--size",
    values.size,
  ];
  const runs = Number(values.runs);
  const ticks = await clockTicks();
  const counts = values.workers.split(",").map(Number);
  // Every server runs for the whole benchmark (an idle one costs nothing), and
  // the runs alternate between them, so that the machine's noise hits all alike.
  const servers: Server[] = [];
  const measured = new Map<number, Measured[]>(counts.map((w) => [w, []]));
  const splits = new Map<number, string>();
  try {
    for (const w of counts) servers.push(await startServer(w));
    for (const server of servers) {
      await runLoad(server.port, ["--connections", "10", "--count", "500"]); // warm-up
    }
    for (let i = 0; i < runs; i++) {
      for (const server of servers) {
        const before = cpuTicks(server.child.pid);
        const result = await runLoad(server.port, loadArgs);
        const cpuSeconds = (cpuTicks(server.child.pid) - before) / ticks;
        measured.get(server.workers)!.push({ ...result, serverCores: cpuSeconds / result.seconds });
      }
    }
  } finally {
    for (const server of servers) splits.set(server.workers, await stopServer(server));
  }
  const rows: string[] = [];
  for (const w of counts) {
    const m = measured.get(w)!;
    const rate = m.map((r) => r.roundTripsPerSecond);
    rows.push(
      `| ${w} | ${Math.round(median(rate)).toLocaleString("en-US")} | ` +
        `${rate.map((r) => Math.round(r / 1000)).join(", ")} | ` +
        `${median(m.map((r) => r.p50Ms)).toFixed(3)} | ` +
        `${median(m.map((r) => r.p99Ms)).toFixed(3)} | ` +
        `${median(m.map((r) => r.serverCores)).toFixed(2)} | ${splits.get(w)} |`,
    );
  }
  print(
    `bftp echo HOST:PORT ${loadArgs.join(" ")} --json, ${runs} runs per worker count ` +
      `(${navigator.hardwareConcurrency} CPUs)`,
  );
  print("");
  print(
    "| workers | round trips/s (median) | each run (thousands/s) | p50 ms | p99 ms | server CPU (cores) | connections per worker |",
  );
  print("|---|---|---|---|---|---|---|");
  for (const row of rows) print(row);
}

if (import.meta.main) await main();
