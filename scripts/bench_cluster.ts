// deno-lint-ignore-file no-console
/**
 * Benchmarks bftp heads over GlusterFS (issue 13): one head on the local
 * disk, one head on a GlusterFS volume, two heads on the volume (each on its
 * own FUSE mount, the clients split between them); 8 clients at once PUT
 * then GET 64 MiB files. Reports the aggregate MB/s and the CPU seconds of
 * the heads, of GlusterFS (the volume's brick servers and FUSE clients) and
 * of the bftp clients, as a markdown table. The volume comes from
 * `scripts/cluster up` (a replica-2 volume of two bricks on this machine)
 * and goes at the end. Run by `scripts/bench` (part "cluster").
 *
 * Environment: BENCH_CLUSTER_CLIENTS (default 8), BENCH_CLUSTER_FILE_MIB
 * (default 64), BENCH_RUNS (default 3).
 *
 * @module
 */

import { childrenCpuSeconds, cpuSecondsOf } from "./bench_measure.ts";
import { median } from "./bench_report.ts";
import { BFTP, type BftpServerProcess, startBftpServer } from "./bench_setup.ts";

const CLUSTER = new URL("./cluster", import.meta.url).pathname;
const clients = Number(Deno.env.get("BENCH_CLUSTER_CLIENTS") ?? 8);
const fileMiB = Number(Deno.env.get("BENCH_CLUSTER_FILE_MIB") ?? 64);
const runs = Number(Deno.env.get("BENCH_RUNS") ?? 3);

/** The processes whose command line matches `pattern` (pgrep -f). */
async function pidsOf(pattern: string): Promise<number[]> {
  const out = await new Deno.Command("pgrep", { args: ["-f", pattern] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").map(Number);
}

/** The GlusterFS processes of `volume`: its FUSE clients and its brick servers. */
async function glusterPids(volume: string): Promise<Gluster> {
  return {
    fuse: await pidsOf(`^glusterfs .*--volfile-id=/${volume} `),
    bricks: await pidsOf(`^/usr/sbin/glusterfsd .*--volfile-id ${volume}\\.`),
  };
}

/** A volume's processes. */
interface Gluster {
  /** The FUSE clients (glusterfs), one per mount: on the heads' machines. */
  fuse: number[];
  /** The brick servers (glusterfsd): on the storage machines. */
  bricks: number[];
}

function cpuOf(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += cpuSecondsOf(pid);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return sum;
}

/** Runs `bftp ARGS` for each client at once; the wall seconds. */
async function together(argsOf: (i: number) => string[]): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: clients },
      (_, i) =>
        new Deno.Command(BFTP, { args: argsOf(i), stdout: "null", stderr: "piped" }).output(),
    ),
  );
  for (const r of results) {
    if (!r.success) throw new Error(`bftp failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return (performance.now() - started) / 1000;
}

async function writeSources(dir: string): Promise<void> {
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < clients; i++) {
    using f = await Deno.open(`${dir}/src${i}.bin`, { write: true, create: true });
    for (let m = 0; m < fileMiB; m++) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      for (let o = 65536; o < chunk.length; o += 65536) chunk.copyWithin(o, 0, 65536);
      f.writeSync(chunk);
    }
  }
}

interface Row {
  setup: string;
  op: "PUT" | "GET";
  secs: number[];
  heads: number[];
  fuse: number[];
  bricks: number[];
  clients: number[];
}

/** One pass of PUTs then GETs through `heads` (client i uses head i mod N). */
async function measure(
  heads: BftpServerProcess[],
  sources: string,
  gluster: Gluster,
  rows: Row[],
  setup: string,
): Promise<void> {
  const url = (i: number) => heads[i % heads.length]!.url;
  const passes: ["PUT" | "GET", (i: number) => string[]][] = [
    ["PUT", (i) => ["put", "-q", `${sources}/src${i}.bin`, `${url(i)}/f${i}.bin`]],
    ["GET", (i) => ["get", "-q", `${url(i)}/f${i}.bin`, "-"]],
  ];
  const pids = heads.map((h) => h.pid);
  for (const [op, argsOf] of passes) {
    let row = rows.find((r) => r.setup === setup && r.op === op);
    if (row === undefined) {
      row = { setup, op, secs: [], heads: [], fuse: [], bricks: [], clients: [] };
      rows.push(row);
    }
    const [h0, f0, b0] = [cpuOf(pids), cpuOf(gluster.fuse), cpuOf(gluster.bricks)];
    const c0 = childrenCpuSeconds();
    const secs = await together(argsOf);
    row.secs.push(secs);
    row.heads.push(cpuOf(pids) - h0);
    row.fuse.push(cpuOf(gluster.fuse) - f0);
    row.bricks.push(cpuOf(gluster.bricks) - b0);
    row.clients.push(childrenCpuSeconds() - c0);
    const mbps = clients * fileMiB * 1048576 / secs / 1e6;
    console.error(`bench-cluster: ${setup} ${op}: ${mbps.toFixed(0)} MB/s`);
  }
}

function table(rows: Row[]): string {
  const total = clients * fileMiB * 1048576;
  return [
    `### ${clients} clients at once, ${fileMiB} MiB files each (median of ${runs})`,
    "",
    "CPU: user+system seconds during the pass; heads: the bftp serve processes; FUSE: the",
    "volume's FUSE clients (glusterfs, one per mount, on the heads' machines); bricks: its two",
    `brick servers (glusterfsd, on the storage machines); clients: all ${clients} bftp processes.`,
    "",
    "| setup | op | aggregate MB/s | heads CPU s | FUSE CPU s | bricks CPU s | clients CPU s | wall s |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.setup} | ${r.op} | ${(total / median(r.secs) / 1e6).toFixed(0)} | ${
        median(r.heads).toFixed(2)
      } | ${median(r.fuse).toFixed(2)} | ${median(r.bricks).toFixed(2)} | ${
        median(r.clients).toFixed(2)
      } | ${median(r.secs).toFixed(2)} |`
    ),
    "",
  ].join("\n");
}

async function main() {
  const work = await Deno.makeTempDir({ prefix: "bftp-bench-cluster-" });
  const env = { BFTP_CLUSTER_DIR: `${work}/cluster`, BFTP_CLUSTER_HEADS: "0" };
  try {
    const up = await new Deno.Command(CLUSTER, { args: ["up"], env, stdout: "null" }).output();
    if (!up.success) {
      const why = new TextDecoder().decode(up.stderr).trim().split("\n")[0];
      console.log(
        `### Heads over GlusterFS\n\nNot measured: scripts/cluster up failed (${why}).\n`,
      );
      return;
    }
    const state = await Deno.readTextFile(`${work}/cluster/state`);
    const field = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(state)![1]!;
    const gluster = await glusterPids(field("volume"));
    await Deno.mkdir(`${work}/local`);
    await Deno.mkdir(`${work}/sources`);
    await writeSources(`${work}/sources`);
    const rows: Row[] = [];
    const setups: [string, string[]][] = [
      ["1 head, local disk", [`${work}/local`]],
      ["1 head, GlusterFS", [field("mount_a")]],
      ["2 heads, GlusterFS", [field("mount_a"), field("mount_b")]],
    ];
    for (let run = 0; run < runs; run++) {
      for (const [setup, roots] of setups) {
        const heads = await Promise.all(roots.map((root) => startBftpServer(root)));
        try {
          await measure(
            heads,
            `${work}/sources`,
            setup === setups[0]![0] ? { fuse: [], bricks: [] } : gluster,
            rows,
            setup,
          );
        } finally {
          await Promise.all(heads.map((h) => h.stop()));
        }
      }
    }
    console.log(table(rows));
  } finally {
    await new Deno.Command(CLUSTER, { args: ["down"], env, stdout: "null" }).output();
    await Deno.remove(work, { recursive: true });
  }
}

if (import.meta.main) await main();
