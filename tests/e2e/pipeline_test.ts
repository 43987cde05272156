// End-to-end: pipelined sessions (protocol version 2) cut in the middle of a
// batch, and a client that pipelines requests without reading the answers.

import { equal, ok } from "node:assert/strict";
import { encodeSized } from "../../lib/framing/size_header.ts";
import { encodeMessage } from "../../lib/protocol/messages.ts";
import {
  findTemporaries,
  randomBytes,
  readText,
  runBftp,
  spawnBftp,
  startServe,
  tempDir,
  waitFor,
} from "./helpers.ts";

const FILES = 600;

/** Writes FILES small files of random bytes in 6 folders under `dir`; returns them by relative path. */
async function writeBatch(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < FILES; i++) {
    const rel = `d${i % 6}/f${i}.bin`;
    const bytes = randomBytes(1024 + (i * 37) % 4096);
    await Deno.mkdir(`${dir}/d${i % 6}`, { recursive: true });
    await Deno.writeFile(`${dir}/${rel}`, bytes);
    files.set(rel, bytes);
  }
  return files;
}

/** Checks that every visible file under `dir` is whole: byte for byte its source. */
async function checkWhole(dir: string, sources: Map<string, Uint8Array>): Promise<number> {
  let whole = 0;
  for (let i = 0; i < FILES; i++) {
    const rel = `d${i % 6}/f${i}.bin`;
    let got: Uint8Array;
    try {
      got = await Deno.readFile(`${dir}/${rel}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    equal(got.byteLength, sources.get(rel)!.byteLength, `${rel} has the wrong size`);
    ok(got.every((b, j) => b === sources.get(rel)![j]), `${rel} differs from its source`);
    whole++;
  }
  return whole;
}

Deno.test("e2e: a server killed in the middle of a pipelined put -r leaves only whole files, and a restart removes its temporaries", async () => {
  await using local = await tempDir();
  await using root = await tempDir();
  const sources = await writeBatch(local.path);
  const server = await startServe(root.path);
  let client: Deno.ChildProcess | undefined;
  try {
    client = spawnBftp(["put", "-r", "-q", local.path, `${server.url}/up`]);
    const stderr = readText(client.stderr);
    await server.waitForLog(/PUT .* ok /, 50);
    await server.crash();
    const status = await client.status;
    await readText(client.stdout);
    ok(status.code !== 0, `put -r succeeded although its server was killed: ${await stderr}`);
  } finally {
    await server.crash();
  }
  const upRoot = `${root.path}/${(await Array.fromAsync(Deno.readDir(root.path)))[0]!.name}`;
  const whole = await checkWhole(upRoot, sources);
  ok(whole >= 50 && whole < FILES, `${whole} files landed`);
  await using again = await startServe(root.path);
  equal((await findTemporaries(root.path)).length, 0);
  // Sent again (to a new folder: an existing one would take the tree inside it), it completes.
  const redo = await runBftp(["put", "-r", "-q", local.path, `${again.url}/again`]);
  equal(redo.code, 0, redo.stderr);
  equal(await checkWhole(`${root.path}/again`, sources), FILES);
});

Deno.test("e2e: a client killed in the middle of a pipelined get -r leaves only whole files; the next get finishes and tidies", async () => {
  await using root = await tempDir();
  await using dest = await tempDir();
  const sources = await writeBatch(root.path);
  await using server = await startServe(root.path);
  const client = spawnBftp(["get", "-r", "-q", `${server.url}/`, dest.path]);
  const output = Promise.all([readText(client.stdout), readText(client.stderr)]);
  const landed = async () => {
    let n = 0;
    for (let i = 0; i < 6; i++) {
      try {
        for await (const e of Deno.readDir(`${dest.path}/d${i}`)) if (!e.name.startsWith(".")) n++;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    return n;
  };
  await waitFor(async () => (await landed()) >= 50, "50 files to land");
  client.kill("SIGKILL");
  await client.status;
  await output;
  const whole = await checkWhole(dest.path, sources);
  ok(whole >= 50, `${whole} files landed`);
  const again = await runBftp(["get", "-r", "-q", `${server.url}/`, dest.path]);
  equal(again.code, 0, again.stderr);
  equal(await checkWhole(dest.path, sources), FILES);
  for (let i = 0; i < 6; i++) {
    const hidden = (await Array.fromAsync(Deno.readDir(`${dest.path}/d${i}`)))
      .filter((e) => e.name.startsWith("."));
    equal(hidden.length, 0, `temporaries left in d${i}: ${hidden.map((e) => e.name)}`);
  }
});

Deno.test("e2e: get -r -p (through the landing thread) and sync (probing) of many small files land them whole, with times and modes", async () => {
  await using root = await tempDir();
  await using dest = await tempDir();
  const sources = await writeBatch(root.path);
  const mtime = new Date(1_600_000_000_000);
  for (let i = 0; i < FILES; i += 7) {
    await Deno.chmod(`${root.path}/d${i % 6}/f${i}.bin`, 0o604);
    await Deno.utime(`${root.path}/d${i % 6}/f${i}.bin`, mtime, mtime);
  }
  await using server = await startServe(root.path);
  // The thread forced (on a quick disk a probing lander writes here; the sync below probes).
  const got = await runBftp(["get", "-r", "-p", "-q", `${server.url}/`, dest.join("get")], {
    env: { BFTP_LANDER: "thread" },
  });
  equal(got.code, 0, got.stderr);
  equal(await checkWhole(dest.join("get"), sources), FILES);
  for (const i of [0, 7, 595]) {
    const info = await Deno.stat(dest.join(`get/d${i % 6}/f${i}.bin`));
    equal(info.mode! & 0o777, 0o604, `f${i}'s mode`);
    equal(info.mtime?.getTime(), mtime.getTime(), `f${i}'s time`);
  }
  const synced = await runBftp(["sync", "-q", `${server.url}/`, dest.join("sync")]);
  equal(synced.code, 0, synced.stderr);
  equal(await checkWhole(dest.join("sync"), sources), FILES);
  equal((await Deno.stat(dest.join("sync/d0/f0.bin"))).mtime?.getTime(), mtime.getTime());
  equal((await findTemporaries(dest.path)).length, 0);
});

Deno.test("e2e: a client that pipelines GETs and reads nothing does not make the server buffer them", async () => {
  await using root = await tempDir();
  await Deno.writeFile(root.join("big.bin"), randomBytes(1 << 20));
  await using server = await startServe(root.path);
  const port = Number(new URL(server.url.replace("bftp:", "http:")).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode("BFTP/2\n"));
    // 400 GETs of 1 MiB each: 400 MiB of answers that nobody reads.
    const gets = Array.from(
      { length: 400 },
      (_, id) => encodeSized(encodeMessage({ op: "GET", path: "big.bin", id } as never)),
    );
    const batch = new Uint8Array(gets.reduce((n, g) => n + g.byteLength, 0));
    let at = 0;
    for (const g of gets) {
      batch.set(g, at);
      at += g.byteLength;
    }
    await conn.write(batch);
    // Give the server time to fill whatever it would buffer.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const status = await Deno.readTextFile(`/proc/${server.process.pid}/status`);
    const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
    ok(rssKiB > 0, status);
    ok(rssKiB < 150 * 1024, `the server holds ${Math.round(rssKiB / 1024)} MB`);
  } finally {
    conn.close();
  }
  // And it still serves.
  const ls = await runBftp(["ls", `${server.url}/`]);
  equal(ls.code, 0, ls.stderr);
});
