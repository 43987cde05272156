/**
 * The iteration loop of `bftp check`: each file goes to the server (PUT)
 * and back (GET) a number of times over one session; every transfer is
 * timed, its CPU and memory cost sampled, and what arrived hashed and
 * compared with the source. The result is a {@linkcode CheckReport}.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { BftpClient } from "../client/client.ts";
import { joinRemote } from "../client/url.ts";
import { BftpError, IntegrityError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import { VERSION } from "../version.ts";
import { hashLocalFile } from "./files.ts";
import { buildReport } from "./overall.ts";
import { collectGarbage, type ProcessSample, sampleSelf } from "./process_sample.ts";
import type { CheckTarget } from "./target.ts";
import type {
  CheckFile,
  CheckReport,
  CpuSeconds,
  Direction,
  IterationRecord,
  Thresholds,
} from "./types.ts";
import { DEFAULT_THRESHOLDS } from "./verdict.ts";

/** Told after each transfer, for a progress line. */
export interface CheckProgress {
  /** The file being moved. */
  file: CheckFile;
  /** Its position in the list, from 1. */
  fileNumber: number;
  /** How many files. */
  fileCount: number;
  /** The transfer just finished. */
  record: IterationRecord;
  /** Iterations per file. */
  iterations: number;
}

/** Options for {@linkcode runCheck}. */
export interface RunCheckOptions {
  /** The server. */
  target: CheckTarget;
  /** The files to move, with their known hashes. */
  files: readonly CheckFile[];
  /** A local folder for downloads (the check writes one file per source file in it). */
  workDir: string;
  /**
   * Round trips (PUT then GET) per file.
   *
   * @default {20}
   */
  iterations?: number;
  /**
   * Leading iterations left out of the speed and memory statistics (they are
   * still checked for identity).
   *
   * @default {2}
   */
  warmup?: number;
  /**
   * Where GET bodies go: a local file written synchronously (`"file"`), or
   * nowhere, only hashed (`"discard"`).
   *
   * @default {"file"}
   */
  getSink?: "file" | "discard";
  /** Limits for the verdict; missing ones take {@linkcode DEFAULT_THRESHOLDS}. */
  thresholds?: Partial<Thresholds>;
  /**
   * Milliseconds between memory samples during a transfer (for the peaks).
   *
   * @default {25}
   */
  sampleIntervalMs?: number;
  /**
   * Run a full garbage collection in this process after each transfer,
   * before its resident memory is read, so the client's memory trend shows
   * live data only (the server's process cannot be asked to).
   *
   * @default {true}
   */
  collectGarbage?: boolean;
  /** Called after each transfer. */
  onProgress?: (progress: CheckProgress) => void;
  /** Stops the run: the transfer in flight is cut and the report covers what was done. */
  signal?: AbortSignal;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function cpuDelta(a: ProcessSample | null, b: ProcessSample | null): CpuSeconds | null {
  if (a === null || b === null) return null;
  return {
    user: Math.max(0, b.userSeconds - a.userSeconds),
    system: Math.max(0, b.systemSeconds - a.systemSeconds),
  };
}

/** Samples the client and the server over one transfer: CPU deltas, memory peaks. */
class Meter {
  #target: CheckTarget;
  #interval: number;
  #last = 0;
  #client!: ProcessSample;
  #server!: ProcessSample | null;
  #started = 0;
  clientPeak = 0;
  serverPeak: number | null = null;
  /** Whether a transfer is being measured (between start and stop). */
  running = false;

  #collect: boolean;

  constructor(target: CheckTarget, intervalMs: number, collect: boolean) {
    this.#target = target;
    this.#interval = intervalMs;
    this.#collect = collect;
  }

  start(): void {
    this.#server = this.#target.sample();
    this.#client = sampleSelf();
    this.clientPeak = this.#client.rssBytes;
    this.serverPeak = this.#server?.rssBytes ?? null;
    this.#last = performance.now();
    this.#started = this.#last;
    this.running = true;
  }

  /** Called per chunk; samples memory at most once per interval. */
  tick = (): void => {
    const now = performance.now();
    if (now - this.#last < this.#interval) return;
    this.#last = now;
    this.clientPeak = Math.max(this.clientPeak, Deno.memoryUsage().rss);
    const s = this.#target.sample();
    if (s !== null && this.serverPeak !== null) {
      this.serverPeak = Math.max(this.serverPeak, s.rssBytes);
    }
  };

  stop() {
    this.running = false;
    const seconds = (performance.now() - this.#started) / 1000;
    const server = this.#target.sample();
    const atEnd = sampleSelf();
    this.clientPeak = Math.max(this.clientPeak, atEnd.rssBytes);
    // CPU is taken before the collection, memory after it: live data only.
    const client = this.#collect && collectGarbage()
      ? { ...atEnd, rssBytes: Deno.memoryUsage().rss }
      : atEnd;
    if (server !== null && this.serverPeak !== null) {
      this.serverPeak = Math.max(this.serverPeak, server.rssBytes);
    }
    return {
      seconds,
      clientCpu: cpuDelta(this.#client, atEnd)!,
      serverCpu: cpuDelta(this.#server, server),
      clientRss: client.rssBytes,
      clientRssPeak: this.clientPeak,
      serverRss: server?.rssBytes ?? null,
      serverRssPeak: server === null ? null : this.serverPeak,
    };
  }
}

/** A GET sink that hashes what arrives and writes it to a file (or nowhere). */
function hashingSink(file: Deno.FsFile | null) {
  const hash = createHash("sha256");
  let bytes = 0;
  const sink: ByteWriter = {
    write: (p) => {
      hash.update(p);
      bytes += p.byteLength;
      if (file === null) return Promise.resolve(p.byteLength);
      try {
        // Synchronous writes: async FsFile.write costs about 100 us a call here.
        return Promise.resolve(file.writeSync(p));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  return {
    sink,
    get bytes() {
      return bytes;
    },
    digest: () => hash.digest("hex"),
  };
}

function machine(): CheckReport["machine"] {
  let cpuModel: string | null = null;
  try {
    cpuModel = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? null;
  } catch {
    // Not Linux: the model is unknown.
  }
  return {
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
    cpuModel,
    deno: Deno.version.deno,
  };
}

/**
 * Runs a check: for every file, `iterations` round trips (PUT, then GET of
 * what was put), each checked for identity and measured. Failures are
 * recorded, not thrown: after one, the session is opened again and the run
 * goes on. The remote scratch folder is removed at the end.
 *
 * @param options The server, the files, and how many times.
 * @returns The report, with the verdicts.
 * @throws {ConnectionError} When the server cannot be reached at all.
 *
 * @example
 * ```ts
 * import { runCheck } from "./run.ts";
 * import { generateFile } from "./files.ts";
 * import { startInProcessServer } from "./target.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const workDir = await Deno.makeTempDir();
 * const target = await startInProcessServer({ fsync: false });
 * try {
 *   const file = await generateFile(workDir, 1024);
 *   const report = await runCheck({ target, files: [file], workDir, iterations: 2 });
 *   deepEqual([report.passed, report.iterations.length], [true, 4]);
 * } finally {
 *   await target.close();
 *   await Deno.remove(workDir, { recursive: true });
 * }
 * ```
 */
export async function runCheck(options: RunCheckOptions): Promise<CheckReport> {
  const { target, files, workDir, signal } = options;
  const iterations = options.iterations ?? 20;
  const warmup = options.warmup ?? 2;
  const getSink = options.getSink ?? "file";
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const collect = options.collectGarbage ?? true;
  const meter = new Meter(target, options.sampleIntervalMs ?? 25, collect);
  const startedAt = new Date().toISOString();
  const records: IterationRecord[] = [];

  let client: BftpClient | null = null;
  const connect = async () => {
    client ??= await BftpClient.connect({
      hostname: target.hostname,
      port: target.port,
      ...target.connection,
    });
    return client;
  };
  const hangUp = () => {
    client?.close();
    client = null;
  };
  const onAbort = () => hangUp();
  signal?.addEventListener("abort", onAbort);

  const scratch = joinRemote(target.basePath, `bftp-check-${crypto.randomUUID().slice(0, 8)}`);
  const localPath = (remote: string) =>
    target.localRoot === null ? null : join(target.localRoot, ...remote.split("/"));

  try {
    await (await connect()).mkdir(scratch);
    for (const [index, file] of files.entries()) {
      const remote = joinRemote(scratch, file.name);
      const dest = join(workDir, `get-${index + 1}-${file.name.replace(/[\/\\]/g, "_")}`);
      for (let i = 1; i <= iterations && !signal?.aborted; i++) {
        const put = await transfer(file, "put", i, remote, null);
        // A transfer cut by the interruption did not fail: it is left out of the report.
        if (signal?.aborted && put.outcome === "error") break;
        records.push(put);
        options.onProgress?.({
          file,
          fileNumber: index + 1,
          fileCount: files.length,
          record: put,
          iterations,
        });
        if (signal?.aborted) break;
        const get = put.outcome === "error"
          ? skipped(file, i, "Not run: the PUT of this iteration failed")
          : await transfer(file, "get", i, remote, dest);
        if (signal?.aborted && get.outcome === "error") break;
        records.push(get);
        options.onProgress?.({
          file,
          fileNumber: index + 1,
          fileCount: files.length,
          record: get,
          iterations,
        });
      }
      await Deno.remove(dest).catch(() => {});
      if (signal?.aborted) break;
      try {
        await (await connect()).delete(remote);
      } catch (e) {
        if (!(e instanceof BftpError)) throw e;
        hangUp();
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await cleanUp();
  }

  return buildReport({
    tool: `bftp ${VERSION}`,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machine(),
    target: {
      description: target.description,
      embedded: target.localRoot !== null,
      serverMeasured: records.some((r) => r.serverCpu !== null),
    },
    settings: { iterations, warmup, getSink, thresholds },
    files: [...files],
    iterations: records,
    interrupted: signal?.aborted ?? false,
  });

  /** Removes the scratch folder and whatever is left in it; best effort. */
  async function cleanUp(): Promise<void> {
    try {
      const c = await connect();
      for (const entry of await c.list(scratch)) {
        if (entry.type === "file") await c.delete(joinRemote(scratch, entry.name));
      }
      await c.rmdir(scratch);
    } catch (e) {
      if (!(e instanceof BftpError)) throw e;
    } finally {
      if (client !== null) await client.quit();
      client = null;
    }
  }

  function skipped(file: CheckFile, iteration: number, error: string): IterationRecord {
    const now = sampleSelf();
    const server = target.sample();
    return {
      file: file.name,
      direction: "get",
      iteration,
      bytes: 0,
      seconds: 0,
      mbps: null,
      outcome: "error",
      error,
      expectedSha256: file.sha256,
      actualSha256: null,
      storedSha256: null,
      clientCpu: { user: 0, system: 0 },
      serverCpu: server === null ? null : { user: 0, system: 0 },
      clientRss: now.rssBytes,
      clientRssPeak: now.rssBytes,
      serverRss: server?.rssBytes ?? null,
      serverRssPeak: server?.rssBytes ?? null,
    };
  }

  /** One PUT or GET, measured and checked. */
  async function transfer(
    file: CheckFile,
    direction: Direction,
    iteration: number,
    remote: string,
    dest: string | null,
  ): Promise<IterationRecord> {
    let outcome: IterationRecord["outcome"] = "ok";
    let error: string | null = null;
    let actual: string | null = null;
    let stored: string | null = null;
    let bytes = 0;
    let local: Deno.FsFile | null = null;
    let measured: ReturnType<Meter["stop"]> | null = null;
    try {
      const c = await connect();
      if (direction === "put") {
        local = await Deno.open(file.path, { read: true });
        meter.start();
        const result = await c.put(remote, local, { size: file.size, onProgress: meter.tick });
        measured = meter.stop();
        bytes = result.size;
        // Outside the measured time: what the server has now, from its disk when it is ours.
        const onDisk = localPath(remote);
        stored = onDisk === null
          ? (await c.hash(remote)).sha256
          : (await hashLocalFile(onDisk)).sha256;
        // The hash the server confirmed is the session's checksum: SHA-256 only in a SHA-256 session.
        actual = result.checksum === "sha256" ? result.hash : stored;
      } else {
        local = dest !== null && getSink === "file"
          ? await Deno.open(dest, { write: true, create: true, truncate: true })
          : null;
        const sink = hashingSink(local);
        meter.start();
        try {
          await c.get(remote, sink.sink, { onProgress: meter.tick });
        } catch (e) {
          // The client's own check failed: the body arrived whole but not as sent.
          if (!(e instanceof IntegrityError)) throw e;
          measured = meter.stop();
          bytes = sink.bytes;
          actual = sink.digest();
          outcome = "mismatch";
          error = e.message;
          hangUp();
        }
        if (measured === null) {
          measured = meter.stop();
          bytes = sink.bytes;
          actual = sink.digest();
        }
      }
      if (outcome === "ok" && (actual !== file.sha256 || bytes !== file.size)) {
        outcome = "mismatch";
        error = `${bytes} bytes arrived with SHA-256 ${actual}, expected ${file.size} bytes ` +
          `with SHA-256 ${file.sha256}`;
      } else if (outcome === "ok" && stored !== null && stored !== file.sha256) {
        outcome = "mismatch";
        actual = stored;
        error = `The server stored a file with SHA-256 ${stored}, expected ${file.sha256}`;
      }
    } catch (e) {
      if (
        !(e instanceof BftpError || e instanceof Deno.errors.NotFound ||
          e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.ConnectionReset ||
          e instanceof Deno.errors.BrokenPipe)
      ) {
        throw e;
      }
      if (measured === null) {
        if (!meter.running) meter.start();
        measured = meter.stop();
      }
      outcome = "error";
      error = signal?.aborted ? "Interrupted" : messageOf(e);
      hangUp();
    } finally {
      local?.close();
    }
    const m = measured!;
    return {
      file: file.name,
      direction,
      iteration,
      bytes,
      mbps: outcome === "ok" && bytes > 0 && m.seconds > 0 ? bytes / m.seconds / 1e6 : null,
      outcome,
      error,
      expectedSha256: file.sha256,
      actualSha256: actual,
      storedSha256: stored,
      ...m,
    };
  }
}
