import { deepEqual, equal, ok } from "node:assert/strict";
import { selfSigned } from "../transport/certs.ts";
import {
  assertFailure,
  BFTP_BIN,
  listNames,
  readText,
  runBftp,
  startServe,
  tempDir,
  waitFor,
} from "./helpers.ts";

const REPORT_FIELDS = [
  "failures",
  "files",
  "finishedAt",
  "format",
  "interrupted",
  "iterations",
  "machine",
  "passed",
  "requests",
  "settings",
  "startedAt",
  "summaries",
  "target",
  "tool",
  "verdict",
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
  "milliseconds",
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
  // The per-request figure, for the files under 1 MiB.
  ok(
    /^Per request: 100 GETs of "1KiB\.bin" one after another, median [\d.]+ ms, p99 [\d.]+ ms \([\d,]+\/s\); 32 in flight: [\d,]+\/s\.$/m
      .test(result.stdout),
    result.stdout,
  );
  ok(/Verdict: PASS \(12 transfers/.test(result.stdout), result.stdout);
  // 3 iterations, 2 of warm-up: 1 sample, too few for the memory trend (5), and the PASS says so.
  const notMeasured = "memory not measured: 1 sample after warm-up, need 5";
  ok(result.stdout.includes(`; ${notMeasured})`), result.stdout);
  ok(!result.stdout.includes("no threshold crossed"), result.stdout);

  const report = JSON.parse(await Deno.readTextFile(dir.join("out.json")));
  deepEqual(keys(report), REPORT_FIELDS);
  equal(report.format, 2);
  equal(report.passed, true);
  equal(report.verdict.status, "pass");
  ok(report.verdict.text.includes(notMeasured), report.verdict.text);
  equal(report.verdict.notMeasured.length, 8, "client and server memory, 2 files x 2 directions");
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
  // One probe, of the first file under 1 MiB.
  deepEqual(report.requests.map((r: { file: string; requests: number }) => [r.file, r.requests]), [[
    "1KiB.bin",
    100,
  ]]);
  ok(report.requests[0].medianMs > 0 && report.requests[0].pipelinedPerSecond > 0);
  for (const s of report.summaries) {
    deepEqual(keys(s), SUMMARY_FIELDS);
    deepEqual(keys(s.verdicts), VERDICTS);
    deepEqual(keys(s.clientMemory), ["end", "leak", "peak", "slopePerIteration", "start"]);
    deepEqual(keys(s.mbps), ["count", "cv", "max", "mean", "median", "min", "stddev"]);
    deepEqual(keys(s.milliseconds), keys(s.mbps));
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
  ok(html.includes(notMeasured) && html.includes('<p class="legend">'));
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

Deno.test("e2e check: two sizes of one name, the user's BFTP_TOKEN and a warm-up longer than the run (found by an audit)", async () => {
  // Each failed before: the second 1 KiB file overwrote the first's bytes (exit 6, "arrived
  // different"); the embedded server took BFTP_TOKEN and refused the check (exit 15); the report
  // said 5 iterations were left out of figures that came from the last one.
  await using dir = await tempDir();
  const run = await runBftp(
    [
      "check",
      "-q",
      "--sizes",
      "1KiB,1024B",
      "--iterations",
      "2",
      "--warmup",
      "5",
      "--json",
      dir.join("r.json"),
    ],
    { env: { BFTP_TOKEN: "for-another-server" } },
  );
  equal(run.code, 0, run.stderr);
  const report = JSON.parse(await Deno.readTextFile(dir.join("r.json")));
  deepEqual(report.files.map((f: { name: string }) => f.name), ["1KiB.bin", "1KiB-2.bin"]);
  equal(report.settings.warmup, 1);
  ok(report.summaries.every((s: { warmup: number }) => s.warmup === 1), run.stdout);
});

Deno.test("e2e check: a crossed threshold exits 19, named on stderr as the report names it", async () => {
  // Found by an audit: stderr said "PUT cpu:" (the verdict's key) where the report says "CPU".
  const run = await runBftp([
    "check",
    "-q",
    "--sizes",
    "64KiB",
    "--iterations",
    "2",
    "--max-cpu",
    "0.001",
  ]);
  // The report goes to stdout as on any run; the verdict's line to stderr.
  equal(run.code, 19, run.stderr);
  ok(/Thresholds crossed:\n {2}"64KiB\.bin" PUT CPU: /.test(run.stdout), run.stdout);
  ok(
    /^bftp: Check failed: "64KiB\.bin" (PUT|GET) CPU: client [\d.]+%/.test(run.stderr),
    run.stderr,
  );
});

Deno.test("e2e check: a report path that cannot be written fails before the run (exit 3)", async () => {
  await using dir = await tempDir();
  for (const flag of ["--json", "--html"]) {
    const run = await runBftp(["check", "--sizes", "4KiB", flag, dir.join("nodir", "r")]);
    assertFailure(run, 3, /folder not found/);
  }
  assertFailure(await runBftp(["check", "--json", dir.path]), 3, /is a folder/);
  deepEqual(await listNames(dir.path), []);
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

Deno.test("e2e check: a TLS server with a token is checked over bftps://, trusted by --cacert", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await Deno.mkdir(dir.join("root"));
  const token = "check-e2e-token-0c4f";
  await using server = await startServe(dir.join("root"), [
    "--tls-cert",
    cert.certPath,
    "--tls-key",
    cert.keyPath,
  ], { env: { BFTP_TOKEN: token } });
  const url = `${server.url}/`;
  ok(url.startsWith("bftps://"), url);
  const args = ["check", url, "--sizes", "4KiB", "--iterations", "2", "--warmup", "0"];

  const passed = await runBftp([...args, "--cacert", cert.certPath, "--json", dir.join("r.json")], {
    env: { BFTP_TOKEN: token },
  });
  equal(passed.code, 0, passed.stderr);
  const report = JSON.parse(await Deno.readTextFile(dir.join("r.json")));
  equal(report.passed, true);
  equal(report.iterations.length, 4);
  ok(report.target.description.startsWith("bftps://127.0.0.1:"), report.target.description);
  // The scratch folder is gone from the server's root.
  deepEqual(await listNames(dir.join("root")), []);

  // Pinned by fingerprint, token by flag.
  const pinned = await runBftp([...args, "--fingerprint", cert.fingerprint, "--token", token]);
  equal(pinned.code, 0, pinned.stderr);
  // Not trusted: a certificate error, exit 8. Trusted but no token: exit 15.
  assertFailure(await runBftp(args, { env: { BFTP_TOKEN: token } }), 8);
  assertFailure(await runBftp([...args, "--cacert", cert.certPath]), 15, /access token/);
  // TLS trust for a plain URL, or any connection flag without a URL, is a usage error.
  const plain = url.replace("bftps://", "bftp://");
  assertFailure(await runBftp([...args.slice(0, 1), plain, "--cacert", cert.certPath]), 2);
  assertFailure(
    await runBftp(["check", "--token", token]),
    2,
    /--token is for a server given by URL/,
  );
});

Deno.test("e2e check: -v and --checksum shape the client against the embedded server too; --head is neither listed nor taken", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("a.txt"), "hello");
  const args = ["check", "--sizes", "none", "--file", dir.join("a.txt"), "--iterations", "1"];
  const result = await runBftp([...args, "--warmup", "0", "-v", "--checksum", "sha256"]);
  equal(result.code, 0, result.stderr);
  // The hello offers only SHA-256, and the server's answer says it is the session's.
  ok(result.stderr.includes('> "BFTP/2 sha256"'), result.stderr);
  ok(/< \{"ok":true,"version":2,"checksum":"sha256"/.test(result.stderr), result.stderr);
  ok(/> \{"op":"GET","path":"\/bftp-check-[^"]*\/a\.txt"/.test(result.stderr), result.stderr);
  // check measures one server: its help does not offer --head, which it refuses.
  const help = await runBftp(["check", "--help"]);
  ok(!help.stdout.includes("--head"), help.stdout);
  assertFailure(
    await runBftp([...args, "--head", "127.0.0.1:1"]),
    2,
    /check measures one server/,
  );
});

Deno.test("e2e check: Ctrl-C while it writes its files stops it and leaves no folder behind", async () => {
  // Found by an audit: the writing never let Ctrl-C be heard, and the scratch folder stayed.
  await using tmp = await tempDir();
  const child = new Deno.Command(BFTP_BIN, {
    args: ["check", "--sizes", "4GiB", "--iterations", "1", "-q"],
    env: { TMPDIR: tmp.path },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = readText(child.stderr);
  const stdout = readText(child.stdout);
  // Once the file is being written (a few MiB in), well before its 4 GiB.
  await waitFor(async () => {
    for (const folder of await listNames(tmp.path)) {
      const files = await listNames(tmp.join(folder)).catch(() => []);
      for (const f of files) {
        if ((await Deno.stat(tmp.join(folder, f))).size > 32 << 20) return true;
      }
    }
    return false;
  }, "the check to write its file");
  child.kill("SIGINT");
  equal((await child.status).code, 130);
  equal(await stderr, "bftp: Interrupted\n");
  equal(await stdout, "");
  deepEqual(await listNames(tmp.path), []);
});
