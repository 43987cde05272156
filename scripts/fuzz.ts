// deno-lint-ignore-file no-console
/**
 * The decoder fuzzer: feeds 100,000 and more random and mutated inputs to
 * the decoders of tests/fuzz/targets.ts (decodeRequest, decodeReply,
 * readSized/readSizeHeader narrow and wide, readDelimited, receiveBody) and
 * checks each answer. Run it with `scripts/fuzz`.
 *
 * Each decoder runs in a Web Worker. Every input is raced against a timer
 * (`--timeout`), and the main thread watches a counter the worker bumps after
 * each input: a worker that stops counting for `--hang` milliseconds (a loop
 * that never yields) is terminated and reported with the input it was on.
 * Prints a table of counts; exits 1 on any violation or hang.
 *
 *     scripts/fuzz [--runs N] [--seed S] [--timeout MS] [--hang MS] [--only NAME]
 *     scripts/fuzz --repro NAME:SEED:BATCH:INDEX     (prints one input and runs it)
 *
 * @module
 */

import fc from "fast-check";
import { parseArgs } from "node:util";
import {
  type FuzzTarget,
  type Outcome,
  runWithTimeout,
  TARGETS,
  Violation,
} from "../tests/fuzz/targets.ts";

/** Inputs are generated in batches of this many, each batch from its own seed. */
const BATCH = 1000;

interface Job {
  target: number;
  runs: number;
  seed: number;
  timeoutMs: number;
  /** [inputs done, batch of the current input, index of the current input in it]. */
  progress: SharedArrayBuffer;
}

interface Stats {
  name: string;
  inputs: number;
  outcomes: Partial<Record<Outcome, number>>;
  refusedAtHeader: number;
  largestAsked: number;
  largestBound: number;
  violations: string[];
  violationCount: number;
  hung?: string;
  seconds: number;
}

const batchSeed = (seed: number, batch: number) => (seed + batch * 7919) | 0;

function inputsOf(target: FuzzTarget<unknown>, seed: number, batch: number, n: number): unknown[] {
  return fc.sample(target.arbitrary, { seed: batchSeed(seed, batch), numRuns: n });
}

/** The worker's side: runs one decoder's inputs and posts its stats. */
async function workerMain(job: Job): Promise<Stats> {
  const target = TARGETS[job.target]!;
  const progress = new Int32Array(job.progress);
  const stats: Stats = {
    name: target.name,
    inputs: 0,
    outcomes: {},
    refusedAtHeader: 0,
    largestAsked: 0,
    largestBound: 0,
    violations: [],
    violationCount: 0,
    seconds: 0,
  };
  const started = performance.now();
  for (let batch = 0; batch * BATCH < job.runs; batch++) {
    const inputs = inputsOf(target, job.seed, batch, Math.min(BATCH, job.runs - batch * BATCH));
    for (let i = 0; i < inputs.length; i++) {
      Atomics.store(progress, 1, batch);
      Atomics.store(progress, 2, i);
      const input = inputs[i];
      try {
        const report = await runWithTimeout(target, input, job.timeoutMs);
        stats.outcomes[report.outcome] = (stats.outcomes[report.outcome] ?? 0) + 1;
        if (report.refusedAtHeader) stats.refusedAtHeader++;
        if (report.largestRead && report.largestRead.asked > stats.largestAsked) {
          stats.largestAsked = report.largestRead.asked;
          stats.largestBound = report.largestRead.bound;
        }
      } catch (e) {
        stats.violationCount++;
        if (stats.violations.length < 5) {
          const why = e instanceof Violation ? e.message : `runner failed: ${String(e)}`;
          stats.violations.push(
            `${why}\n    input ${target.name}:${job.seed}:${batch}:${i}: ${target.describe(input)}`,
          );
        }
      }
      stats.inputs++;
      Atomics.add(progress, 0, 1);
    }
  }
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}

/** Runs one decoder in a worker, watching it from outside. */
function runInWorker(job: Job, hangMs: number): Promise<Stats> {
  const worker = new Worker(import.meta.url, { type: "module" });
  const progress = new Int32Array(job.progress);
  const target = TARGETS[job.target]!;
  const started = performance.now();
  return new Promise<Stats>((resolve) => {
    let last = -1;
    let lastChange = performance.now();
    const finish = (stats: Stats) => {
      clearInterval(watch);
      worker.terminate();
      resolve(stats);
    };
    const watch = setInterval(() => {
      const done = Atomics.load(progress, 0);
      if (done !== last) {
        last = done;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > hangMs) {
        const batch = Atomics.load(progress, 1);
        const i = Atomics.load(progress, 2);
        const input = inputsOf(target, job.seed, batch, i + 1)[i];
        finish({
          name: target.name,
          inputs: done,
          outcomes: {},
          refusedAtHeader: 0,
          largestAsked: 0,
          largestBound: 0,
          violations: [],
          violationCount: 1,
          hung: `no progress for ${hangMs} ms on input ${target.name}:${job.seed}:${batch}:${i}: ${
            target.describe(input)
          }`,
          seconds: (performance.now() - started) / 1000,
        });
      }
    }, 100);
    worker.onmessage = (event: MessageEvent<Stats>) => finish(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      finish({
        name: target.name,
        inputs: Atomics.load(progress, 0),
        outcomes: {},
        refusedAtHeader: 0,
        largestAsked: 0,
        largestBound: 0,
        violations: [`the worker died: ${event.message}`],
        violationCount: 1,
        seconds: (performance.now() - started) / 1000,
      });
    };
    worker.postMessage(job);
  });
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

async function repro(spec: string, timeoutMs: number): Promise<number> {
  const m = /^(.+):(-?\d+):(\d+):(\d+)$/.exec(spec);
  const target = m ? TARGETS.find((t) => t.name === m[1]) : undefined;
  if (!m || !target) {
    console.error(`fuzz: --repro wants NAME:SEED:BATCH:INDEX with a decoder name, got "${spec}"`);
    return 2;
  }
  const [seed, batch, index] = [Number(m[2]), Number(m[3]), Number(m[4])];
  const input = inputsOf(target, seed, batch, index + 1)[index];
  console.log(`input: ${target.describe(input)}`);
  try {
    console.log(`answer: ${JSON.stringify(await runWithTimeout(target, input, timeoutMs))}`);
    return 0;
  } catch (e) {
    console.log(`violation: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

const USAGE = `Usage: scripts/fuzz [--runs N] [--seed S] [--timeout MS] [--hang MS] [--only NAME]
                    [--repro HEX]
  --runs N       inputs per decoder (default 20000)
  --seed S       the random seed (default: a new one, printed)
  --timeout MS   the longest a decoder may take on one input (default 2000)
  --hang MS      the watchdog for a hung decoder (default 10000)
  --only NAME    fuzz only the decoders whose name contains NAME
  --repro HEX    run one input (hex bytes, as a violation prints it) and show the answer`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        runs: { type: "string", default: "20000" },
        seed: { type: "string" },
        timeout: { type: "string", default: "2000" },
        hang: { type: "string", default: "10000" },
        only: { type: "string" },
        repro: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    console.error(`fuzz: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? (Math.random() * 2 ** 31) | 0 : Number(values.seed);
  const timeoutMs = Number(values.timeout);
  const hangMs = Number(values.hang);
  if (values.repro !== undefined) return await repro(values.repro, timeoutMs);
  const chosen = TARGETS.map((t, i) => ({ t, i }))
    .filter(({ t }) => values.only === undefined || t.name.includes(values.only));
  if (!Number.isSafeInteger(runs) || runs < 1 || chosen.length === 0) {
    console.error("fuzz: --runs must be a positive integer and --only must name a decoder");
    return 2;
  }
  console.log(
    `fuzz: seed ${seed}, ${fmt(runs)} inputs per decoder, ${timeoutMs} ms per input, ` +
      `watchdog ${hangMs} ms, ${chosen.length} decoders`,
  );
  const started = performance.now();
  const results = await fuzzAll(chosen.map(({ i }) => i), { runs, seed, timeoutMs, hangMs });
  return report(results, started, seed);
}

/** Fuzzes the decoders (by their index in `TARGETS`), each in a worker; in `TARGETS` order. */
async function fuzzAll(
  targets: number[],
  settings: Omit<Job, "target" | "progress"> & { hangMs: number },
): Promise<Stats[]> {
  const { runs, seed, timeoutMs, hangMs } = settings;
  // Two decoders at a time: one per core of the machines this runs on.
  const queue = [...targets];
  const results: Stats[] = [];
  await Promise.all([0, 1].map(async () => {
    while (queue.length > 0) {
      const i = queue.shift()!;
      const job: Job = {
        target: i,
        runs,
        seed,
        timeoutMs,
        progress: new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT),
      };
      results.push(await runInWorker(job, hangMs));
    }
  }));
  results.sort((a, b) =>
    TARGETS.findIndex((t) => t.name === a.name) - TARGETS.findIndex((t) => t.name === b.name)
  );
  return results;
}

/** Prints the table, every hang and violation, and the totals; the exit code. */
function report(results: Stats[], started: number, seed: number): number {
  const header = [
    "decoder",
    "inputs",
    "value/end",
    "ProtocolError",
    "UnexpectedEof",
    "Integrity",
    "LocalIo",
    "over limit, refused at header",
    "largest read / its bound",
    "violations",
    "s",
  ];
  const rows = results.map((s) => [
    s.name,
    fmt(s.inputs),
    fmt((s.outcomes.value ?? 0) + (s.outcomes.end ?? 0)),
    fmt(s.outcomes.ProtocolError ?? 0),
    fmt(s.outcomes.UnexpectedEofError ?? 0),
    fmt(s.outcomes.IntegrityError ?? 0),
    fmt(s.outcomes.LocalIoError ?? 0),
    fmt(s.refusedAtHeader),
    s.largestBound > 0 ? `${fmt(s.largestAsked)} / ${fmt(s.largestBound)}` : "-",
    fmt(s.violationCount),
    s.seconds.toFixed(1),
  ]);
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map((_h, i) => i === 0 ? " --- " : " ---: ").join("|")}|`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  const total = results.reduce((n, s) => n + s.inputs, 0);
  const violations = results.reduce((n, s) => n + s.violationCount, 0);
  const hangs = results.filter((s) => s.hung).length;
  const refused = results.reduce((n, s) => n + s.refusedAtHeader, 0);
  for (const s of results) {
    if (s.hung) console.log(`HANG ${s.name}: ${s.hung}`);
    for (const v of s.violations) console.log(`VIOLATION ${s.name}: ${v}`);
  }
  console.log(
    `fuzz: ${fmt(total)} inputs, ${fmt(violations)} violations, ${hangs} hangs, ` +
      `${fmt(refused)} over-limit sizes refused after reading only their header, ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${seed})`,
  );
  return violations === 0 && hangs === 0 ? 0 : 1;
}

const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";
if (inWorker) {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent<Job>) => void) | null;
    postMessage(stats: Stats): void;
  };
  scope.onmessage = async (event) => {
    scope.postMessage(await workerMain(event.data));
  };
} else if (import.meta.main) {
  Deno.exit(await main());
}
