/**
 * Fabricated check data for report tests: iteration records with chosen
 * speeds, memory and outcomes, and whole reports built from them by the
 * real {@linkcode buildReport}, with no server and no timing.
 *
 * @module
 */

import { buildReport } from "../../lib/check/overall.ts";
import type {
  CheckFile,
  CheckReport,
  Direction,
  IterationRecord,
  Outcome,
  Thresholds,
} from "../../lib/check/types.ts";
import { DEFAULT_THRESHOLDS } from "../../lib/check/verdict.ts";

export const MiB = 1048576;
export const SHA = "a".repeat(64);

/** A generated file of `size` bytes, named after its size unless `name` is given. */
export function fileOf(size: number, name = `${size}.bin`): CheckFile {
  return { name, path: `/tmp/${name}`, size, sha256: SHA, origin: "generated" };
}

/** Options for {@linkcode fabricatedRecords}. */
export interface RecordOptions {
  /** PUT or GET. @default {"get"} */
  direction?: Direction;
  /** The client's RSS after each iteration. @default {50 MiB each} */
  rss?: readonly number[];
  /** How each iteration ended. @default {all "ok"} */
  outcomes?: readonly Outcome[];
  /** The server's RSS after each iteration; `null` when the server is not measured. @default {null} */
  serverRss?: readonly number[] | null;
}

/** One record per speed (MB/s), with the given memory series and outcomes. */
export function fabricatedRecords(
  file: CheckFile,
  speeds: readonly number[],
  options: RecordOptions = {},
): IterationRecord[] {
  const rss = options.rss ?? speeds.map(() => 50 * MiB);
  const outcomes = options.outcomes ?? speeds.map((): Outcome => "ok");
  const serverRss = options.serverRss ?? null;
  return speeds.map((mbps, i) => {
    const seconds = mbps > 0 ? file.size / (mbps * 1e6) : 0.001;
    return {
      file: file.name,
      direction: options.direction ?? "get",
      iteration: i + 1,
      bytes: outcomes[i] === "error" ? 0 : file.size,
      seconds,
      mbps: outcomes[i] === "ok" && file.size > 0 ? mbps : null,
      outcome: outcomes[i]!,
      error: outcomes[i] === "ok" ? null : "fabricated",
      expectedSha256: SHA,
      actualSha256: outcomes[i] === "mismatch" ? "b".repeat(64) : SHA,
      storedSha256: null,
      clientCpu: { user: seconds * 0.3, system: seconds * 0.2 },
      serverCpu: serverRss === null ? null : { user: seconds * 0.1, system: seconds * 0.1 },
      clientRss: rss[i]!,
      clientRssPeak: rss[i]! + MiB,
      serverRss: serverRss?.[i] ?? null,
      serverRssPeak: serverRss === null ? null : serverRss[i]! + 2 * MiB,
    };
  });
}

/** Options for {@linkcode fabricatedReport}. */
export interface ReportOptions {
  /** The files' sizes. @default {[1024, MiB]} */
  sizes?: readonly number[];
  /** Iterations per file. @default {3} */
  iterations?: number;
  /** Warm-up iterations. @default {2} */
  warmup?: number;
  /** Whether the server's CPU and memory are measured. @default {true} */
  serverMeasured?: boolean;
  /** Limits other than the defaults. */
  thresholds?: Partial<Thresholds>;
  /** How each iteration ended, the same for every file and direction. @default {all "ok"} */
  outcomes?: readonly Outcome[];
  /** The MB/s of iteration `i` (from 0). @default {steady speeds near 400} */
  speed?: (i: number) => number;
}

/**
 * A whole report, built by the real {@linkcode buildReport} from fabricated
 * records: flat memory, steady speeds, both directions of every file.
 */
export function fabricatedReport(options: ReportOptions = {}): CheckReport {
  const iterations = options.iterations ?? 3;
  const measured = options.serverMeasured ?? true;
  const files = (options.sizes ?? [1024, MiB]).map((size) => fileOf(size));
  const speed = options.speed ?? ((i: number) => 400 + (i % 3));
  const speeds = Array.from({ length: iterations }, (_, i) => speed(i));
  const records = files.flatMap((file) =>
    (["put", "get"] as const).flatMap((direction) =>
      fabricatedRecords(file, speeds, {
        direction,
        ...(options.outcomes ? { outcomes: options.outcomes } : {}),
        serverRss: measured ? speeds.map(() => 60 * MiB) : null,
      })
    )
  );
  return buildReport({
    tool: "bftp test",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:01:00.000Z",
    machine: { os: "linux", arch: "x86_64", cpus: 2, cpuModel: null, deno: "2" },
    target: {
      description: measured ? "embedded: fabricated" : "bftp://fabricated/",
      embedded: measured,
      serverMeasured: measured,
    },
    settings: {
      iterations,
      warmup: options.warmup ?? 2,
      getSink: "file",
      thresholds: { ...DEFAULT_THRESHOLDS, ...options.thresholds },
    },
    files,
    iterations: records,
    interrupted: false,
  });
}
