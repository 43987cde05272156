// End-to-end: the disk fails a read in the middle of a GET's body (an I/O error, injected into the
// server with strace). Nothing can be said in band inside a body, so the server closes the
// connection: the client exits 4 and keeps nothing, and the server goes on serving.
import { deepEqual, equal, ok } from "node:assert/strict";
import { assertFailure, listNames, randomBytes, runBftp, startServe, tempDir } from "./helpers.ts";
import { requirePeers } from "../peers.ts";

/** Attaches strace to `pid`, failing each thread's first read of `path` with EIO, until killed. */
async function failReads(pid: number, path: string): Promise<Deno.ChildProcess> {
  const tracer = new Deno.Command("strace", {
    args: [
      "-f",
      "-p",
      String(pid),
      "-P",
      path,
      "-e",
      "trace=read",
      "-e",
      "inject=read:error=EIO:when=1",
      "-o",
      "/dev/null",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // strace says it has attached on stderr; the rest of its words are not needed.
  const reader = tracer.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("attached")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`strace did not attach: ${said}`);
    said += value;
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return tracer;
}

Deno.test("e2e: an I/O error reading a file mid-body closes the connection; nothing is kept; the server goes on", async () => {
  requirePeers("strace");
  await using root = await tempDir();
  await using local = await tempDir();
  const data = randomBytes(3 << 20);
  const big = await Deno.realPath(root.path).then((dir) => `${dir}/big.bin`);
  await Deno.writeFile(big, data);
  await using server = await startServe(root.path);
  const tracer = await failReads(server.process.pid, big);
  try {
    const cut = await runBftp(["get", "-q", `${server.url}/big.bin`, local.join("big.bin")]);
    assertFailure(cut, 4, /Connection closed after .* of 3\.0 MiB of "\/big\.bin"/);
    deepEqual(await listNames(local.path), []);
  } finally {
    tracer.kill("SIGINT");
    await tracer.status;
  }
  await server.waitForLog(/GET "\/big\.bin" SERVER/);
  ok(server.stderrText().includes("Input/output error"), server.stderrText());
  // The disk well again: the same file comes whole from the same server.
  const again = await runBftp(["get", "-q", `${server.url}/big.bin`, local.join("big.bin")]);
  equal(again.code, 0, again.stderr);
  deepEqual(await Deno.readFile(local.join("big.bin")), data);
});
