// deno-lint-ignore-file no-console
/**
 * Requests inside one session: the rate (requests/s) and the latency (p50,
 * p99) of small GETs (a 1 KiB file, verified as it arrives, into no file)
 * and of STATs, one at a time and pipelined (a window of 32 in flight, as
 * `get -r` keeps, and all at once), with the library's client (lib/client)
 * against a `bftp serve` process. Also the CPU each request costs the
 * server and the client. Prints a markdown section. Run by `scripts/bench`.
 *
 * Environment: BENCH_REQUESTS (default 5000 per measure), BENCH_RUNS
 * (default 3).
 *
 * @module
 */

import { BftpClient } from "../lib/client/client.ts";
import { parseBftpUrl } from "../lib/client/url.ts";
import { DEFAULT_WINDOW, TaskWindow } from "../lib/client/window.ts";
import { cpuSecondsOf } from "./bench_measure.ts";
import { machineLine, median, percentile } from "./bench_report.ts";
import { startBftpServer } from "./bench_setup.ts";
import { cpuUsage } from "node:process";

const count = Number(Deno.env.get("BENCH_REQUESTS") ?? 5000);
const runs = Number(Deno.env.get("BENCH_RUNS") ?? 3);

/** This process's CPU seconds. */
function ownCpu(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1e6;
}

/** One measure: how many requests were in flight at most. */
type Mode = { name: string; window: number };

/** What one pass of `count` requests measured. */
interface Pass {
  seconds: number;
  latenciesMs: number[];
  serverCpu: number;
  clientCpu: number;
}

/** Runs `count` requests with at most `window` in flight; each one's latency from its start. */
async function pass(request: () => Promise<unknown>, window: number, serverPid: number) {
  const latenciesMs: number[] = [];
  const one = async () => {
    const t0 = performance.now();
    await request();
    latenciesMs.push(performance.now() - t0);
  };
  const cpu0 = cpuSecondsOf(serverPid), own0 = ownCpu();
  const started = performance.now();
  if (window === 1) {
    for (let i = 0; i < count; i++) await one();
  } else if (window >= count) {
    await Promise.all(Array.from({ length: count }, one));
  } else {
    const tasks = new TaskWindow({ limit: window });
    for (let i = 0; i < count; i++) await tasks.add(one);
    await tasks.drain();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    latenciesMs,
    serverCpu: cpuSecondsOf(serverPid) - cpu0,
    clientCpu: ownCpu() - own0,
  };
}

async function main() {
  const root = await Deno.makeTempDir({ prefix: "bftp-bench-requests-" });
  const small = new Uint8Array(1024);
  crypto.getRandomValues(small);
  await Deno.writeFile(`${root}/small.bin`, small);
  const server = await startBftpServer(root);
  const url = parseBftpUrl(server.url);
  const client = await BftpClient.connect({ hostname: url.hostname, port: url.port });
  const discard = { write: (p: Uint8Array) => Promise.resolve(p.length) };
  const ops: { name: string; request: () => Promise<unknown> }[] = [
    { name: "STAT", request: () => client.stat("/small.bin") },
    { name: "GET 1 KiB", request: () => client.get("/small.bin", discard) },
  ];
  const modes: Mode[] = [
    { name: "serial (one at a time)", window: 1 },
    { name: `pipelined, window ${DEFAULT_WINDOW}`, window: DEFAULT_WINDOW },
    { name: `pipelined, all ${count} at once`, window: count },
  ];
  const results = new Map<string, Pass[]>();
  try {
    for (const op of ops) await pass(op.request, DEFAULT_WINDOW, server.pid); // warm-up
    for (let run = 1; run <= runs; run++) {
      for (const op of ops) {
        for (const mode of modes) {
          const key = `${op.name}|${mode.name}`;
          const p = await pass(op.request, mode.window, server.pid);
          results.set(key, [...results.get(key) ?? [], p]);
          console.error(
            `bench-requests: run ${run}: ${op.name}, ${mode.name}: ${
              Math.round(count / p.seconds)
            } requests/s`,
          );
        }
      }
    }
    const version = client.hello.version ?? 1;
    const rows = [...results.entries()].map(([key, passes]) => {
      const [op, mode] = key.split("|");
      const lat = passes.flatMap((p) => p.latenciesMs);
      const rate = median(passes.map((p) => count / p.seconds));
      const us = (cpu: number[]) => (median(cpu) / count * 1e6).toFixed(0);
      return `| ${op} | ${mode} | ${Math.round(rate).toLocaleString("en-US")} | ${
        percentile(lat, 50).toFixed(3)
      } | ${percentile(lat, 99).toFixed(3)} | ${us(passes.map((p) => p.serverCpu))} | ${
        us(passes.map((p) => p.clientCpu))
      } |`;
    });
    console.log([
      `## Requests inside one session, ${
        count.toLocaleString("en-US")
      } per measure, median of ${runs} runs (${new Date().toISOString().slice(0, 10)})`,
      "",
      `Machine: ${await machineLine()}. Protocol version ${version}; over loopback (127.0.0.1).`,
      "One session of the library's client (lib/client, `BftpClient.stat` and `BftpClient.get`)",
      "against a `bftp serve -q` process, from a Deno script (scripts/bench_requests.ts). GET: a",
      "1 KiB file, its checksum verified as it arrives, the bytes thrown away. Serial: each request",
      "waits for the previous answer; pipelined: the client keeps a window of requests in flight",
      "(the library's TaskWindow, as `get -r` does), or issues all of them at once. Latency: from",
      "the call to its answer (with many in flight, that includes the wait behind the others),",
      "over all runs. CPU: user+system per request, of the server process (/proc) and of this",
      "client process.",
      "",
      "| request | mode | requests/s | p50 ms | p99 ms | server CPU µs/request | client CPU µs/request |",
      "|---|---|---|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"));
  } finally {
    await client.quit();
    await server.stop();
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) await main();
