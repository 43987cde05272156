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

import { peakRssKiB, timed, type Timing } from "./bench_measure.ts";
import { cell, machineLine, median } from "./bench_report.ts";
import { BFTP, freePort, startBftpServer, startServerProcess, waitForPort } from "./bench_setup.ts";
import { hashLocalFile } from "../lib/check/files.ts";
import { dirname } from "node:path";
import { barChart } from "../lib/check/svg_chart.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const bftp = BFTP;
const sizeMiB = Number(Deno.env.get("BENCH_SIZE_MIB") ?? 1024);
const runs = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const outPath = Deno.env.get("BENCH_OUT") ?? `${repo}/docs/BENCHMARKS.md`;
const bytes = sizeMiB * 1024 * 1024;
const seedPeer = `${repo}/scripts/peers/seed_file_server.py`;
const SHA256 = ["--checksum", "sha256"];

/** One measured run of a client process, with the peak RSS of the other side when known. */
interface Sample extends Timing {
  serverRssKiB?: number;
}

/**
 * Whether `bftp CMD --help` offers `--checksum` (issue 11's body checksum
 * choice): then the bftp rows run again with `--checksum sha256`.
 */
async function offersChecksum(cmd: string): Promise<boolean> {
  const out = await new Deno.Command(bftp, { args: [cmd, "--help"], stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout).includes("--checksum");
}

/**
 * Spawns `shell` in bash under /usr/bin/time (its last command is the one
 * measured: `exec` it); `rss()` reads its peak RSS once it has exited.
 */
function spawnMeasured(shell: string) {
  const timeFile = Deno.makeTempFileSync();
  const child = new Deno.Command("bash", {
    args: ["-c", shell.replace("TIME", `/usr/bin/time -f %M -o ${timeFile}`)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  return {
    status: child.status,
    rss: async () => {
      await child.status;
      const kib = Number((await Deno.readTextFile(timeFile)).trim().split(/\s+/).at(-1));
      await Deno.remove(timeFile);
      return kib;
    },
  };
}

/** The course's Python file server over `root`, sending in `chunk`-byte pieces. */
async function startSeedServer(root: string, chunk: number) {
  const server = await startServerProcess(
    "python3",
    [seedPeer, "serve", root, "--port", "0", "--chunk", String(chunk)],
    /listening on \d+/,
  );
  return { ...server, port: Number(/listening on (\d+)/.exec(server.line)![1]) };
}

/** `python3 -m http.server` over `root` on a free port. */
async function startHttpServer(root: string) {
  const port = freePort();
  const child = new Deno.Command("python3", {
    args: ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", root],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForPort(port);
  return {
    port,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function sha256File(path: string): Promise<string> {
  return (await hashLocalFile(path)).sha256;
}

async function main() {
  const dir = Deno.env.get("BENCH_DIR") ?? await Deno.makeTempDir({ prefix: "bftp-bench-" });
  const root = `${dir}/root`;
  await Deno.mkdir(root, { recursive: true });
  const src = `${dir}/source.bin`;
  if ((await Deno.stat(src).catch(() => null))?.size !== bytes) {
    console.error(`bench: writing ${sizeMiB} MiB of random data to ${src}`);
    const f = await Deno.open(src, { write: true, create: true, truncate: true });
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < sizeMiB; i++) {
      crypto.getRandomValues(chunk.subarray(0, 65536));
      for (let o = 65536; o < chunk.length; o += 65536) chunk.copyWithin(o, 0, 65536);
      chunk[0] = i & 0xff;
      chunk[1] = i >> 8;
      f.writeSync(chunk);
    }
    f.close();
  }
  const served = `${root}/file.bin`;
  await Deno.copyFile(src, served);
  const srcHash = await sha256File(src);

  // The course's server is our own port of it: make sure it moves the bytes right.
  {
    const peer = await startSeedServer(root, 65536);
    const copy = `${dir}/seed-copy.bin`;
    await timed(["python3", seedPeer, "get", "127.0.0.1", String(peer.port), "file.bin", copy]);
    await peer.stop();
    if ((await sha256File(copy)) !== srcHash) {
      throw new Error("seed_file_server.py: the copy differs from the source");
    }
    await Deno.remove(copy);
  }

  // Uploads into memory too, where /dev/shm is: a disk's write speed here varies several-fold.
  const memory = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "bftp-bench-" }).catch(() =>
    null
  );
  const results = new Map<string, Sample[]>();
  const add = (name: string, s: Sample) => {
    results.set(name, [...(results.get(name) ?? []), s]);
    console.error(
      `bench: ${name}: ${(bytes / s.seconds / 1e6).toFixed(0)} MB/s, ${
        (s.rssKiB / 1024).toFixed(0)
      } MB peak RSS`,
    );
  };

  // The default checksum, and SHA-256 beside it where the client offers a choice (issue 11).
  const sums = async (...cmds: string[]) => [
    { label: "", args: [] as string[] },
    ...(await Promise.all(cmds.map(offersChecksum))).every(Boolean)
      ? [{ label: " --checksum sha256", args: SHA256 }]
      : [],
  ];
  const getSums = await sums("get");
  const pipeSums = await sums("send", "recv");
  const putSums = await sums("put");
  const putCases = [false, true].flatMap((fsync) => putSums.map((sum) => [fsync, sum] as const));
  for (let run = 1; run <= runs; run++) {
    console.error(`bench: run ${run} of ${runs}`);
    // nc: the sender serves the file, the timed receiver writes to /dev/null.
    {
      const port = freePort();
      const sender = spawnMeasured(`exec TIME nc -N -l 127.0.0.1 ${port} < '${src}'`);
      await waitForPort(port);
      const got = await timed(["nc", "127.0.0.1", String(port)]);
      add("nc (receiver to /dev/null)", { ...got, serverRssKiB: await sender.rss() });
    }
    // socat with 128 KiB buffers, the same way round.
    {
      const port = freePort();
      const sender = new Deno.Command("bash", {
        args: [
          "-c",
          `exec socat -b 131072 -u 'OPEN:${src}' TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await waitForPort(port);
      add(
        "socat -b 131072 (receiver to /dev/null)",
        await timed(["socat", "-b", "131072", "-u", `TCP:127.0.0.1:${port}`, "STDOUT"]),
      );
      await sender.status;
    }
    // The course's Python file server (v2), ported to Python 3: 4 KiB chunks as in the course, then 64 KiB.
    for (const chunk of [4096, 65536]) {
      const peer = await startSeedServer(root, chunk);
      add(`seed Python file server, ${chunk / 1024} KiB chunks (to /dev/null)`, {
        ...await timed([
          "python3",
          seedPeer,
          "get",
          "127.0.0.1",
          String(peer.port),
          "file.bin",
          "/dev/null",
          "--chunk",
          String(chunk),
        ]),
        serverRssKiB: peakRssKiB(peer.pid),
      });
      await peer.stop();
    }
    // curl against python3 -m http.server.
    {
      const http = await startHttpServer(root);
      add("curl from python3 -m http.server (to /dev/null)", {
        ...await timed([
          "curl",
          "-sS",
          "-o",
          "/dev/null",
          `http://127.0.0.1:${http.port}/file.bin`,
        ]),
        serverRssKiB: peakRssKiB(http.pid),
      });
      await http.stop();
    }
    // bftp GET, cold: a fresh server, which hashes the file while it sends it;
    // warm: the same server remembers the hash (inode, size, mtime unchanged).
    for (const sum of getSums) {
      const server = await startBftpServer(root);
      for (const pass of ["cold: server hashes while sending", "warm: hash remembered"]) {
        add(`bftp get${sum.label} (${pass})`, {
          ...await timed([bftp, "get", "-q", ...sum.args, `${server.url}/file.bin`, "-"]),
          serverRssKiB: peakRssKiB(server.pid),
        });
      }
      await server.stop();
    }
    // Pipelines: the sender listens and reads stdin from cat, the timed receiver writes to /dev/null.
    for (const tool of ["nc", ...pipeSums.map((sum) => sum.label)]) {
      const sum = pipeSums.find((x) => x.label === tool);
      const port = freePort();
      const sender = spawnMeasured(
        sum === undefined
          ? `cat '${src}' | TIME nc -N -l 127.0.0.1 ${port}`
          : `cat '${src}' | TIME '${bftp}' send - --listen ${port} -q ${sum.args.join(" ")}`,
      );
      await waitForPort(port);
      const recvCmd = sum === undefined
        ? ["nc", "127.0.0.1", String(port)]
        : [bftp, "recv", `127.0.0.1:${port}`, "-q", ...sum.args];
      const got = await timed(recvCmd);
      const status = await sender.status;
      if (!status.success) throw new Error(`${tool} sender failed (exit ${status.code})`);
      add(
        sum === undefined
          ? "pipe: cat | nc -l, nc to /dev/null"
          : `pipe: cat | bftp send${sum.label} (chunked), bftp recv to /dev/null`,
        { ...got, serverRssKiB: await sender.rss() },
      );
    }
    // The uploads, one after the other, after one untimed write of the same size: the first
    // 1 GiB written to disk after the pipe rows took about three times as long, whichever tool
    // wrote it (the first bftp put row at 0.29-0.62 of nc in four runs, with either order of rows).
    await untimedWrite(`${root}/scratch.bin`, bytes);
    // nc as an upload: the receiver writes the file to disk.
    add("nc upload (receiver writes to disk)", await ncUpload(src, `${root}/nc-upload.bin`));
    // bftp PUT: the server writes to disk, checks the hash, renames (with and without fsync).
    for (const [fsync, sum] of putCases) {
      const server = await startBftpServer(root, fsync ? [] : ["--no-fsync"]);
      const name = `bftp put${sum.label} (${fsync ? "server fsyncs before rename" : "--no-fsync"})`;
      add(name, {
        ...await timed([bftp, "put", "-q", ...sum.args, src, `${server.url}/upload.bin`]),
        serverRssKiB: peakRssKiB(server.pid),
      });
      await server.stop();
      if (run === 1 && (await sha256File(`${root}/upload.bin`)) !== srcHash) {
        throw new Error("bftp put: the uploaded file differs from the source");
      }
      await Deno.remove(`${root}/upload.bin`);
    }
    if (memory !== null) await memoryUploads(memory, src, putSums, add);
  }

  const ncGet = median(results.get("nc (receiver to /dev/null)")!.map((s) => s.seconds));
  const ncPut = median(results.get("nc upload (receiver writes to disk)")!.map((s) => s.seconds));
  const ncPutMemory = median(
    (results.get(NC_TO_MEMORY) ?? []).map((s) => s.seconds),
  );
  const ncPipe = median(
    results.get("pipe: cat | nc -l, nc to /dev/null")!.map((s) => s.seconds),
  );
  const rows = [...results.entries()].map(([name, samples]) => {
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
  const machine = await machineLine();
  const sha256Note = getSums.length > 1 || putSums.length > 1 || pipeSums.length > 1
    ? "Rows marked `--checksum sha256` give the client that flag (the default is XXH3-128)" +
      (pipeSums.length > 1
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
  console.log(report);
  if (outPath !== "-") {
    const svgPath = `${dirname(outPath)}/benchmarks.svg`;
    await Deno.writeTextFile(svgPath, chart + "\n");
    console.error(`bench: wrote ${svgPath}`);
  }
  if (!Deno.env.get("BENCH_DIR")) await Deno.remove(dir, { recursive: true });
  if (memory !== null) await Deno.remove(memory, { recursive: true });
}

const NC_TO_MEMORY = "nc upload (receiver writes to tmpfs)";

/** Writes `size` bytes of zeros to `path` in 1 MiB writes, then removes it: untimed. */
async function untimedWrite(path: string, size: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(1 << 20);
  for (let written = 0; written < size; written += chunk.length) {
    await file.write(chunk.subarray(0, Math.min(chunk.length, size - written)));
  }
  await Deno.remove(path);
}

/**
 * nc as an upload: a listening nc writes what it receives to `target`; the
 * time runs from the sender's start to the receiver's end.
 */
async function ncUpload(src: string, target: string): Promise<Sample> {
  const port = freePort();
  const receiver = spawnMeasured(`exec TIME nc -l 127.0.0.1 ${port} > '${target}'`);
  await waitForPort(port);
  const started = performance.now();
  const sent = await timed(["nc", "-N", "127.0.0.1", String(port)], { stdin: src });
  await receiver.status;
  const sample = {
    ...sent,
    seconds: (performance.now() - started) / 1000,
    serverRssKiB: await receiver.rss(),
  };
  await Deno.remove(target);
  return sample;
}

/**
 * Uploads into memory: nc's receiver, then a `--no-fsync` bftp server, write
 * under `memory` (tmpfs), so the ratio is the tools' and not the disk's.
 */
async function memoryUploads(
  memory: string,
  src: string,
  sums: { label: string; args: string[] }[],
  add: (name: string, sample: Sample) => void,
): Promise<void> {
  add(NC_TO_MEMORY, await ncUpload(src, `${memory}/nc-upload.bin`));
  for (const sum of sums) {
    const server = await startBftpServer(memory, ["--no-fsync"]);
    add(`bftp put${sum.label} (--no-fsync, server root on tmpfs)`, {
      ...await timed([bftp, "put", "-q", ...sum.args, src, `${server.url}/upload.bin`]),
      serverRssKiB: peakRssKiB(server.pid),
    });
    await server.stop();
    if ((await sha256File(`${memory}/upload.bin`)) !== await sha256File(src)) {
      throw new Error("bftp put: the file uploaded into memory differs from the source");
    }
    await Deno.remove(`${memory}/upload.bin`);
  }
}

if (import.meta.main) await main();
