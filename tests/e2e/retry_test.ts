// End-to-end: `--retry N` (curl's): a transfer cut by the network (a proxy that cuts its first
// connection after so many bytes) is tried again after a wait, continued with --resume, from the
// start without; a refused connection is tried again too; what cannot be tried again is refused.
import { deepEqual, equal, ok } from "node:assert/strict";
import { assertFailure, closedPort, randomBytes, runBftp, startServe, tempDir } from "./helpers.ts";
import { cuttingProxy } from "./faulty_heads.ts";

const MiB = 1 << 20;

Deno.test("e2e: get --retry tries a cut download again, from the start or, with --resume, from where it stopped", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const data = randomBytes(3 * MiB);
  await Deno.writeFile(root.join("big.bin"), data);
  await using server = await startServe(root.path);
  const head = server.url.replace("bftp://", "");
  for (const resume of [false, true]) {
    await using proxy = cuttingProxy(head, { direction: "down", limit: MiB });
    const out = local.join(`big-${resume}.bin`);
    const args = ["get", "-q", "--retry", "2", ...(resume ? ["--resume"] : [])];
    const got = await runBftp([...args, `bftp://${proxy.head}/big.bin`, out]);
    equal(got.code, 0, got.stderr);
    deepEqual(await Deno.readFile(out), data);
    equal(proxy.cuts, 1);
    // One line: what went wrong, and the wait.
    ok(/^bftp: .*; trying again in 1 s \(retry 1 of 2\)\n$/.test(got.stderr), got.stderr);
  }
  // With --resume only the rest came the second time.
  await server.waitForLog(/GET "\/big\.bin" from [1-9]\d* ok/);
  // Without --retry the cut is the end (exit 4), as before.
  await using proxy = cuttingProxy(head, { direction: "down", limit: MiB });
  const cut = await runBftp(["get", "-q", `bftp://${proxy.head}/big.bin`, local.join("x.bin")]);
  equal(cut.code, 4, cut.stderr);
});

Deno.test("e2e: put --retry sends a cut upload again; a refused connection is tried again, then given up", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const data = randomBytes(3 * MiB);
  await Deno.writeFile(local.join("up.bin"), data);
  await using server = await startServe(root.path);
  await using proxy = cuttingProxy(server.url.replace("bftp://", ""), {
    direction: "up",
    limit: MiB,
  });
  const put = await runBftp([
    "put",
    "-q",
    "--retry=1",
    local.join("up.bin"),
    `bftp://${proxy.head}/up.bin`,
  ]);
  equal(put.code, 0, put.stderr);
  deepEqual(await Deno.readFile(root.join("up.bin")), data);
  equal(proxy.cuts, 1);
  // Nothing listens: one retry after a second, then the refusal as usual (exit 4).
  const port = closedPort();
  const refused = await runBftp([
    "get",
    "-q",
    "--retry",
    "1",
    `bftp://127.0.0.1:${port}/a`,
    local.join("a"),
  ]);
  equal(refused.code, 4, refused.stderr);
  const lines = refused.stderr.trimEnd().split("\n");
  equal(lines.length, 2, refused.stderr);
  ok(/trying again in 1 s \(retry 1 of 1\)$/.test(lines[0]!), lines[0]);
  ok(/refused/.test(lines[1]!), lines[1]);
});

Deno.test("e2e: get -r and put -r --retry into a new folder finish the copy there, not nested inside it", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 4; i++) files[`f${i}.bin`] = randomBytes(MiB);
  await Deno.mkdir(root.join("tree"));
  await Deno.mkdir(local.join("tree"));
  for (const [name, data] of Object.entries(files)) {
    await Deno.writeFile(root.join("tree", name), data);
    await Deno.writeFile(local.join("tree", name), data);
  }
  await using server = await startServe(root.path);
  const head = server.url.replace("bftp://", "");
  {
    // The first connection is cut after 2 MiB down: some files have landed in "new" already.
    await using proxy = cuttingProxy(head, { direction: "down", limit: 2 * MiB });
    const got = await runBftp([
      "get",
      "-r",
      "-q",
      "--retry",
      "2",
      `bftp://${proxy.head}/tree`,
      local.join("new"),
    ]);
    equal(got.code, 0, got.stderr);
    equal(proxy.cuts, 1);
  }
  {
    await using proxy = cuttingProxy(head, { direction: "up", limit: 2 * MiB });
    const put = await runBftp([
      "put",
      "-r",
      "-q",
      "--retry",
      "2",
      local.join("tree"),
      `bftp://${proxy.head}/up`,
    ]);
    equal(put.code, 0, put.stderr);
    equal(proxy.cuts, 1);
  }
  for (const copy of [local.join("new"), root.join("up")]) {
    deepEqual([...Deno.readDirSync(copy)].map((e) => e.name).sort(), Object.keys(files), copy);
    for (const [name, data] of Object.entries(files)) {
      deepEqual(await Deno.readFile(`${copy}/${name}`), data);
    }
  }
});

Deno.test("e2e: --retry is refused where a second try cannot undo the first: stdout, stdin, not a number", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  assertFailure(
    await runBftp(["get", "--retry", "2", `${server.url}/a`, "-"]),
    2,
    /Cannot retry a download to stdout/,
  );
  assertFailure(
    await runBftp(["put", "--retry", "2", "-", `${server.url}/a`]),
    2,
    /Cannot retry an upload from stdin/,
  );
  assertFailure(
    await runBftp(["get", "--retry", "x", `${server.url}/a`]),
    2,
    /Invalid value "x" for --retry/,
  );
});

Deno.test("e2e: sync --retry runs a sync cut by the network again, sending only what is still missing", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("site"));
  // Files of 512 KiB, sent one by one (MGET takes those of 256 KiB at most).
  for (let i = 0; i < 8; i++) {
    await Deno.writeFile(root.join("site", `f${i}.bin`), randomBytes(MiB / 2));
  }
  await using server = await startServe(root.path);
  const head = server.url.replace("bftp://", "");
  // A pull cut after 1.5 MiB came down: the files that arrived whole have landed, the rest not.
  await using proxy = cuttingProxy(head, { direction: "down", limit: 1.5 * MiB });
  const synced = await runBftp([
    "sync",
    "--json",
    "--retry",
    "1",
    `bftp://${proxy.head}/site`,
    local.join("site"),
  ]);
  equal(synced.code, 0, synced.stderr);
  equal(proxy.cuts, 1);
  ok(/trying again in 1 s \(retry 1 of 1\)/.test(synced.stderr), synced.stderr);
  // The second run's report: only what the first did not land.
  const report = JSON.parse(synced.stdout);
  ok(report.sent > 0 && report.sent < 8, synced.stdout.slice(0, 200));
  for (let i = 0; i < 8; i++) {
    const name = `f${i}.bin`;
    deepEqual(
      await Deno.readFile(local.join("site", name)),
      await Deno.readFile(root.join("site", name)),
    );
  }
});

Deno.test("e2e: a sync pull cut in the middle keeps the large files that came whole", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("site"));
  // Files of 1.5 MiB: each is asked about once more (STAT) after its body, before it lands.
  const size = 1.5 * MiB;
  for (let i = 0; i < 6; i++) {
    await Deno.writeFile(root.join("site", `f${i}.bin`), randomBytes(size));
  }
  await using server = await startServe(root.path);
  await using proxy = cuttingProxy(server.url.replace("bftp://", ""), {
    direction: "down",
    limit: 5 * MiB,
  });
  const cut = await runBftp(["sync", "-q", `bftp://${proxy.head}/site`, local.join("site")]);
  equal(cut.code, 4, cut.stderr);
  // At least the first two came whole and landed (with 32 in flight, their STATs waited behind
  // the other GETs and none did); each one that is there is whole.
  const landed = (await Array.fromAsync(Deno.readDir(local.join("site")))).map((e) => e.name)
    .filter((n) => !n.startsWith(".")).sort();
  ok(landed.length >= 2, landed.join());
  for (const name of landed) {
    deepEqual(
      await Deno.readFile(local.join("site", name)),
      await Deno.readFile(root.join("site", name)),
    );
  }
});
