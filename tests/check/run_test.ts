import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { generateFile, userFile } from "../../lib/check/files.ts";
import { runCheck } from "../../lib/check/run.ts";
import { spawnEmbeddedServer, startInProcessServer } from "../../lib/check/target.ts";
import type { CheckReport } from "../../lib/check/types.ts";
import { tempDir } from "../helpers.ts";

const SHA_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function assertWellFormed(report: CheckReport, files: number, iterations: number): void {
  equal(report.iterations.length, files * iterations * 2, "a PUT and a GET per iteration");
  equal(report.summaries.length, files * 2);
  for (const r of report.iterations) {
    equal(r.outcome, "ok", JSON.stringify(r));
    equal(r.actualSha256, r.expectedSha256);
    ok(r.seconds > 0, "every transfer takes time");
    ok(r.clientRss > 0 && r.clientRssPeak >= r.clientRss * 0.5);
    ok(r.clientCpu.user >= 0 && r.clientCpu.system >= 0);
  }
  // PUT then GET, iteration by iteration.
  deepEqual(
    report.iterations.slice(0, 4).map((r) => `${r.direction}${r.iteration}`),
    ["put1", "get1", "put2", "get2"],
  );
}

Deno.test("check/run: runCheck() passes against an in-process server, files of 0 B to 256 KiB", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const target = await startInProcessServer({ fsync: false });
  try {
    const files = [await generateFile(dir, 0), await generateFile(dir, 256 * 1024)];
    equal(files[0]!.sha256, SHA_EMPTY);
    const report = await runCheck({ target, files, workDir: dir, iterations: 3 });
    assertWellFormed(report, 2, 3);
    equal(report.passed, true, JSON.stringify(report.summaries.map((s) => s.verdicts)));
    equal(report.target.serverMeasured, false, "an in-process server is not measured apart");
    for (const r of report.iterations) equal(r.serverCpu, null);
    const empty = report.iterations.filter((r) => r.file === "0B.bin");
    ok(empty.every((r) => r.bytes === 0 && r.mbps === null), "an empty file has no speed");
    const big = report.iterations.filter((r) => r.file === "256KiB.bin");
    ok(big.every((r) => r.bytes === 256 * 1024 && r.mbps !== null && r.mbps > 0));
    // What the PUT stored was hashed from the server's disk.
    ok(
      big.filter((r) => r.direction === "put").every((r) => r.storedSha256 === files[1]!.sha256),
    );
    // The scratch folder and the download are gone.
    deepEqual(await Array.fromAsync(Deno.readDir(target.localRoot!)), []);
    deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
      "0B.bin",
      "256KiB.bin",
    ]);
  } finally {
    await target.close();
  }
});

Deno.test("check/run: runCheck() measures a child-process server's CPU and memory", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const target = await spawnEmbeddedServer({ fsync: false });
  try {
    ok(target.sample() !== null, "the child is sampled through /proc");
    const file = await generateFile(dir, 64 * 1024);
    const report = await runCheck({
      target,
      files: [file],
      workDir: dir,
      iterations: 2,
      getSink: "discard",
    });
    assertWellFormed(report, 1, 2);
    equal(report.passed, true);
    equal(report.target.serverMeasured, true);
    for (const r of report.iterations) {
      ok(r.serverCpu !== null && r.serverRss !== null && r.serverRss > 0);
      ok(r.serverRssPeak! >= r.serverRss! * 0.5);
    }
    for (const s of report.summaries) ok(s.serverCpu !== null && s.serverMemory !== null);
  } finally {
    await target.close();
  }
});

Deno.test("check/run: runCheck() records an unreadable source as an error and goes on", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const target = await startInProcessServer({ fsync: false });
  try {
    const path = join(dir, "vanishing.txt");
    await Deno.writeTextFile(path, "here now");
    const vanishing = await userFile(path);
    await Deno.remove(path);
    const good = await generateFile(dir, 1024);
    const report = await runCheck({
      target,
      files: [vanishing, good],
      workDir: dir,
      iterations: 2,
    });
    equal(report.passed, false);
    const failed = report.failures.filter((f) => f.file === "vanishing.txt");
    equal(failed.length, 4, "both PUTs failed, and so both GETs did not run");
    ok(failed.every((f) => f.outcome === "error"));
    ok(report.iterations.filter((r) => r.file === "1KiB.bin").every((r) => r.outcome === "ok"));
  } finally {
    await target.close();
  }
});

Deno.test("check/run: a transfer cut by the interruption is left out, not counted as a failure", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const target = await startInProcessServer({ fsync: false });
  try {
    const controller = new AbortController();
    const file = await generateFile(dir, 16 * 1024 * 1024);
    const report = await runCheck({
      target,
      files: [file],
      workDir: dir,
      iterations: 5,
      signal: controller.signal,
      onProgress: (p) => {
        // Lands while the next PUT is in flight (or just after it, which is fine too).
        if (p.record.iteration === 1 && p.record.direction === "get") {
          setTimeout(() => controller.abort(), 5);
        }
      },
    });
    equal(report.interrupted, true);
    deepEqual(report.failures, []);
    ok(report.iterations.length >= 2);
    ok(report.iterations.every((r) => r.outcome === "ok"), JSON.stringify(report.iterations));
    for (const s of report.summaries) equal(s.verdicts.identity.status, "pass");
  } finally {
    await target.close();
  }
});

Deno.test("check/run: runCheck() stops early when aborted and says so", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const target = await startInProcessServer({ fsync: false });
  try {
    const controller = new AbortController();
    const file = await generateFile(dir, 1024);
    const report = await runCheck({
      target,
      files: [file],
      workDir: dir,
      iterations: 50,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.record.iteration === 2 && p.record.direction === "get") controller.abort();
      },
    });
    equal(report.interrupted, true);
    equal(report.passed, false);
    equal(report.iterations.length, 4);
    deepEqual(await Array.fromAsync(Deno.readDir(target.localRoot!)), [], "cleaned up");
  } finally {
    await target.close();
  }
});
