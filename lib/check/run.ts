/**
 * The iteration loop of `bftp check`: each file goes to the server (PUT)
 * and back (GET) a number of times over one session; every transfer is
 * timed, its CPU and memory cost sampled, and what arrived hashed and
 * compared with the source (measured_transfer.ts). The result is a
 * {@linkcode CheckReport}.
 *
 * {@linkcode runCheck} runs a `CheckRun`, an object that holds the run's
 * state (the session, the scratch folder, the records) with one method per
 * phase: make the scratch folder, check each file, clean up, report.
 *
 * @module
 */

import { join } from "../local_path.ts";
import { BftpClient } from "../client/client.ts";
import { joinRemote } from "../client/url.ts";
import { BftpError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { measureTransfer, skippedGet, type TransferContext } from "./measured_transfer.ts";
import { TransferMeter } from "./meter.ts";
import { buildReport } from "./overall.ts";
import type { CheckTarget } from "./target.ts";
import { PROBE_REQUESTS, probeRequests } from "./request_probe.ts";
import type {
  CheckFile,
  CheckReport,
  Direction,
  IterationRecord,
  RequestProbe,
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
  /**
   * GETs in each half of the request probe (see `request_probe.ts`); 0
   * measures no request apart.
   *
   * @default {PROBE_REQUESTS}
   */
  probeRequests?: number;
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

/** One run of a check: its settings, its session and what it recorded so far. */
class CheckRun implements TransferContext {
  readonly meter: TransferMeter;
  readonly getSink: "file" | "discard";
  readonly signal: AbortSignal | undefined;
  readonly #options: RunCheckOptions;
  readonly #target: CheckTarget;
  readonly #iterations: number;
  readonly #scratch: string;
  readonly #records: IterationRecord[] = [];
  readonly #probes: RequestProbe[] = [];
  #client: BftpClient | null = null;

  constructor(options: RunCheckOptions) {
    this.#options = options;
    this.#target = options.target;
    this.#iterations = options.iterations ?? 20;
    this.getSink = options.getSink ?? "file";
    this.signal = options.signal;
    this.meter = new TransferMeter({
      sampleServer: () => this.#target.sample(),
      intervalMs: options.sampleIntervalMs ?? 25,
      collectGarbage: options.collectGarbage ?? true,
    });
    const name = `bftp-check-${crypto.randomUUID().slice(0, 8)}`;
    this.#scratch = joinRemote(this.#target.basePath, name);
  }

  get #aborted(): boolean {
    return this.signal?.aborted ?? false;
  }

  /** Runs every file's iterations, then removes the scratch folder; returns the report. */
  async run(): Promise<CheckReport> {
    const startedAt = new Date().toISOString();
    const onAbort = () => this.hangUp();
    this.signal?.addEventListener("abort", onAbort);
    try {
      await (await this.connect()).mkdir(this.#scratch);
      for (const [index, file] of this.#options.files.entries()) {
        await this.#checkFile(file, index);
        if (this.#aborted) break;
      }
    } finally {
      this.signal?.removeEventListener("abort", onAbort);
      await this.#cleanUp();
    }
    return this.#report(startedAt);
  }

  /** The session, opened again when a failure dropped it. */
  async connect(): Promise<BftpClient> {
    this.#client ??= await BftpClient.connect({
      hostname: this.#target.hostname,
      port: this.#target.port,
      ...this.#target.connection,
    });
    return this.#client;
  }

  /** Drops the session. */
  hangUp(): void {
    this.#client?.close();
    this.#client = null;
  }

  /** The server's copy of `remote` on this machine, when the server is ours. */
  localPath(remote: string): string | null {
    const root = this.#target.localRoot;
    return root === null ? null : join(root, ...remote.split("/"));
  }

  /** A file's iterations; its remote copy is deleted afterwards. */
  async #checkFile(file: CheckFile, index: number): Promise<void> {
    const remote = joinRemote(this.#scratch, file.name);
    const dest = join(
      this.#options.workDir,
      `get-${index + 1}-${file.name.replace(/[\/\\]/g, "_")}`,
    );
    for (let i = 1; i <= this.#iterations && !this.#aborted; i++) {
      if (!(await this.#roundTrip(file, index, i, remote, dest))) break;
    }
    await Deno.remove(dest).catch(() => {});
    if (this.#aborted) return;
    try {
      const requests = this.#options.probeRequests ?? PROBE_REQUESTS;
      if (requests > 0 && this.#probes.length === 0 && this.#probed(file)) {
        const client = await this.connect();
        this.#probes.push(await probeRequests(client, file.name, remote, { requests }));
      }
      await (await this.connect()).delete(remote);
    } catch (e) {
      if (!(e instanceof BftpError)) throw e;
      this.hangUp();
    }
  }

  /**
   * Whether `file` is the one to measure a request with: under the speed
   * limit's size (its times are round trips), not empty, and on the server
   * (its last PUT landed).
   */
  #probed(file: CheckFile): boolean {
    const limit = { ...DEFAULT_THRESHOLDS, ...this.#options.thresholds }.minMbpsFileSize;
    const puts = this.#records.filter((r) => r.file === file.name && r.direction === "put");
    return file.size > 0 && file.size < limit && puts.at(-1)?.outcome === "ok";
  }

  /** One iteration: a PUT, then a GET of what was put. Returns false when interrupted. */
  async #roundTrip(
    file: CheckFile,
    index: number,
    iteration: number,
    remote: string,
    dest: string,
  ): Promise<boolean> {
    const step = (direction: Direction, to: string | null) =>
      measureTransfer(this, { file, direction, iteration, remote, dest: to });
    const put = await step("put", null);
    if (!this.#keep(put, file, index) || this.#aborted) return false;
    const get = put.outcome === "error"
      ? skippedGet(file, iteration, "Not run: the PUT of this iteration failed", this.meter)
      : await step("get", dest);
    return this.#keep(get, file, index);
  }

  /**
   * Records a transfer and tells the progress callback. A transfer cut by the
   * interruption did not fail: it is left out, and the answer is false.
   */
  #keep(record: IterationRecord, file: CheckFile, index: number): boolean {
    if (this.#aborted && record.outcome === "error") return false;
    this.#records.push(record);
    this.#options.onProgress?.({
      file,
      fileNumber: index + 1,
      fileCount: this.#options.files.length,
      record,
      iterations: this.#iterations,
    });
    return true;
  }

  /** Removes the scratch folder and whatever is left in it; best effort. */
  async #cleanUp(): Promise<void> {
    try {
      const c = await this.connect();
      for (const entry of await c.list(this.#scratch)) {
        if (entry.type === "file") await c.delete(joinRemote(this.#scratch, entry.name));
      }
      await c.rmdir(this.#scratch);
    } catch (e) {
      if (!(e instanceof BftpError)) throw e;
    } finally {
      if (this.#client !== null) await this.#client.quit();
      this.#client = null;
    }
  }

  #report(startedAt: string): CheckReport {
    const { files } = this.#options;
    // As the figures clamp it (at least one iteration counts), so the reports say what was done.
    const warmup = Math.max(0, Math.min(this.#options.warmup ?? 2, this.#iterations - 1));
    const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...this.#options.thresholds };
    return buildReport({
      tool: `bftp ${VERSION}`,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machine(),
      target: {
        description: this.#target.description,
        embedded: this.#target.localRoot !== null,
        serverMeasured: this.#records.some((r) => r.serverCpu !== null),
      },
      settings: { iterations: this.#iterations, warmup, getSink: this.getSink, thresholds },
      files: [...files],
      iterations: this.#records,
      requests: this.#probes,
      interrupted: this.#aborted,
    });
  }
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
  return await new CheckRun(options).run();
}
