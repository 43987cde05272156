// deno-lint-ignore-file no-console
/**
 * The sync benchmark (issue 12): a tree of 5,000 files of 4 KiB in 50
 * folders plus 20 files of 16 MiB, mirrored over loopback by `bftp sync`
 * against `bftp serve` and, in the same run, by `rsync -a --delete` against
 * an rsync daemon, each way: a first sync into an empty folder, a re-sync
 * with nothing changed, and a re-sync after 10 small and 2 large files
 * changed, 5 deleted and 5 added. Every step's copy is compared with the
 * source (`diff -r`); a copy that differs is a failed run, not a number.
 * Prints a markdown section. Run by `scripts/bench` (part `sync`).
 *
 * Environment: BENCH_FILES (default 5000), BENCH_FOLDERS (default 50),
 * BENCH_SYNC_BIG (default 20 files of 16 MiB), BENCH_RUNS (default 3),
 * BENCH_TREE_DIR (where the trees go; default the temporary folder).
 *
 * @module
 */

import { againstServer, type Measured, timed } from "./bench_measure.ts";
import { cell, machineLine, median, pairedRatio } from "./bench_report.ts";
import { BFTP, retireTreeDir, settleDisk, startBftpServer, treeDir } from "./bench_setup.ts";
import { startRsyncd } from "./bench_rsyncd.ts";
import { makeTree } from "./bench_tree_files.ts";

const files = Number(Deno.env.get("BENCH_FILES") ?? 5000);
const folders = Math.min(files, Number(Deno.env.get("BENCH_FOLDERS") ?? 50));
const bigFiles = Number(Deno.env.get("BENCH_SYNC_BIG") ?? 20);
const runs = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const SMALL = 4096;
const BIG = 16 * 1024 * 1024;
const STEPS = ["first sync", "nothing changed", "12 changed, 5 deleted, 5 added"] as const;
type Step = typeof STEPS[number];
type Direction = "push" | "pull";
type Tool =
  | "bftp sync --delete"
  | "bftp sync --delete, serve --no-fsync"
  | "rsync -a --delete"
  | "rsync -a --delete --fsync";

/** The rsync that makes a push's files as durable as bftp's server does (fsync before rename). */
const RSYNC_FSYNC: Tool = "rsync -a --delete --fsync";
/** bftp pushing to a server that does not flush, like the plain rsync daemon. */
const BFTP_NO_FSYNC: Tool = "bftp sync --delete, serve --no-fsync";
/** The tools that only push: what they change is how the server's side lands. */
const PUSH_ONLY: readonly Tool[] = [RSYNC_FSYNC, BFTP_NO_FSYNC];

/** One step's measures, with what the tool said it moved. */
interface Sample extends Measured {
  /** Files sent (bftp's JSON report; rsync: -). */
  sent?: number;
  /** Bytes: bftp's file bodies, rsync's bytes over the wire (--stats). */
  bytes: number;
  /** The round it was measured in, from 1. */
  round: number;
}

/** The measured runs of one tool, one direction, one step. */
interface Cell {
  samples: Sample[];
  failures: string[];
}

const key = (tool: Tool, direction: Direction, step: Step) => `${tool}|${direction}|${step}`;

/** Writes `count` files of 16 MiB into `dir`, each different from the others. */
async function makeBigFiles(dir: string, count: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const buf = new Uint8Array(BIG);
  for (let at = 0; at < BIG; at += 65536) crypto.getRandomValues(buf.subarray(at, at + 65536));
  for (let i = 0; i < count; i++) {
    crypto.getRandomValues(buf.subarray(0, 64));
    await Deno.writeFile(`${dir}/b${String(i).padStart(2, "0")}.bin`, buf);
  }
}

/** The name makeTree gives file `i`. */
function smallName(i: number): string {
  return `d${String(i % folders).padStart(3, "0")}/f${String(i).padStart(5, "0")}.bin`;
}

/** The third step's changes to `tree`: 10 small and 2 large files rewritten, 5 deleted, 5 added. */
async function mutate(tree: string): Promise<void> {
  const small = new Uint8Array(SMALL);
  const step = Math.max(1, Math.floor(files / 10));
  for (let n = 0; n < 10 && n * step < files; n++) {
    crypto.getRandomValues(small);
    await Deno.writeFile(`${tree}/${smallName(n * step)}`, small);
  }
  const patch = new Uint8Array(1024 * 1024);
  for (let at = 0; at < patch.length; at += 65536) {
    crypto.getRandomValues(patch.subarray(at, at + 65536));
  }
  for (const i of [0, Math.floor(bigFiles / 2)].slice(0, Math.min(2, bigFiles))) {
    // One MiB rewritten in the middle, in place: the size stays, the time moves.
    using file = await Deno.open(`${tree}/big/b${String(i).padStart(2, "0")}.bin`, { write: true });
    await file.seek(BIG / 2, Deno.SeekMode.Start);
    await file.write(patch);
  }
  for (let n = 0; n < 5; n++) await Deno.remove(`${tree}/${smallName(n * step + 1)}`);
  for (let n = 0; n < 5; n++) {
    crypto.getRandomValues(small);
    await Deno.writeFile(`${tree}/d${String(n % folders).padStart(3, "0")}/new${n}.bin`, small);
  }
}

/** Fails unless `a` and `b` hold the same names and bytes (`diff -r`). */
async function sameTrees(a: string, b: string): Promise<void> {
  const out = await new Deno.Command("diff", { args: ["-rq", a, b], stdout: "piped" }).output();
  if (!out.success) {
    const first = new TextDecoder().decode(out.stdout).split("\n")[0];
    throw new Error(`the copy differs: ${first}`);
  }
}

/** Runs a command that must succeed, untimed. */
async function run(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** What a step's command printed: bftp's JSON report or rsync's --stats. */
async function moved(tool: Tool, direction: Direction, stdout: string) {
  const text = await Deno.readTextFile(stdout);
  if (tool.startsWith("bftp")) {
    const report = JSON.parse(text) as { sent: number; bytes: number };
    return { sent: report.sent, bytes: report.bytes };
  }
  // Pull: the data came in; push: it went out.
  const label = direction === "pull" ? "Total bytes received" : "Total bytes sent";
  const match = new RegExp(`${label}: ([\\d,]+)`).exec(text);
  return { bytes: Number(match?.[1]?.replaceAll(",", "") ?? NaN) };
}

/** The command for one sync by `tool`, `direction`: from `work` or into `dest`. */
function syncCommand(
  tool: Tool,
  direction: Direction,
  ends: { work: string; dest: string; serverUrl: string; rsyncUrl: string },
): string[] {
  const { work, dest, serverUrl, rsyncUrl } = ends;
  if (tool.startsWith("bftp")) {
    const sync = [BFTP, "sync", "--delete", "--json"];
    return direction === "pull"
      ? [...sync, `${serverUrl}/work`, dest]
      : [...sync, work, `${serverUrl}/dest`];
  }
  const rsync = [
    "rsync",
    "-a",
    "--delete",
    "--stats",
    ...(tool === RSYNC_FSYNC ? ["--fsync"] : []),
  ];
  return direction === "pull"
    ? [...rsync, `${rsyncUrl}/src/`, `${dest}/`]
    : [...rsync, `${work}/`, `${rsyncUrl}/out/dest/`];
}

/**
 * Warms a bftp server as a daemon's code soon is (the rsync daemon has
 * nothing to warm): one untimed sync of the base tree's small files, the
 * large ones left out, into a new `warm-DIRECTION-…` (pull: beside the
 * trees; push: in the server's root), kept until the run ends.
 */
async function warmUp(url: string, direction: Direction, dir: string): Promise<void> {
  const sync = [BFTP, "sync", "-q", "--exclude", "big/"];
  const folder = `warm-${direction}-${crypto.randomUUID().slice(0, 8)}`;
  const cmd = direction === "pull"
    ? [...sync, `${url}/base`, `${dir}/${folder}`]
    : [...sync, `${dir}/base`, `${url}/${folder}`];
  const t = await timed(cmd);
  console.error(`bench-sync: warmed the server (${t.seconds.toFixed(2)} s, untimed)`);
}

/**
 * One tool, one direction, the three steps: a fresh copy of the base tree
 * as the source and an empty target; for bftp a server started for it
 * (pull: serving the folder above the source; push: the folder above the
 * target) that stays up through the steps, as a real one would, and is
 * warmed first by an untimed sync of the small files into a folder of its
 * own (see {@linkcode warmUp}).
 */
async function series(
  dir: string,
  tool: Tool,
  direction: Direction,
  rsyncUrl: string,
  cells: Map<string, Cell>,
  round: number,
): Promise<void> {
  const base = `${dir}/base`, work = `${dir}/work`, out = `${dir}/out`, dest = `${dir}/out/dest`;
  await run("cp", "-a", base, work);
  const server = tool.startsWith("bftp")
    ? await startBftpServer(
      direction === "pull" ? dir : out,
      tool === BFTP_NO_FSYNC ? ["--no-fsync"] : [],
    )
    : undefined;
  const stdout = await Deno.makeTempFile();
  try {
    const cmd = syncCommand(tool, direction, {
      work,
      dest,
      serverUrl: server?.url ?? "",
      rsyncUrl,
    });
    if (server) await warmUp(server.url, direction, dir);
    for (const step of STEPS) {
      const cell = cells.get(key(tool, direction, step))!;
      if (step === STEPS[2]) await mutate(work);
      await settleDisk();
      try {
        const t = server
          ? await againstServer(server, cmd, { stdout })
          : await timed(cmd, { stdout });
        await sameTrees(work, dest);
        const m = await moved(tool, direction, stdout);
        cell.samples.push({ ...t, ...m, round });
        console.error(
          `bench-sync: ${tool}, ${direction}, ${step}: ${t.seconds.toFixed(2)} s, ${m.bytes} bytes`,
        );
      } catch (e) {
        cell.failures.push(e instanceof Error ? e.message.slice(0, 300) : String(e));
        console.error(`bench-sync: ${tool}, ${direction}, ${step} FAILED: ${cell.failures.at(-1)}`);
      }
    }
  } finally {
    await server?.stop();
    await Deno.remove(stdout);
    // Set aside, not deleted, until the whole run ends: on ext4 files created soon after thousands
    // were deleted cost several times more, which would load the next series' first sync.
    const spent = await Deno.makeTempDir({ dir, prefix: "spent-" });
    await Deno.rename(work, `${spent}/work`);
    await Deno.rename(dest, `${spent}/dest`).catch(() => {});
  }
}

/** The table: a row per direction and step, bftp and rsync side by side. */
function table(cells: Map<string, Cell>): string[] {
  const lines: string[] = [];
  for (const direction of ["push", "pull"] as const) {
    for (const step of STEPS) {
      lines.push(row(cells, direction, step, "bftp sync --delete"));
    }
  }
  for (const step of STEPS) lines.push(row(cells, "push", step, BFTP_NO_FSYNC));
  return [
    "| direction | step | bftp s | rsync s | ratio | rsync --fsync s | ratio to --fsync | bftp files sent | bftp MiB (file bodies) | rsync MiB (wire) | bftp client CPU s | bftp server CPU s | rsync client CPU s | failed runs |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...lines,
  ];
}

/**
 * One row: `bftp`'s step beside plain rsync's, and beside rsync --fsync's
 * for a push to a server that flushes.
 */
function row(cells: Map<string, Cell>, direction: Direction, step: Step, bftp: Tool): string {
  const secs = (c: Cell) => c.samples.length > 0 ? median(c.samples.map((s) => s.seconds)) : NaN;
  const fmt = (x: number, digits = 2) => Number.isNaN(x) ? "-" : x.toFixed(digits);
  const mib = (c: Cell) =>
    c.samples.length > 0 ? fmt(median(c.samples.map((s) => s.bytes)) / 1048576, 1) : "-";
  const b = cells.get(key(bftp, direction, step))!;
  const r = cells.get(key("rsync -a --delete", direction, step))!;
  const f = bftp === BFTP_NO_FSYNC ? undefined : cells.get(key(RSYNC_FSYNC, direction, step));
  const sent = b.samples.length > 0 ? String(median(b.samples.map((s) => s.sent ?? 0))) : "-";
  const cpu = (c: Cell, f: (s: Sample) => number | undefined) =>
    c.samples.length > 0 ? fmt(median(c.samples.map((s) => f(s) ?? 0))) : "-";
  const failed = b.failures.length + r.failures.length + (f?.failures.length ?? 0);
  // Each round's bftp against the same round's rsync (see pairedRatio).
  const byRound = (c: Cell) =>
    Array.from({ length: runs }, (_, i) => c.samples.find((s) => s.round === i + 1)?.seconds);
  const ratio = (base: Cell) => fmt(pairedRatio(byRound(base), byRound(b)));
  const durable = f ? `${fmt(secs(f))} | ${ratio(f)}` : "- | -";
  const label = bftp === BFTP_NO_FSYNC ? `${direction}, serve --no-fsync` : direction;
  return `| ${label} | ${cell(step)} | ${fmt(secs(b))} | ${fmt(secs(r))} | ${
    ratio(r)
  } | ${durable} | ${sent} | ${mib(b)} | ${mib(r)} | ${cpu(b, (s) => s.cpuSeconds)} | ${
    cpu(b, (s) => s.serverCpu)
  } | ${cpu(r, (s) => s.cpuSeconds)} | ${
    failed === 0 ? "0" : `${failed} of ${(f ? 3 : 2) * runs}`
  } |`;
}

async function main() {
  const dir = await treeDir("sync");
  await Deno.mkdir(`${dir}/out`);
  const rsyncd = await startRsyncd(dir, `${dir}/work`, `${dir}/out`);
  const cells = new Map<string, Cell>();
  // Each bftp series beside the rsync it is compared with: a push to a --no-fsync server and
  // rsync's, then the fsyncing ones.
  const tools: Tool[] = [BFTP_NO_FSYNC, "rsync -a --delete", "bftp sync --delete", RSYNC_FSYNC];
  // rsync --fsync and a --no-fsync server only push: a pull's files land on this side, unflushed
  // by either tool.
  const directionsOf = (tool: Tool): Direction[] =>
    PUSH_ONLY.includes(tool) ? ["push"] : ["push", "pull"];
  for (const tool of tools) {
    for (const direction of directionsOf(tool)) {
      for (const step of STEPS) {
        cells.set(key(tool, direction, step), { samples: [], failures: [] });
      }
    }
  }
  try {
    console.error(
      `bench-sync: writing ${files} files of 4 KiB in ${folders} folders and ${bigFiles} of 16 MiB`,
    );
    await makeTree(`${dir}/base`, files, folders, SMALL);
    await makeBigFiles(`${dir}/base/big`, bigFiles);
    for (let r = 1; r <= runs; r++) {
      for (const direction of ["push", "pull"] as const) {
        for (const tool of tools.filter((t) => directionsOf(t).includes(direction))) {
          await series(dir, tool, direction, rsyncd.url, cells, r);
        }
      }
    }
    const failures = [...cells].flatMap(([k, c]) => c.failures.map((f) => `- ${cell(k)}: ${f}`));
    console.log([
      `## sync: ${
        files.toLocaleString("en-US")
      } files of 4 KiB and ${bigFiles} of 16 MiB, median of ${runs} runs`,
      "",
      `Machine: ${await machineLine()}. Over loopback (127.0.0.1).`,
      "Each run, each way and each tool starts from a fresh copy of one tree (`cp -a`) and an empty target,",
      "then times three syncs one after the other: the first, one with nothing changed, and one after 10",
      "small files and 2 large ones (1 MiB rewritten in the middle of each) changed, 5 small files deleted",
      "and 5 added. Push: the local tree is the source and the server's folder the target; pull: the other",
      "way. After every sync the target is compared with the source (`diff -r`, outside the timing). bftp:",
      "`bftp sync --delete --json` against a `bftp serve` (fsync before rename) that stays up through the",
      "three steps, warmed first (as a daemon's code soon is) by an untimed sync of the small files into",
      "a folder of its own; rsync: `rsync -a --delete --stats` against an rsync daemon, and for the push, whose",
      "files bftp's server flushes before it renames them, `--fsync` too, the rsync as durable; the rows",
      "`push, serve --no-fsync` push to a bftp server that does not flush, like the plain rsync. Ratios:",
      "rsync's time over bftp's (above 1.00 = bftp faster). Both send only the changed blocks of a large",
      "file (bftp: blocks compared in place, BLOCKS; rsync: its rolling delta), which the MiB columns show",
      "(bftp: file bodies and changed blocks; rsync: the wire). Times are whole client processes, start-up",
      "included; a time is the median of the runs, and a ratio the median over the rounds of the two",
      "tools' times in the same round (this VM's disk can slow every tool twofold from one round to the",
      "next, and a ratio of the medians would set one tool's fast round against the other's slow one).",
      "",
      ...table(cells),
      ...(failures.length > 0 ? ["", "Failed runs:", ...failures] : []),
      "",
    ].join("\n"));
  } finally {
    await rsyncd.stop();
    await retireTreeDir(dir);
  }
}

if (import.meta.main) await main();
