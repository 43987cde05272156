// deno-lint-ignore-file no-console
/**
 * The benchmark: moves one file over loopback with bftp (GET and PUT) and,
 * in the same run, with the peer tools (nc, socat, the course's Python file
 * server at 4 KiB and 64 KiB chunks, curl against python3 -m http.server),
 * and prints the medians as a markdown section (scripts/bench puts it in
 * docs/BENCHMARKS.md), writing the bar chart beside it (docs/benchmarks.svg).
 * Run it with `scripts/bench`.
 *
 * Environment: BENCH_SIZE_MIB (default 1024), BENCH_RUNS (default 3),
 * BENCH_DIR (default a new temporary folder), BENCH_OUT (default
 * docs/BENCHMARKS.md: the chart goes beside it; "-" writes no chart).
 *
 * @module
 */

import { cell, machineLine, median } from "./bench_report.ts";
import { BFTP } from "./bench_setup.ts";
import {
  bftpGets,
  type BigRun,
  checkSeedPeer,
  NC_TO_MEMORY,
  peerDownloads,
  pipes,
  type Sample,
  sha256File,
  type Sum,
  uploads,
} from "./bench_big_rows.ts";
import { dirname } from "node:path";
import { barChart } from "../lib/check/svg_chart.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const bftp = BFTP;
const sizeMiB = Number(Deno.env.get("BENCH_SIZE_MIB") ?? 1024);
const runs = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const outPath = Deno.env.get("BENCH_OUT") ?? `${repo}/docs/BENCHMARKS.md`;
const bytes = sizeMiB * 1024 * 1024;
const SHA256 = ["--checksum", "sha256"];

/**
 * Whether `bftp CMD --help` offers `--checksum` (issue 11's body checksum
 * choice): then the bftp rows run again with `--checksum sha256`.
 */
async function offersChecksum(cmd: string): Promise<boolean> {
  const out = await new Deno.Command(bftp, { args: [cmd, "--help"], stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout).includes("--checksum");
}

/** Writes the source file (random, `sizeMiB` MiB) unless it is there already. */
async function writeSource(src: string): Promise<void> {
  if ((await Deno.stat(src).catch(() => null))?.size === bytes) return;
  console.error(`bench: writing ${sizeMiB} MiB of random data to ${src}`);
  using f = await Deno.open(src, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(1 << 20);
  for (let i = 0; i < sizeMiB; i++) {
    crypto.getRandomValues(chunk.subarray(0, 65536));
    for (let o = 65536; o < chunk.length; o += 65536) chunk.copyWithin(o, 0, 65536);
    chunk[0] = i & 0xff;
    chunk[1] = i >> 8;
    f.writeSync(chunk);
  }
}

/** The default checksum, and SHA-256 beside it where each of `cmds` offers a choice (issue 11). */
async function sumsOf(...cmds: string[]): Promise<Sum[]> {
  const offered = (await Promise.all(cmds.map(offersChecksum))).every(Boolean);
  return [
    { label: "", args: [] },
    ...offered ? [{ label: " --checksum sha256", args: SHA256 }] : [],
  ];
}

async function main() {
  const dir = Deno.env.get("BENCH_DIR") ?? await Deno.makeTempDir({ prefix: "bftp-bench-" });
  const root = `${dir}/root`;
  await Deno.mkdir(root, { recursive: true });
  const src = `${dir}/source.bin`;
  await writeSource(src);
  await Deno.copyFile(src, `${root}/file.bin`);
  // Uploads into memory too, where /dev/shm is: a disk's write speed here varies several-fold.
  const memory = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "bftp-bench-" })
    .catch(() => null);
  const results = new Map<string, Sample[]>();
  const base: BigRun = {
    bftp,
    root,
    src,
    srcHash: await sha256File(src),
    size: bytes,
    memory,
    sums: {
      get: await sumsOf("get"),
      pipe: await sumsOf("send", "recv"),
      put: await sumsOf("put"),
    },
    check: true,
    add: (name, s) => {
      results.set(name, [...(results.get(name) ?? []), s]);
      console.error(
        `bench: ${name}: ${(bytes / s.seconds / 1e6).toFixed(0)} MB/s, ${
          (s.rssKiB / 1024).toFixed(0)
        } MB peak RSS`,
      );
    },
  };
  // The course's server is our own port of it: make sure it moves the bytes right.
  await checkSeedPeer(base, dir);
  for (let run = 1; run <= runs; run++) {
    console.error(`bench: run ${run} of ${runs}`);
    const r = { ...base, check: run === 1 };
    await peerDownloads(r);
    await bftpGets(r);
    await pipes(r);
    await uploads(r);
  }
  const { report, chart } = await reportOf(results, base.sums);
  console.log(report);
  if (outPath !== "-") {
    const svgPath = `${dirname(outPath)}/benchmarks.svg`;
    await Deno.writeTextFile(svgPath, chart + "\n");
    console.error(`bench: wrote ${svgPath}`);
  }
  if (!Deno.env.get("BENCH_DIR")) await Deno.remove(dir, { recursive: true });
  if (memory !== null) await Deno.remove(memory, { recursive: true });
}

/** Each row's median as a table line, its ratio against the nc row of its kind. */
function tableRows(results: Map<string, Sample[]>): string[] {
  const secondsOf = (name: string) => median((results.get(name) ?? []).map((s) => s.seconds));
  const ncGet = secondsOf("nc (receiver to /dev/null)");
  const ncPut = secondsOf("nc upload (receiver writes to disk)");
  const ncPutMemory = secondsOf(NC_TO_MEMORY);
  const ncPipe = secondsOf("pipe: cat | nc -l, nc to /dev/null");
  return [...results.entries()].map(([name, samples]) => {
    const secs = median(samples.map((s) => s.seconds));
    const base = name.startsWith("pipe:")
      ? ncPipe
      : name.includes("tmpfs")
      ? ncPutMemory
      : name.includes("put") || name.includes("upload")
      ? ncPut
      : ncGet;
    const srv = samples.map((s) => s.serverRssKiB ?? 0);
    return `| ${cell(name)} | ${(bytes / secs / 1e6).toFixed(0)} | ${(base / secs).toFixed(2)} | ${
      (median(samples.map((s) => s.rssKiB)) / 1024).toFixed(0)
    } | ${Math.max(...srv) > 0 ? (Math.max(...srv) / 1024).toFixed(0) : "-"} | ${
      median(samples.map((s) => s.cpuSeconds)).toFixed(2)
    } |`;
  });
}

/** The markdown section and the bar chart of a run's results. */
async function reportOf(
  results: Map<string, Sample[]>,
  sums: BigRun["sums"],
): Promise<{ report: string; chart: string }> {
  const rows = tableRows(results);
  const machine = await machineLine();
  const sha256Note = sums.get.length > 1 || sums.put.length > 1 || sums.pipe.length > 1
    ? "Rows marked `--checksum sha256` give the client that flag (the default is XXH3-128)" +
      (sums.pipe.length > 1
        ? "."
        : "; `send` and `recv` offer no `--checksum`, so the pipe has no such row.")
    : "SHA-256 rows: this bftp's `get --help` offers no `--checksum` yet, so every bftp row uses " +
      "its one checksum; once it does, `scripts/bench` adds `--checksum sha256` rows beside these.";
  const chart = barChart({
    title: `${sizeMiB} MiB over loopback: MB/s, median of ${runs} run(s)`,
    subtitle: `${machine}; ${new Date().toISOString().slice(0, 10)}; higher is better`,
    unit: "MB/s",
    bars: [...results.entries()].map(([name, samples]) => ({
      label: name,
      value: bytes / median(samples.map((s) => s.seconds)) / 1e6,
      color: name.startsWith("bftp") ? "#4e79a7" : "#b0b0b0",
    })),
  });
  const report = [
    `## ${sizeMiB} MiB over loopback, median of ${runs} runs (${
      new Date().toISOString().slice(0, 10)
    })`,
    "",
    `Machine: ${machine}.`,
    "Times are whole processes, start-up included. Ratio: the nc time over this row's time,",
    "against nc to /dev/null for downloads, nc writing to disk for uploads (to tmpfs for the",
    "uploads into memory), and cat | nc for the pipelines (1.00 = as fast as nc). A disk's writes",
    "here vary several-fold from run to run (the VM hands freed memory back to its host), so the",
    "uploads are also timed into /dev/shm; the disk uploads come one after the other, after one",
    "untimed write of the same size (the first such write after the pipe rows took about three",
    "times as long, whichever tool made it). Other side: the bftp server, or the nc/bftp process at",
    "the other end (the sender of a download or a pipe, the receiver of an upload).",
    sha256Note,
    "",
    "![MB/s of each transfer, as in the table](benchmarks.svg)",
    "",
    "| transfer | MB/s | ratio to nc | client peak RSS (MB) | other side peak RSS (MB) | client CPU s |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    "Commands (PORT and URL are the ones of the run):",
    "```sh",
    "nc -N -l 127.0.0.1 PORT < source.bin & nc 127.0.0.1 PORT > /dev/null",
    "socat -b 131072 -u OPEN:source.bin TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr &",
    "  socat -b 131072 -u TCP:127.0.0.1:PORT STDOUT > /dev/null",
    "python3 scripts/peers/seed_file_server.py serve root --port 0 --chunk 4096 &",
    "  python3 scripts/peers/seed_file_server.py get 127.0.0.1 PORT file.bin /dev/null --chunk 4096",
    "  (and again with --chunk 65536 on both sides)",
    "python3 -m http.server PORT --bind 127.0.0.1 --directory root &",
    "  curl -sS -o /dev/null http://127.0.0.1:PORT/file.bin",
    "bftp serve root --port 0 -q & bftp get -q URL/file.bin - > /dev/null",
    "nc -l 127.0.0.1 PORT > root/nc-upload.bin & nc -N 127.0.0.1 PORT < source.bin",
    "bftp serve root --port 0 -q [--no-fsync] & bftp put -q source.bin URL/upload.bin",
    "  (and into /dev/shm: nc -l ... > /dev/shm/DIR/nc-upload.bin, bftp serve /dev/shm/DIR --no-fsync)",
    "cat source.bin | nc -N -l 127.0.0.1 PORT & nc 127.0.0.1 PORT > /dev/null",
    "cat source.bin | bftp send - --listen PORT -q & bftp recv 127.0.0.1:PORT -q > /dev/null",
    "```",
    "",
  ].join("\n");
  return { report, chart };
}

if (import.meta.main) await main();
