/**
 * `bftp check`: a transfer quality-check plan as a command. Moves files of
 * several sizes to a BFTP server and back many times, checks every copy by
 * SHA-256, measures speed, CPU and memory, and exits 0 only when every copy
 * was identical and no threshold was crossed.
 *
 * @module
 */

import { dirname } from "../local_path.ts";
import { BftpError, IntegrityError, LocalIoError, localIoError, UsageError } from "../errors.ts";
import {
  CHECK_NAMES,
  type CheckFile,
  type CheckName,
  type CheckProgress,
  type CheckReport,
  type CheckTarget,
  DEFAULT_THRESHOLDS,
  formatTextReport,
  generateFile,
  parseSizeList,
  remoteTarget,
  renderHtmlReport,
  runCheck,
  spawnEmbeddedServer,
  startInProcessServer,
  type Thresholds,
  uniqueNames,
  userFile,
} from "../check/mod.ts";
import { DEFAULT_STALL_TIMEOUT } from "../client/client.ts";
import { parseBftpUrl } from "../client/url.ts";
import { formatBytes, parseSize } from "../bytes.ts";
import { type FlagValues, intFlag, numberFlag, parseFlags, secondsFlag } from "./args.ts";
import { QUIET_FLAG } from "./common_flags.ts";
import { clientShaping, CONNECTION_FLAGS, connectionHelp, connectionOptions } from "./session.ts";
import type { Command } from "./command.ts";
import { type CliIo, writeText } from "./io.ts";

const FLAGS = {
  sizes: { type: "string" },
  file: { type: "string", multiple: true },
  iterations: { type: "string" },
  warmup: { type: "string" },
  discard: { type: "boolean" },
  "max-cv": { type: "string" },
  "max-leak": { type: "string" },
  "max-server-leak": { type: "string" },
  "min-mbps": { type: "string" },
  "max-cpu": { type: "string" },
  "in-process": { type: "boolean" },
  "no-fsync": { type: "boolean" },
  json: { type: "string" },
  html: { type: "string" },
  ...QUIET_FLAG,
  ...CONNECTION_FLAGS,
} as const;

type CheckFlags = FlagValues<typeof FLAGS>;

const HELP = `Usage: bftp check [URL] [options]

Moves files to a BFTP server and back many times (each iteration a PUT, then
a GET of what was put) and checks that every copy is identical (SHA-256 of the
source against what arrived, both ways), that the speed is reasonable and
uniform, that CPU use is sane and that memory does not grow. Prints a table;
exits 0 only when every copy was identical and no threshold was crossed.

Without URL, bftp starts its own server (bftp serve, in a child process, on a
free loopback port, over a temporary folder) and tests the whole stack; the
server's CPU and memory are then measured too. With URL (bftp://HOST[:PORT]/DIR,
or bftps:// for a TLS server) it works in a scratch folder under DIR on that
server and removes it afterwards.

Files:
  --sizes LIST          generated files of random content (default
                        1KiB,1MiB,64MiB; "none" for none);
                        units B, KiB, MiB, GiB (or K, M, G), KB, MB, GB
  --file PATH           also check this file (repeatable)
  --iterations N        round trips per file (default 20)
  --warmup N            first iterations left out of speed and memory figures
                        (default 2)
  --discard             hash GET bodies and drop them (default: write them
                        to a local file)

Thresholds (crossing one fails the check):
  --max-cv X            coefficient of variation of MB/s after warm-up,
                        as 0.5 or 50%, for files of 1 MiB or more (default ${
  DEFAULT_THRESHOLDS.maxCv * 100
}%)
  --max-leak SIZE       client memory growth per iteration after warm-up
                        (default ${
  formatBytes(DEFAULT_THRESHOLDS.maxLeakPerIteration).replace(".0 ", "")
})
  --max-server-leak SIZE
                        server memory growth per iteration (default ${
  formatBytes(DEFAULT_THRESHOLDS.maxServerLeakPerIteration).replace(".0 ", "")
})
  --min-mbps N          lowest median MB/s for files of 1 MiB or more; 0 = none
                        (default ${DEFAULT_THRESHOLDS.minMbps})
  --max-cpu X           highest CPU share of wall time, client or server, as
                        1.5 or 150%; 0 = none (default: none)
  A check with too few samples after warm-up (${DEFAULT_THRESHOLDS.minSamplesForLeak} for memory, ${DEFAULT_THRESHOLDS.minSamplesForCv} for the CV) is
  reported "not measured", with the reason, and the verdict line says so.

Server and output:
  --in-process          run the embedded server in this process (faster to
                        start; its CPU and memory then cannot be told from
                        the client's)
  --no-fsync            the embedded server does not flush uploads to disk
  --json FILE           write every iteration's numbers and the verdicts as JSON
  --html FILE           write a self-contained HTML report with charts
  -q, --quiet           no progress line

${connectionHelp({ heads: false })}
  With no URL, --cacert, --fingerprint and --token do not apply.

Exit codes: 0 passed; 6 a copy differed or a transfer failed; 19 a threshold was
crossed; 130 interrupted; others as for every bftp command.

Examples:
  bftp check
  bftp check --sizes 1KiB,16MiB --iterations 50 --html report.html
  bftp check bftp://files.example:2121/tmp --file ./backup.tar --json check.json
  BFTP_TOKEN=s3cret bftp check bftps://files.example/tmp --fingerprint AB:CD:...`;

/** Reads `0.5` or `50%` as 0.5. */
function fractionFlag(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(v);
  if (!m) {
    throw new UsageError(`Invalid value "${v}" for --${name}: expected a number or a percentage`);
  }
  return Number(m[1]) / (m[2] ? 100 : 1);
}

function progressLine(io: CliIo) {
  const encoder = new TextEncoder();
  let shown = false;
  return {
    update(p: CheckProgress) {
      const r = p.record;
      const speed = r.mbps === null ? r.outcome : `${r.mbps.toFixed(r.mbps >= 100 ? 0 : 1)} MB/s`;
      const text = `check [${p.fileNumber}/${p.fileCount}] ${p.file.name}  ` +
        `${r.direction.toUpperCase()} ${r.iteration}/${p.iterations}  ${speed}`;
      shown = true;
      io.stderr.write(encoder.encode(`\r\x1b[K${text}`)).catch(() => {});
    },
    async clear() {
      if (shown) await writeText(io.stderr, "\r\x1b[K");
    },
  };
}

/** Fails unless `path` can be a report file: its folder exists, and it is not a folder itself. */
async function checkReportPath(path: string): Promise<void> {
  const folder = dirname(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(folder);
  } catch (e) {
    throw localIoError("write", path, e, { notFound: "folder not found" });
  }
  if (!info.isDirectory) {
    throw new LocalIoError(`Cannot write "${path}": "${folder}" is not a folder`);
  }
  const there = await Deno.stat(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return null;
    throw localIoError("write", path, e);
  });
  if (there?.isDirectory) throw new LocalIoError(`Cannot write "${path}": is a folder`);
  // Opening it is the only sure test (a read-only folder, /proc): an existing file is opened
  // without truncating it, a new one is made and removed again.
  try {
    const file = await Deno.open(path, { write: true, create: there === null });
    file.close();
    if (there === null) await Deno.remove(path);
  } catch (e) {
    throw localIoError("write", path, e);
  }
}

async function writeReportFile(path: string, text: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, text);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "folder not found"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Error
      ? e.message.replace(/ \(os error \d+\).*$/, "")
      : String(e);
    throw new LocalIoError(`Cannot write "${path}": ${why}`, { cause: e });
  }
}

/**
 * The error that ends a failed check: a mismatch or error names the first
 * file, direction, iteration and both hashes; otherwise the first threshold
 * crossed.
 */
function failureOf(report: CheckReport): BftpError {
  const [first, ...rest] = report.failures;
  if (first) {
    const more = rest.length ? ` (and ${rest.length} more)` : "";
    const what = first.outcome === "mismatch"
      ? `arrived different: expected sha256 ${first.expectedSha256}, got ${
        first.actualSha256 ?? "unknown"
      }`
      : `failed: ${first.message}`;
    return new IntegrityError(
      `Check failed: "${first.file}" ${first.direction.toUpperCase()} iteration ` +
        `${first.iteration} ${what}${more}`,
    );
  }
  const crossed = report.summaries.flatMap((s) =>
    Object.entries(s.verdicts).filter(([, v]) => v.status === "fail").map(([name, v]) =>
      // The check's name as the reports give it ("CPU", "client memory"), not its key.
      `"${s.file}" ${s.direction.toUpperCase()} ${CHECK_NAMES[name as CheckName]}: ${v.detail}`
    )
  );
  return new BftpError(
    "THRESHOLD",
    `Check failed: ${crossed[0] ?? "a threshold was crossed"}${
      crossed.length > 1 ? ` (and ${crossed.length - 1} more)` : ""
    }`,
  );
}

/** The thresholds, the defaults changed by the flags given. */
function thresholdsOf(values: CheckFlags): Thresholds {
  const leak = (v: string | undefined, fallback: number) =>
    v === undefined ? fallback : parseSize(v);
  return {
    ...DEFAULT_THRESHOLDS,
    maxCv: fractionFlag(values["max-cv"], "max-cv", DEFAULT_THRESHOLDS.maxCv),
    maxLeakPerIteration: leak(values["max-leak"], DEFAULT_THRESHOLDS.maxLeakPerIteration),
    maxServerLeakPerIteration: leak(
      values["max-server-leak"],
      DEFAULT_THRESHOLDS.maxServerLeakPerIteration,
    ),
    minMbps: numberFlag(values["min-mbps"], "min-mbps", DEFAULT_THRESHOLDS.minMbps),
    maxCpuShare: fractionFlag(values["max-cpu"], "max-cpu", DEFAULT_THRESHOLDS.maxCpuShare),
  };
}

/** The flags that go only with a URL, or only without one. */
function checkTargetFlags(values: CheckFlags, url: string | undefined): void {
  if (url !== undefined && (values["in-process"] || values["no-fsync"])) {
    throw new UsageError("--in-process and --no-fsync are for the embedded server (no URL)");
  }
  if (url === undefined) {
    const given = (["cacert", "fingerprint", "token"] as const).find((n) =>
      values[n] !== undefined
    );
    if (given) throw new UsageError(`--${given} is for a server given by URL`);
  }
}

/** The `check` subcommand. */
export const checkCommand: Command = {
  name: "check",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, FLAGS);
    if (positionals.length > 1) throw new UsageError(`Too many arguments: "${positionals[1]}"`);
    const url = positionals[0];
    const sizes = parseSizeList(values.sizes ?? "1KiB,1MiB,64MiB");
    const paths = values.file;
    if (sizes.length === 0 && paths.length === 0) {
      throw new UsageError("Nothing to check: give --sizes or --file");
    }
    const iterations = intFlag(values.iterations, "iterations", 20);
    if (iterations < 1) throw new UsageError('Invalid value "0" for --iterations: at least 1');
    const warmup = intFlag(values.warmup, "warmup", 2);
    const thresholds = thresholdsOf(values);
    checkTargetFlags(values, url);
    if (values.head.length > 0 || (url !== undefined && parseBftpUrl(url).heads.length > 1)) {
      throw new UsageError("check measures one server: give one HOST[:PORT], not several heads");
    }
    const connection = url === undefined
      ? undefined
      : await connectionOptions(parseBftpUrl(url), values, io);
    const stallTimeout = secondsFlag(values.timeout, "timeout", DEFAULT_STALL_TIMEOUT);
    const { json: jsonPath, html: htmlPath } = values;
    // A report that cannot be written is found out now, not after the whole run.
    for (const path of [jsonPath, htmlPath]) if (path !== undefined) await checkReportPath(path);
    const showProgress = io.stderrIsTerminal && !values.quiet;

    const workDir = await Deno.makeTempDir({ prefix: "bftp-check-" });
    let target: CheckTarget | null = null;
    let report: CheckReport;
    const progress = progressLine(io);
    try {
      const files: CheckFile[] = [];
      for (const path of paths) files.push(await userFile(path));
      for (const size of sizes) files.push(await generateFile(workDir, size, io.signal));
      // -v, --checksum and --limit-rate shape the client whichever server it measures.
      const client = clientShaping(values, io);
      const embedded = { fsync: !values["no-fsync"], stallTimeout, client };
      target = url !== undefined
        ? remoteTarget(url, connection)
        : values["in-process"]
        ? await startInProcessServer(embedded)
        : await spawnEmbeddedServer(embedded);
      report = await runCheck({
        target,
        files: uniqueNames(files),
        workDir,
        iterations,
        warmup,
        getSink: values.discard ? "discard" : "file",
        thresholds,
        signal: io.signal,
        ...(showProgress ? { onProgress: progress.update } : {}),
      });
    } finally {
      await progress.clear();
      await target?.close();
      await Deno.remove(workDir, { recursive: true }).catch(() => {});
    }
    await writeText(io.stdout, formatTextReport(report));
    if (jsonPath !== undefined) {
      await writeReportFile(jsonPath, JSON.stringify(report, null, 2) + "\n");
    }
    if (htmlPath !== undefined) await writeReportFile(htmlPath, renderHtmlReport(report));
    if (report.interrupted) throw new BftpError("INTERRUPTED", "Interrupted");
    if (!report.passed) throw failureOf(report);
    return 0;
  },
};
