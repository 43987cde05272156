import { deepEqual, equal, ok } from "node:assert/strict";
import { assertFailure, runBftp, tempDir } from "./helpers.ts";

const REPORT_FIELDS = [
  "failures",
  "files",
  "finishedAt",
  "format",
  "interrupted",
  "iterations",
  "machine",
  "passed",
  "settings",
  "startedAt",
  "summaries",
  "target",
  "tool",
];
const ITERATION_FIELDS = [
  "actualSha256",
  "bytes",
  "clientCpu",
  "clientRss",
  "clientRssPeak",
  "direction",
  "error",
  "expectedSha256",
  "file",
  "iteration",
  "mbps",
  "outcome",
  "seconds",
  "serverCpu",
  "serverRss",
  "serverRssPeak",
  "storedSha256",
];
const SUMMARY_FIELDS = [
  "clientCpu",
  "clientMemory",
  "direction",
  "errors",
  "file",
  "iterations",
  "mbps",
  "mismatches",
  "passed",
  "serverCpu",
  "serverMemory",
  "size",
  "verdicts",
  "warmup",
];
const VERDICTS = ["clientLeak", "cpu", "identity", "serverLeak", "speed", "uniformity"];

const keys = (o: object) => Object.keys(o).sort();

Deno.test("e2e check: bftp check against its embedded server passes, with JSON and HTML reports", async () => {
  await using dir = await tempDir();
  const result = await runBftp([
    "check",
    "--sizes",
    "1KiB,64KiB",
    "--iterations",
    "3",
    "--json",
    "out.json",
    "--html",
    "out.html",
  ], { cwd: dir.path });
  equal(result.code, 0, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  equal(result.stderr, "", "no progress line when stderr is not a terminal");
  ok(/^bftp check: 2 file\(s\) x 3 iteration\(s\)/.test(result.stdout), result.stdout);
  ok(/embedded: \S+ child process \d+/.test(result.stdout), result.stdout);
  ok(/^64KiB\.bin +64\.0 KiB +GET +3 +0 +0 /m.test(result.stdout), result.stdout);
  ok(/Verdict: PASS \(12 transfers/.test(result.stdout), result.stdout);

  const report = JSON.parse(await Deno.readTextFile(dir.join("out.json")));
  deepEqual(keys(report), REPORT_FIELDS);
  equal(report.passed, true);
  equal(report.target.serverMeasured, true, "the child server's CPU and memory are measured");
  equal(report.iterations.length, 12);
  for (const it of report.iterations) {
    deepEqual(keys(it), ITERATION_FIELDS);
    equal(it.outcome, "ok");
    equal(it.actualSha256, it.expectedSha256);
    ok(it.serverCpu !== null && it.serverRss > 0 && it.clientRss > 0);
    ok(it.mbps > 0);
  }
  equal(report.summaries.length, 4);
  for (const s of report.summaries) {
    deepEqual(keys(s), SUMMARY_FIELDS);
    deepEqual(keys(s.verdicts), VERDICTS);
    deepEqual(keys(s.clientMemory), ["end", "leak", "peak", "slopePerIteration", "start"]);
    deepEqual(keys(s.mbps), ["count", "cv", "max", "mean", "median", "min", "stddev"]);
    equal(s.iterations, 3);
  }
  deepEqual(
    report.files.map((f: { name: string; size: number }) => [f.name, f.size]),
    [["1KiB.bin", 1024], ["64KiB.bin", 65536]],
  );
  deepEqual(keys(report.settings.thresholds), [
    "maxCpuShare",
    "maxCv",
    "maxLeakPerIteration",
    "maxServerLeakPerIteration",
    "minMbps",
    "minMbpsFileSize",
    "minSamplesForCv",
    "minSamplesForLeak",
  ]);

  const html = await Deno.readTextFile(dir.join("out.html"));
  ok(html.startsWith("<!doctype html>"));
  ok(!/https?:\/\//.test(html), "no reference to anything on a network");
  ok(!/<script|<link|<img|<iframe|src=|@import|url\(/i.test(html), "nothing loaded from outside");
  equal(html.match(/<svg/g)?.length, 3, "a speed chart per file and the memory chart");
  ok(html.includes("64KiB.bin: speed per iteration"));
  // The scratch files and the server's folder are gone; only the reports are left.
  deepEqual((await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name).sort(), [
    "out.html",
    "out.json",
  ]);
});

Deno.test("e2e check: bad flags are usage errors (exit 2)", async () => {
  assertFailure(await runBftp(["check", "--sizes", "lots"]), 2, /Invalid size "lots"/);
  assertFailure(await runBftp(["check", "--iterations", "0"]), 2, /--iterations/);
  assertFailure(await runBftp(["check", "--sizes", "none"]), 2, /Nothing to check/);
  assertFailure(await runBftp(["check", "--max-cv", "wide"]), 2, /--max-cv/);
});

Deno.test("e2e check: a server that cannot be reached exits 4", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  assertFailure(
    await runBftp(["check", `bftp://127.0.0.1:${port}/`, "--sizes", "1KiB", "--iterations", "1"]),
    4,
    /connection refused/,
  );
});
