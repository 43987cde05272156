// deno-lint-ignore-file no-console
/**
 * The many-small-files benchmark: a tree of 4 KiB files (5,000 in 50
 * folders) pulled and pushed over loopback by `bftp get -r` / `put -r`
 * against `bftp serve`, and in the same run by an rsync daemon, `tar | nc`,
 * and `scp -r` / `sftp` against a local sshd (skipped with a note when
 * sshd cannot start). Every copy is checked byte for byte against the
 * source; a copy that differs is a failed run, not a number. Prints a
 * markdown section (files/s, ratio to rsync). Run by `scripts/bench`.
 *
 * Environment: BENCH_FILES (default 5000), BENCH_FOLDERS (default 50),
 * BENCH_TREE_RUNS (rounds; default BENCH_RUNS, else 5: the tree's copies
 * are the noisiest rows, and a round's ratio hangs on the disk's moment),
 * BENCH_TREE_DIR (where the trees go; default the system's temporary
 * folder).
 *
 * @module
 */

import { againstServer, type Measured, timed } from "./bench_measure.ts";
import { cell, machineLine, median, pairedRatio } from "./bench_report.ts";
import {
  BFTP,
  freePort,
  retireTreeDir,
  settleDisk,
  startBftpServer,
  treeDir,
  waitForPort,
  waitForQuickCreates,
} from "./bench_setup.ts";
import { startRsyncd } from "./bench_rsyncd.ts";
import { basename, dirname } from "node:path";
import { makeTree, sameTree } from "./bench_tree_files.ts";
import { type RunningSshd, startSshd } from "./bench_sshd.ts";

const bftp = BFTP;
const files = Number(Deno.env.get("BENCH_FILES") ?? 5000);
const folders = Math.min(files, Number(Deno.env.get("BENCH_FOLDERS") ?? 50));
const runs = Number(Deno.env.get("BENCH_TREE_RUNS") ?? Deno.env.get("BENCH_RUNS") ?? 5);
const FILE_BYTES = 4096;

/** One tool's measured runs, in one direction. */
interface Row {
  name: string;
  direction: "pull" | "push" | "local";
  /** The row its ratio is against, when not rsync's plain row of its direction. */
  baseline?: string | undefined;
  seconds: number[];
  /** The same by round (`undefined`: that round's copy failed), for ratios within a round. */
  byRound: (number | undefined)[];
  clientRssKiB: number[];
  serverRssKiB: number[];
  clientCpu: number[];
  serverCpu: number[];
  failures: string[];
}

/** `tar c | nc` into `nc -l | tar x`: the time until the receiver has unpacked the last file. */
async function tarNc(src: string, dest: string) {
  await Deno.mkdir(dest, { recursive: true });
  const port = freePort();
  const receiver = new Deno.Command("bash", {
    args: ["-c", `nc -l 127.0.0.1 ${port} | tar x -C '${dest}'`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForPort(port);
  const started = performance.now();
  const sent = await timed(["bash", "-c", `tar c -C '${src}' . | nc -N 127.0.0.1 ${port}`]);
  const status = await receiver.status;
  if (!status.success) throw new Error(`nc | tar x failed (exit ${status.code})`);
  return { ...sent, seconds: (performance.now() - started) / 1000 };
}

/** The rows of one run, each a command to time and the folder its copy lands in. */
interface Case {
  name: string;
  direction: Row["direction"];
  /** The row its ratio is against, when not rsync's plain row of its direction. */
  baseline?: string;
  /** Runs the copy into `dest` (which does not exist yet); returns the measures. */
  run(dest: string): Promise<Measured>;
  /** Where the copy is checked: `dest` itself, or a folder the server wrote. */
  copyOf?(dest: string): string;
  /** Makes ready before the row's first run, untimed (starts and warms its server). */
  prepare?(): Promise<void>;
  /** Ends the row once all its runs are over (stops its server). */
  close?(): Promise<void>;
}

/**
 * A bftp server kept up through a row's runs, as the rsync daemon is through
 * the whole section, and warmed by one untimed copy before the first (its
 * code optimized, as a daemon's soon is); the rows "server fresh each run"
 * start one for each copy instead, to show what that costs.
 */
function keptServer(root: string, extra: string[], warmUp: (url: string) => string[]) {
  let server: Awaited<ReturnType<typeof startBftpServer>> | null = null;
  const up = async () => server ??= await startBftpServer(root, extra);
  return {
    /** Times the command `cmd` gives for the server's URL. */
    against: async (cmd: (url: string) => string[]) => {
      const ready = await up();
      return await againstServer(ready, cmd(ready.url));
    },
    prepare: async () => {
      const ready = await up();
      const t = await timed(warmUp(ready.url));
      console.error(`bench-tree: warmed a server (${t.seconds.toFixed(2)} s, untimed)`);
    },
    close: async () => {
      await server?.stop();
      server = null;
    },
  };
}

/** Times the command `cmd` gives against a server started for it (untimed), then stopped. */
async function againstFresh(root: string, extra: string[], cmd: (url: string) => string[]) {
  const server = await startBftpServer(root, extra);
  try {
    return await againstServer(server, cmd(server.url));
  } finally {
    await server.stop();
  }
}

function cases(src: string, out: string, rsyncUrl: string, sshd: RunningSshd | null): Case[] {
  // Pull: the server's root is the folder above `src` (whose copies land in `out`, beside it).
  const pull = (
    url: string,
    dest: string,
  ) => [bftp, "get", "-r", "-q", `${url}/${basename(src)}`, dest];
  const freshPull = (dest: string) => againstFresh(dirname(src), [], (url) => pull(url, dest));
  const keptPull = keptServer(dirname(src), [], (url) => pull(url, `${out}/warm-pull`));
  // Push: the tree lands in "tree" of a fresh folder; a kept server's root is `out`, with the
  // runs' folders in it, a fresh one's the run's folder itself.
  const push = (
    url: string,
    folder: string,
  ) => [bftp, "put", "-r", "-q", src, `${url}/${folder}tree`];
  const freshPush = async (dest: string) => {
    await Deno.mkdir(dest);
    return await againstFresh(dest, ["--no-fsync"], (url) => push(url, ""));
  };
  const keptPush = (extra: string[]) => {
    const kept = keptServer(out, extra, (url) => push(url, `warm${extra.join("")}/`));
    return {
      ...kept,
      run: async (dest: string) => {
        await Deno.mkdir(dest);
        return await kept.against((url) => push(url, `${basename(dest)}/`));
      },
    };
  };
  const fsyncing = keptPush([]), notFsyncing = keptPush(["--no-fsync"]);
  // The daemon's module "out" is `out`; `dest` is a fresh folder inside it.
  const rsyncPush = (extra: string[]) => (dest: string) =>
    timed(["rsync", "-a", ...extra, `${src}/`, `${rsyncUrl}/out/${dest.slice(out.length + 1)}/`]);
  const list: Case[] = [
    {
      name: "bftp get -r",
      direction: "pull",
      run: (dest) => keptPull.against((url) => pull(url, dest)),
      prepare: keptPull.prepare,
      close: keptPull.close,
    },
    {
      name: "bftp put -r (server fsyncs before rename)",
      direction: "push",
      // Each against the rsync that makes its files as durable: rsync's --fsync.
      baseline: RSYNC_FSYNC,
      ...fsyncing,
      copyOf: (d) => `${d}/tree`,
    },
    {
      name: "bftp put -r (serve --no-fsync)",
      direction: "push",
      ...notFsyncing,
      copyOf: (d) => `${d}/tree`,
    },
    { name: "bftp get -r, server fresh each run", direction: "pull", run: freshPull },
    {
      name: "bftp put -r (serve --no-fsync), server fresh each run",
      direction: "push",
      run: freshPush,
      copyOf: (d) => `${d}/tree`,
    },
    {
      name: "rsync -a from an rsync daemon",
      direction: "pull",
      run: (dest) => timed(["rsync", "-a", `${rsyncUrl}/src/`, `${dest}/`]),
    },
    { name: "rsync -a to an rsync daemon", direction: "push", run: rsyncPush([]) },
    // The daemon fsyncs each file it writes (5,000 fsync calls, strace says; not its folders).
    { name: RSYNC_FSYNC, direction: "push", run: rsyncPush(["--fsync"]) },
    { name: "tar c | nc, nc -l | tar x", direction: "pull", run: (dest) => tarNc(src, dest) },
    {
      name: "cp -a (local, no network)",
      direction: "local",
      run: (dest) => timed(["cp", "-a", src, dest]),
    },
  ];
  if (sshd) {
    list.push(
      {
        name: "scp -r (pull)",
        direction: "pull",
        run: (dest) => timed(sshd.scp(`127.0.0.1:${src}`, dest)),
      },
      {
        name: "scp -r (push)",
        direction: "push",
        run: (dest) => timed(sshd.scp(src, `127.0.0.1:${dest}`)),
      },
      {
        name: "sftp get -r",
        direction: "pull",
        run: (dest) => timed(sshd.sftp(`get -r ${src} ${dest}`)),
      },
      {
        name: "sftp put -r",
        direction: "push",
        run: (dest) => timed(sshd.sftp(`put -r ${src} ${dest}`)),
      },
    );
  }
  return list;
}

/**
 * The order of the cases in round `run` (from 1): each round starts a
 * further part of the way down the list, so that no row always runs first
 * or last (on ext4 a row's files cost more or less with the disk's state
 * at its turn: in a run that always took the rows in one order, `get -r`'s
 * client spent 72 us of CPU a file where by hand, alternating with rsync,
 * it was on a par with rsync's).
 *
 * @example
 * ```ts
 * import { roundOrder } from "./bench_tree.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(roundOrder(4, 1, 2), [0, 1, 2, 3]);
 * deepEqual(roundOrder(4, 2, 2), [2, 3, 0, 1]);
 * ```
 */
export function roundOrder(count: number, run: number, rounds: number): number[] {
  const shift = ((run - 1) * Math.ceil(count / rounds)) % count;
  return Array.from({ length: count }, (_, i) => (i + shift) % count);
}

/**
 * Times each case `runs` times, round by round ({@linkcode roundOrder}),
 * into its row: each copy into a fresh folder in `out`, checked against
 * `src`; a case is made ready (untimed) before its first run.
 */
async function timeRows(list: Case[], rows: Row[], src: string, out: string): Promise<void> {
  for (let run = 1; run <= runs; run++) {
    for (const i of roundOrder(list.length, run, runs)) {
      const c = list[i]!;
      const row = rows[i]!;
      // A fresh destination each time, inside the rsync daemon's writable module.
      const dest = `${out}/r${run}-${i}`;
      try {
        if (run === 1) await c.prepare?.();
        await settleDisk();
        const t = await c.run(dest);
        await sameTree(src, c.copyOf?.(dest) ?? dest);
        row.seconds.push(t.seconds);
        row.byRound[run - 1] = t.seconds;
        row.clientRssKiB.push(t.rssKiB);
        row.clientCpu.push(t.cpuSeconds);
        if (t.serverRssKiB) row.serverRssKiB.push(t.serverRssKiB);
        if (t.serverCpu !== undefined) row.serverCpu.push(t.serverCpu);
        console.error(
          `bench-tree: run ${run}: ${c.name}: ${t.seconds.toFixed(2)} s, ${
            (files / t.seconds).toFixed(0)
          } files/s`,
        );
      } catch (e) {
        row.failures.push(e instanceof Error ? e.message : String(e));
        console.error(`bench-tree: run ${run}: ${c.name} FAILED: ${row.failures.at(-1)}`);
      }
      // Kept until the whole run ends (see the note printed below): nothing is deleted between
      // timed copies.
    }
  }
}

/** rsync pushing to a daemon that fsyncs each file, the baseline of bftp's fsyncing push. */
const RSYNC_FSYNC = "rsync -a --fsync to an rsync daemon";

function table(rows: Row[]): string[] {
  const base = (row: Row) =>
    rows.find((r) =>
      row.baseline === undefined
        ? r.name.startsWith("rsync") && r.direction === row.direction && r.name !== RSYNC_FSYNC
        : r.name === row.baseline
    );
  const lines = rows.map((r) => {
    if (r.seconds.length === 0) {
      return `| ${
        cell(r.name)
      } | ${r.direction} | - | - | - | - | - | - | - | - | ${r.failures.length} of ${runs} |`;
    }
    const secs = median(r.seconds);
    const rsync = base(r);
    const paired = rsync && r.direction !== "local" ? pairedRatio(rsync.byRound, r.byRound) : NaN;
    const ratio = Number.isNaN(paired) ? "-" : paired.toFixed(2);
    const us = (cpu: number[]) => cpu.length > 0 ? (median(cpu) / files * 1e6).toFixed(0) : "-";
    const mb = (kib: number[]) =>
      kib.length > 0 && Math.max(...kib) > 0 ? (Math.max(...kib) / 1024).toFixed(0) : "-";
    return `| ${cell(r.name)} | ${r.direction} | ${secs.toFixed(2)} | ${
      Math.min(...r.seconds).toFixed(2)
    }-${Math.max(...r.seconds).toFixed(2)} | ${
      Math.round(files / secs).toLocaleString("en-US")
    } | ${ratio} | ${us(r.clientCpu)} | ${us(r.serverCpu)} | ${mb(r.clientRssKiB)} | ${
      mb(r.serverRssKiB)
    } | ${r.failures.length === 0 ? "0" : `${r.failures.length} of ${runs}`} |`;
  });
  return [
    "| copy | direction | median s | fastest-slowest s | files/s | ratio to rsync | client CPU µs/file | server CPU µs/file | client peak RSS (MB) | server peak RSS (MB) | failed runs |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...lines,
  ];
}

async function main() {
  const dir = await treeDir("tree");
  // df names the mounted type (ext4), where `stat -f` says "ext2/ext3" for all three.
  const fsType = new TextDecoder().decode(
    (await new Deno.Command("df", { args: ["--output=fstype", dir] }).output()).stdout,
  ).trim().split("\n").at(-1) ?? "unknown";
  const src = `${dir}/src`, out = `${dir}/out`;
  await Deno.mkdir(out);
  const rsyncd = await startRsyncd(dir, src, out);
  const sshd = await startSshd(`${dir}/ssh`);
  try {
    console.error(`bench-tree: writing ${files} files of 4 KiB in ${folders} folders`);
    await makeTree(src, files, folders, FILE_BYTES);
    const probe = await waitForQuickCreates(out);
    console.error(
      `bench-tree: creating a file took ${
        probe.usPerFile.map((us) => us.toFixed(0)).join(", ")
      } us` +
        ` (waited ${probe.waitedSeconds} s)`,
    );
    const list = cases(src, out, rsyncd.url, sshd.ok ? sshd : null);
    const rows: Row[] = list.map((c) => ({
      name: c.name,
      direction: c.direction,
      baseline: c.baseline,
      seconds: [],
      byRound: [],
      clientRssKiB: [],
      serverRssKiB: [],
      clientCpu: [],
      serverCpu: [],
      failures: [],
    }));
    try {
      await timeRows(list, rows, src, out);
    } finally {
      for (const c of list) await c.close?.();
    }
    const failures = rows.flatMap((r) => r.failures.map((f) => `- ${r.name}: ${f.slice(0, 300)}`));
    console.log([
      `## ${
        files.toLocaleString("en-US")
      } files of 4 KiB in ${folders} folders, median of ${runs} runs (${
        new Date().toISOString().slice(0, 10)
      })`,
      "",
      `Machine: ${await machineLine()}. Over loopback (127.0.0.1).`,
      "Pull: the client downloads the tree from a server; push: it uploads the tree to a server. Every copy",
      "lands in a fresh folder and is compared byte for byte with the source afterwards (outside the",
      "timing); a copy that differs counts as a failed run, not as a number. Ratio: the rsync daemon's time",
      "in the same direction over this row's time, in the same round, the median over the rounds (above",
      "1.00 = faster than rsync; every row takes its turn once a round, so a round's two copies are",
      "minutes apart at most, where this VM's disk can slow every tool twofold between rounds; each round",
      "starts further down the list, so that no row always runs first); for the",
      "push whose server fsyncs, against rsync's daemon fsyncing each file (`--fsync`). Times are whole client",
      "processes, start-up included (bftp: an empty `put -r` takes about 0.04 s, Deno and a session). A bftp server is started once",
      "for its row, as the rsync daemon is once for the section, and warmed by one untimed copy first (its",
      'code optimized, as a daemon\'s soon is); the rows "server fresh each run" start one for each copy',
      "instead (outside the timing), so each copy pays for the server's code warming up. Creating files on",
      "this VM is noisy (the disk is shared, and so are the 2 cores): the fastest-slowest column shows",
      "the spread, and `cp -a` shows the floor for writing",
      "the files locally. Every copy is kept until the whole run ends: on ext4, a file created soon after",
      "thousands were deleted costs 150-250 us instead of 12-32 (the allocator passes over recently freed",
      "inodes), which made each row pay for the deletions of the row before it. Before the first round,",
      `creating an empty file in the copies' folder took ${
        probe.usPerFile.map((us) => `${us.toFixed(0)} us`).join(", then ")
      } (1,000 files a probe, in 50 new folders; the section waits,`,
      `up to 360 s, while it takes over 60 us: ${probe.waitedSeconds} s this run): this VM's ext4 has no journal, and`,
      "then passes over the inodes freed in the last 60-360 s, as after a test run's clean-up.",
      `The trees were in ${dirname(dir)} (file system: ${fsType}; BENCH_TREE_DIR=/dev/shm`,
      "puts them in memory, which takes the disk out of the comparison). CPU: user+system seconds per",
      "file, median; the client's from /usr/bin/time (for tar | nc, the sending side only), the bftp",
      "server's from /proc while the copy ran.",
      "",
      ...table(rows),
      "",
      sshd.ok
        ? "scp and sftp: OpenSSH's sshd on 127.0.0.1, a host key and a client key made for the run; scp is " +
          "OpenSSH 9's, which speaks the SFTP protocol underneath."
        : `scp and sftp: no rows, since sshd could not start here: ${sshd.reason}.`,
      ...(failures.length > 0 ? ["", "Failed runs:", ...failures] : []),
      "",
      "Commands (PORT, URL and the folders are the run's):",
      "```sh",
      "bftp serve . -q & bftp get -r -q URL/src dest",
      "bftp serve dest [--no-fsync] -q & bftp put -r -q src URL/tree",
      "rsync --daemon --config=rsyncd.conf --port=PORT --address=127.0.0.1  # modules src (read only), out",
      "rsync -a rsync://127.0.0.1:PORT/src/ dest/ ; rsync -a [--fsync] src/ rsync://127.0.0.1:PORT/out/dest/",
      "nc -l 127.0.0.1 PORT | tar x -C dest & tar c -C src . | nc -N 127.0.0.1 PORT",
      "cp -a src dest",
      "/usr/sbin/sshd -f sshd_config -D  # ListenAddress 127.0.0.1, StrictModes no, keys from ssh-keygen",
      "scp -r -q 127.0.0.1:src dest ; scp -r -q src 127.0.0.1:dest",
      "sftp -b - 127.0.0.1 <<< 'get -r src dest' ; sftp -b - 127.0.0.1 <<< 'put -r src dest'",
      "```",
      "",
    ].join("\n"));
  } finally {
    await rsyncd.stop();
    if (sshd.ok) await sshd.stop();
    await retireTreeDir(dir);
  }
}

if (import.meta.main) await main();
