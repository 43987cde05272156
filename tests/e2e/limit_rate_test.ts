// End-to-end: --limit-rate, on a session (get, put, sync) and on a one-shot pipe (send, recv).
// Each copy is checked whole, and its time against the floor the rate sets: a transfer at RATE
// cannot end sooner than its bytes over RATE, less the tenth of a second's worth allowed at once
// (a slower machine only takes longer, so the check cannot fail by being slow).

import { deepEqual, equal, ok } from "node:assert/strict";
import { assertFailure, randomBytes, runBftp, spawnBftp, startServe, tempDir } from "./helpers.ts";

/** Runs bftp and returns how long it took, once it has exited 0. */
async function timed(args: string[]): Promise<number> {
  const started = performance.now();
  const result = await runBftp(args);
  equal(result.code, 0, result.stderr);
  return (performance.now() - started) / 1000;
}

/** 2 MiB at 4 MiB/s: half a second, less a tenth. */
const FLOOR_S = 0.5 - 0.1;

Deno.test("e2e: --limit-rate holds get, put and sync to the rate (curl's --limit-rate, rsync's --bwlimit)", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const content = randomBytes(2 << 20);
  Deno.writeFileSync(root.join("a.bin"), content);
  Deno.mkdirSync(local.join("tree"));
  Deno.writeFileSync(local.join("tree", "b.bin"), content);
  await using server = await startServe(root.path);
  const got = await timed([
    "get",
    "-q",
    "--limit-rate",
    "4M",
    `${server.url}/a.bin`,
    local.join("a.bin"),
  ]);
  ok(got >= FLOOR_S, `get: ${got} s`);
  deepEqual(Deno.readFileSync(local.join("a.bin")), content);
  const put = await timed([
    "put",
    "-q",
    "--limit-rate=4MiB",
    local.join("a.bin"),
    `${server.url}/c.bin`,
  ]);
  ok(put >= FLOOR_S, `put: ${put} s`);
  deepEqual(Deno.readFileSync(root.join("c.bin")), content);
  const sync = await timed([
    "sync",
    "-q",
    "--limit-rate",
    "4M",
    local.join("tree"),
    `${server.url}/tree`,
  ]);
  ok(sync >= FLOOR_S, `sync: ${sync} s`);
  deepEqual(Deno.readFileSync(root.join("tree", "b.bin")), content);
  for (const bad of ["0", "abc", "-1K"]) {
    assertFailure(
      await runBftp(["get", `--limit-rate=${bad}`, `${server.url}/a.bin`, local.join("x.bin")]),
      2,
      /Invalid value ".*" for --limit-rate: expected bytes a second/,
    );
  }
});

Deno.test("e2e: --limit-rate holds a one-shot pipe to the rate, on the sending or the receiving end", async () => {
  await using dir = await tempDir();
  const content = randomBytes(2 << 20);
  Deno.writeFileSync(dir.join("a.bin"), content);
  for (
    const [end, args] of [["send", ["--limit-rate", "4M"]], ["recv", ["--limit-rate=4M"]]] as const
  ) {
    const out = dir.join(`from-${end}.bin`);
    const receiver = spawnBftp([
      "recv",
      "-q",
      "--listen",
      "0",
      out,
      ...(end === "recv" ? args : []),
    ]);
    const stderr = receiver.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    while (!/listening on tcp:\/\/\S+:(\d+)\n/.test(said)) {
      const { value, done } = await stderr.read();
      if (done) throw new Error(`recv exited: ${said}`);
      said += value;
    }
    const port = /:(\d+)\n/.exec(said)![1]!;
    const started = performance.now();
    const sent = await timed([
      "send",
      "-q",
      dir.join("a.bin"),
      `127.0.0.1:${port}`,
      ...(end === "send" ? args : []),
    ]);
    const status = await receiver.status;
    const received = (performance.now() - started) / 1000;
    await receiver.stdout.cancel();
    await stderr.cancel();
    equal(status.code, 0);
    deepEqual(Deno.readFileSync(out), content);
    // A limited sender takes the floor's time; a limited receiver does (its reads paced), while
    // its sender may end sooner, its last bytes waiting in the socket's buffers.
    ok(
      (end === "send" ? sent : received) >= FLOOR_S,
      `${end}: ${sent} s sending, ${received} s receiving`,
    );
  }
});
