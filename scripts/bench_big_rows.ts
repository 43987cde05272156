/**
 * The rows of the 1 GiB benchmark (scripts/bench.ts), one function a kind:
 * the peers' downloads (nc, socat, the course's Python server, curl), bftp's
 * GETs cold and warm, the pipelines, and the uploads (to disk, then into
 * memory). Each adds its samples to the run through {@linkcode BigRun.add}.
 *
 * @module
 */

import { peakRssKiB, timed, type Timing } from "./bench_measure.ts";
import {
  freePort,
  startBftpServer,
  startServerProcess,
  stopChild,
  waitForPort,
} from "./bench_setup.ts";
import { hashLocalFile } from "../lib/check/files.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const seedPeer = `${repo}/scripts/peers/seed_file_server.py`;

/** One measured run of a client process, with the peak RSS of the other side when known. */
export interface Sample extends Timing {
  serverRssKiB?: number;
}

/** A checksum a bftp row runs with: its label in the row's name and its flags. */
export interface Sum {
  label: string;
  args: string[];
}

/** What the rows of one run share. */
export interface BigRun {
  /** The bftp command. */
  bftp: string;
  /** The served folder, holding `file.bin`. */
  root: string;
  /** The source file and its SHA-256. */
  src: string;
  srcHash: string;
  /** The file's size in bytes. */
  size: number;
  /** A folder in memory (tmpfs) for the uploads into memory, or `null`. */
  memory: string | null;
  /** The checksums each kind of bftp row runs with. */
  sums: { get: Sum[]; pipe: Sum[]; put: Sum[] };
  /** Whether to check the uploaded copies byte for byte (the first run). */
  check: boolean;
  /** Records a sample under a row's name. */
  add(name: string, sample: Sample): void;
}

/** The row every upload into memory is compared with. */
export const NC_TO_MEMORY = "nc upload (receiver writes to tmpfs)";

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
    stop: stopChild(child),
  };
}

/**
 * The SHA-256 of a local file, in hex.
 *
 * @param path The file.
 * @returns Its hash.
 */
export async function sha256File(path: string): Promise<string> {
  return (await hashLocalFile(path)).sha256;
}

/**
 * Checks that the course's server, our own port of it, moves the bytes right.
 *
 * @param r The run.
 * @param dir Where its copy goes (removed after).
 */
export async function checkSeedPeer(r: BigRun, dir: string): Promise<void> {
  const peer = await startSeedServer(r.root, 65536);
  const copy = `${dir}/seed-copy.bin`;
  await timed(["python3", seedPeer, "get", "127.0.0.1", String(peer.port), "file.bin", copy]);
  await peer.stop();
  if ((await sha256File(copy)) !== r.srcHash) {
    throw new Error("seed_file_server.py: the copy differs from the source");
  }
  await Deno.remove(copy);
}

/**
 * The peers' downloads, each receiver writing to /dev/null: nc, socat with
 * 128 KiB buffers, the course's Python server at 4 and 64 KiB chunks, curl
 * from `python3 -m http.server`.
 *
 * @param r The run.
 */
export async function peerDownloads(r: BigRun): Promise<void> {
  const { root, src, add } = r;
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
}

/**
 * bftp's GETs to stdout (/dev/null), cold then warm, against one server.
 *
 * @param r The run.
 */
export async function bftpGets(r: BigRun): Promise<void> {
  const { bftp, root, add } = r;
  // bftp GET, cold: a fresh server, which hashes the file while it sends it;
  // warm: the same server remembers the hash (inode, size, mtime unchanged).
  for (const sum of r.sums.get) {
    const server = await startBftpServer(root);
    for (const pass of ["cold: server hashes while sending", "warm: hash remembered"]) {
      add(`bftp get${sum.label} (${pass})`, {
        ...await timed([bftp, "get", "-q", ...sum.args, `${server.url}/file.bin`, "-"]),
        serverRssKiB: peakRssKiB(server.pid),
      });
    }
    await server.stop();
  }
}

/**
 * The pipelines: `cat FILE` into nc or `bftp send`, the timed receiver
 * writing to /dev/null.
 *
 * @param r The run.
 */
export async function pipes(r: BigRun): Promise<void> {
  const { bftp, src, add } = r;
  const pipeSums = r.sums.pipe;
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
}

/**
 * The uploads to disk (nc's and bftp's, with and without fsync), then into
 * memory.
 *
 * @param r The run.
 */
export async function uploads(r: BigRun): Promise<void> {
  const { bftp, root, src, add } = r;
  const putCases = [false, true].flatMap((fsync) => r.sums.put.map((sum) => [fsync, sum] as const));
  // The uploads, one after the other, after one untimed write of the same size: the first
  // 1 GiB written to disk after the pipe rows took about three times as long, whichever tool
  // wrote it (the first bftp put row at 0.29-0.62 of nc in four runs, with either order of rows).
  await untimedWrite(`${root}/scratch.bin`, r.size);
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
    if (r.check && (await sha256File(`${root}/upload.bin`)) !== r.srcHash) {
      throw new Error("bftp put: the uploaded file differs from the source");
    }
    await Deno.remove(`${root}/upload.bin`);
  }
  if (r.memory !== null) await memoryUploads(r.memory, src, r.sums.put, add, bftp);
}

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
  bftp: string,
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
