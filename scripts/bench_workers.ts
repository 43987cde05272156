// deno-lint-ignore-file no-console
/**
 * Benchmarks `bftp serve --workers 1` against `--workers 2`: the aggregate
 * MB/s of 8 parallel GETs of 256 MiB files (8 different files, so the
 * server hashes each one on the cold pass), with CPU seconds of the server
 * and of the clients, and prints a markdown table. Run by `scripts/bench`.
 *
 * Environment: BENCH_PARALLEL (default 8), BENCH_FILE_MIB (default 256),
 * BENCH_RUNS (default 3).
 *
 * @module
 */

import { childrenCpuSeconds, cpuSecondsOf } from "./bench_measure.ts";
import { startServerProcess } from "./bench_setup.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const bftp = Deno.env.get("BFTP_BIN") ?? `${repo}/scripts/bftp`;
const parallel = Number(Deno.env.get("BENCH_PARALLEL") ?? 8);
const fileMiB = Number(Deno.env.get("BENCH_FILE_MIB") ?? 256);
const runs = Number(Deno.env.get("BENCH_RUNS") ?? 3);

async function startServer(root: string, workers: number) {
  const server = await startServerProcess(
    bftp,
    ["serve", root, "--port", "0", "-q", "--workers", String(workers)],
    /^listening on /,
  );
  return { ...server, url: /listening on (\S+)/.exec(server.line)![1]! };
}

async function parallelGets(url: string): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: parallel }, (_, i) =>
      new Deno.Command(bftp, {
        args: ["get", "-q", `${url}/f${i}.bin`, "-"],
        stdout: "null",
        stderr: "piped",
      }).output()),
  );
  for (const r of results) {
    if (!r.success) throw new Error(`get failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return (performance.now() - started) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const dir = await Deno.makeTempDir({ prefix: "bftp-bench-workers-" });
  try {
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < parallel; i++) {
      using f = await Deno.open(`${dir}/f${i}.bin`, { write: true, create: true });
      for (let m = 0; m < fileMiB; m++) {
        crypto.getRandomValues(chunk.subarray(0, 65536));
        for (let o = 65536; o < chunk.length; o += 65536) chunk.copyWithin(o, 0, 65536);
        chunk[0] = i;
        chunk[1] = m & 0xff;
        f.writeSync(chunk);
      }
    }
    const total = parallel * fileMiB * 1024 * 1024;
    const rows: {
      name: string;
      workers: number;
      secs: number[];
      server: number[];
      clients: number[];
    }[] = [];
    for (const workers of [1, 2]) {
      for (const pass of ["cold", "warm"]) {
        rows.push({ name: pass, workers, secs: [], server: [], clients: [] });
      }
    }
    for (let run = 0; run < runs; run++) {
      for (const workers of [1, 2]) {
        const server = await startServer(dir, workers);
        for (const pass of ["cold", "warm"]) {
          const row = rows.find((r) => r.workers === workers && r.name === pass)!;
          const cpu0 = cpuSecondsOf(server.pid);
          const kids0 = childrenCpuSeconds();
          const secs = await parallelGets(server.url);
          row.secs.push(secs);
          row.server.push(cpuSecondsOf(server.pid) - cpu0);
          row.clients.push(childrenCpuSeconds() - kids0);
          console.error(
            `bench-workers: workers=${workers} ${pass}: ${(total / secs / 1e6).toFixed(0)} MB/s`,
          );
        }
        await server.stop();
      }
    }
    const mbps = (r: (typeof rows)[number]) => total / median(r.secs) / 1e6;
    const lines = [
      `### ${parallel} parallel GETs of ${fileMiB} MiB files, serve --workers 1 vs 2 (median of ${runs})`,
      "",
      "cold: a fresh server hashes each file while sending it; warm: the server remembers the hashes.",
      "CPU: seconds of user+system time during the pass (server: all its threads; clients: all 8 processes).",
      "",
      "| pass | workers | aggregate MB/s | ratio to 1 worker | server CPU s | clients CPU s | wall s |",
      "|---|---|---|---|---|---|---|",
      ...rows.map((r) => {
        const base = rows.find((b) => b.workers === 1 && b.name === r.name)!;
        return `| ${r.name} | ${r.workers} | ${mbps(r).toFixed(0)} | ${
          (mbps(r) / mbps(base)).toFixed(2)
        } | ${median(r.server).toFixed(2)} | ${median(r.clients).toFixed(2)} | ${
          median(r.secs).toFixed(2)
        } |`;
      }),
      "",
    ];
    console.log(lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
