// End-to-end: a 256 MiB file through `bftp put` and `bftp get`, as files and
// through stdin/stdout pipes, hashed on both ends.

import { equal } from "node:assert/strict";
import {
  findTemporaries,
  readText,
  runBftp,
  sha256File,
  sha256Stream,
  spawnBftp,
  startServe,
  tempDir,
  writeRandomFile,
} from "./helpers.ts";

const BIG = 256 * 1024 * 1024;

Deno.test("e2e: a 256 MiB file survives put and get intact, and bftp hash agrees", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const sourceHash = await writeRandomFile(local.join("big.bin"), BIG);
  await using server = await startServe(root.path);

  const put = await runBftp(["put", local.join("big.bin"), `${server.url}/big.bin`]);
  equal(put.code, 0, put.stderr);
  equal((await Deno.stat(root.join("big.bin"))).size, BIG);
  equal(await sha256File(root.join("big.bin")), sourceHash);

  const hash = await runBftp(["hash", `${server.url}/big.bin`]);
  equal(hash.code, 0, hash.stderr);
  equal(hash.stdout, `${sourceHash}  big.bin\n`);

  const get = await runBftp(["get", `${server.url}/big.bin`, local.join("back.bin")]);
  equal(get.code, 0, get.stderr);
  equal((await Deno.stat(local.join("back.bin"))).size, BIG);
  equal(await sha256File(local.join("back.bin")), sourceHash);

  equal((await findTemporaries(root.path)).length, 0);
  equal((await findTemporaries(local.path)).length, 0);
  await server.waitForLog(/ PUT "\/big\.bin" ok 268435456B /);
  await server.waitForLog(/ GET "\/big\.bin" ok 268435456B /);
});

Deno.test("e2e: a 256 MiB stream goes through put - (stdin) and get URL - (stdout)", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const sourceHash = await writeRandomFile(local.join("big.bin"), BIG);
  await using server = await startServe(root.path);

  const put = spawnBftp(["put", "-", `${server.url}/streamed.bin`], { pipeStdin: true });
  const source = await Deno.open(local.join("big.bin"));
  const [putStatus, putOut, putErr] = await Promise.all([
    put.status,
    readText(put.stdout),
    readText(put.stderr),
    source.readable.pipeTo(put.stdin),
  ]);
  equal(putStatus.code, 0, putErr);
  equal(putOut, "");
  equal(putErr, "");
  equal(await sha256File(root.join("streamed.bin")), sourceHash);

  const get = spawnBftp(["get", `${server.url}/streamed.bin`, "-"]);
  const [getStatus, received, getErr] = await Promise.all([
    get.status,
    sha256Stream(get.stdout),
    readText(get.stderr),
  ]);
  equal(getStatus.code, 0, getErr);
  equal(getErr, "");
  equal(received.size, BIG);
  equal(received.sha256, sourceHash);

  const hash = await runBftp(["hash", `${server.url}/streamed.bin`]);
  equal(hash.stdout, `${sourceHash}  streamed.bin\n`);
  equal((await findTemporaries(root.path)).length, 0);
});
