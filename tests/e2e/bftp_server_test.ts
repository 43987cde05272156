// End-to-end: `bftp serve` under interruptions: clients killed mid-upload and
// mid-download, a server crash mid-upload, leftover temporary files, the
// request log, misbehaving and concurrent clients.

import { deepEqual, equal, ok } from "node:assert/strict";
import { frame } from "./fake_bftp_server.ts";
import {
  assertFailure,
  findTemporaries,
  listNames,
  randomBytes,
  readText,
  runBftp,
  sha256File,
  spawnBftp,
  startServe,
  tempDir,
  waitFor,
  writeRandomFile,
} from "./helpers.ts";

/** Sizes of the upload temporaries directly in `dir`. */
async function temporarySizes(dir: string): Promise<number[]> {
  const sizes: number[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith(".bftp-tmp-")) sizes.push((await Deno.stat(`${dir}/${e.name}`)).size);
  }
  return sizes;
}

/**
 * Starts `bftp put - URL`, feeds it 4 MiB, and waits until the server's
 * temporary file has received some of them: the upload is surely in flight.
 */
async function startStalledUpload(url: string, rootDir: string) {
  const child = spawnBftp(["put", "-", url], { pipeStdin: true });
  const stdout = readText(child.stdout);
  const stderr = readText(child.stderr);
  const writer = child.stdin.getWriter();
  await writer.write(randomBytes(4 << 20));
  await waitFor(
    async () => (await temporarySizes(rootDir)).some((n) => n > 0),
    "the upload's temporary file to fill",
  );
  return { child, writer, stdout, stderr };
}

Deno.test("e2e: a client killed mid-upload leaves no file and no temporary", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("other.txt"), "other");
  await using server = await startServe(root.path);
  const before = await runBftp(["ls", "--json", `${server.url}/`]);
  equal(before.code, 0, before.stderr);

  const upload = await startStalledUpload(`${server.url}/big.bin`, root.path);
  // While in flight, the temporary file is not listed.
  equal((await runBftp(["ls", "--json", `${server.url}/`])).stdout, before.stdout);
  upload.child.kill("SIGKILL");
  equal((await upload.child.status).signal, "SIGKILL");
  await upload.writer.abort().catch(() => {});
  await Promise.all([upload.stdout, upload.stderr]);

  await server.waitForLog(/ PUT "\/big\.bin" CONNECTION /);
  await waitFor(async () => (await findTemporaries(root.path)).length === 0, "no temporaries");
  deepEqual(await listNames(root.path), ["other.txt"]);
  equal((await runBftp(["ls", "--json", `${server.url}/`])).stdout, before.stdout);
  ok(!server.stderrText().includes("internal error"), server.stderrText());
});

Deno.test("e2e: a client killed mid-upload over an existing file leaves it intact", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const oldHash = await writeRandomFile(root.join("data.bin"), 1_000_000);
  await using server = await startServe(root.path);
  const before = await runBftp(["ls", "-l", `${server.url}/`]);

  const upload = await startStalledUpload(`${server.url}/data.bin`, root.path);
  upload.child.kill("SIGKILL");
  await upload.child.status;
  await upload.writer.abort().catch(() => {});
  await Promise.all([upload.stdout, upload.stderr]);

  await server.waitForLog(/ PUT "\/data\.bin" CONNECTION /);
  await waitFor(async () => (await findTemporaries(root.path)).length === 0, "no temporaries");
  equal(await sha256File(root.join("data.bin")), oldHash);
  equal((await runBftp(["ls", "-l", `${server.url}/`])).stdout, before.stdout);
  const get = await runBftp(["get", `${server.url}/data.bin`, local.join("data.bin")]);
  equal(get.code, 0, get.stderr);
  equal(await sha256File(local.join("data.bin")), oldHash);
});

Deno.test("e2e: a client hanging up inside a PUT body of known size leaves nothing", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  const port = Number(new URL(server.url.replace("bftp:", "http:")).port);
  {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const reader = conn.readable.getReader();
    const write = async (bytes: Uint8Array) => {
      for (let done = 0; done < bytes.byteLength;) done += await conn.write(bytes.subarray(done));
    };
    const readSome = async () => new TextDecoder().decode((await reader.read()).value);
    await write(new TextEncoder().encode("BFTP/1\n"));
    ok((await readSome()).includes('"version":1'));
    await write(frame({ op: "PUT", path: "/part.bin", size: 1_000_000, overwrite: true }));
    ok((await readSome()).includes('"ready":true'));
    await write(new TextEncoder().encode((1_000_000).toString(16).padStart(16, "0")));
    await write(randomBytes(400_000));
    await waitFor(async () => (await temporarySizes(root.path)).some((n) => n > 0), "bytes");
    reader.releaseLock();
  }
  await server.waitForLog(/ PUT "\/part\.bin" CONNECTION /);
  await waitFor(async () => (await listNames(root.path)).length === 0, "an empty root");
});

Deno.test("e2e: a server killed mid-upload leaves a temporary that a restart removes", async () => {
  await using root = await tempDir();
  const first = await startServe(root.path);
  try {
    const upload = await startStalledUpload(`${first.url}/big.bin`, root.path);
    await first.crash();
    await upload.writer.close().catch(() => {});
    const [status, stdout, stderr] = await Promise.all([
      upload.child.status,
      upload.stdout,
      upload.stderr,
    ]);
    assertFailure({ code: status.code, stdout, stdoutBytes: new Uint8Array(), stderr }, 4);
  } finally {
    await first.crash();
  }
  equal((await findTemporaries(root.path)).length, 1);
  // Leftovers elsewhere in the tree go too; look-alike names stay (a user's own files).
  await Deno.mkdir(root.join("sub", "deeper"), { recursive: true });
  await Deno.writeTextFile(root.join(`.bftp-tmp-${crypto.randomUUID()}.part`), "left");
  await Deno.writeTextFile(
    root.join("sub", "deeper", `.bftp-tmp-${crypto.randomUUID()}.part`),
    "left",
  );
  await Deno.writeTextFile(root.join("sub", "keep.part"), "keep");
  await Deno.writeTextFile(root.join(".bftp-tmpnot"), "keep");
  await Deno.writeTextFile(root.join(".bftp-tmp-mine.part"), "mine");

  await using second = await startServe(root.path);
  deepEqual(await findTemporaries(root.path), [".bftp-tmp-mine.part"]);
  deepEqual(await listNames(root.path), [".bftp-tmp-mine.part", ".bftp-tmpnot", "sub"]);
  equal(await Deno.readTextFile(root.join(".bftp-tmp-mine.part")), "mine");
  deepEqual(await listNames(root.join("sub")), ["deeper", "keep.part"]);
  deepEqual(await listNames(root.join("sub", "deeper")), []);
  ok(/removed 3 temporary file/.test(second.stderrText()), second.stderrText());
});

Deno.test("e2e: a second bftp serve on the same folder leaves the first one's upload in progress alone", async () => {
  await using root = await tempDir();
  await using first = await startServe(root.path);
  const upload = await startStalledUpload(`${first.url}/big.bin`, root.path);
  const [temporary] = await findTemporaries(root.path);
  // A second server on the same folder (say, one plain and one TLS) cleans up as it starts.
  await using second = await startServe(root.path);
  deepEqual(await findTemporaries(root.path), [temporary]);
  ok(!/removed \d+ temporary file/.test(second.stderrText()), second.stderrText());
  // The first server's upload goes on and lands.
  const rest = randomBytes(1 << 20);
  await upload.writer.write(rest);
  await upload.writer.close();
  const [status, , stderr] = await Promise.all([upload.child.status, upload.stdout, upload.stderr]);
  equal(status.code, 0, stderr);
  equal((await Deno.stat(root.join("big.bin"))).size, (4 << 20) + (1 << 20));
  deepEqual(await findTemporaries(root.path), []);
});

Deno.test({
  name: "e2e: put over an existing file keeps its permissions, with or without --resume",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using root = await tempDir();
    await using local = await tempDir();
    const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o7777;
    for (const name of ["hello.txt", "resumed.txt"]) {
      await Deno.writeTextFile(root.join(name), "private");
      await Deno.chmod(root.join(name), 0o600);
    }
    await Deno.writeTextFile(local.join("one.txt"), "one");
    await Deno.writeTextFile(root.join("probe"), "", { mode: 0o644 });
    const defaultMode = await modeOf(root.join("probe"));
    await Deno.remove(root.join("probe"));
    await using server = await startServe(root.path);
    for (
      const args of [
        ["put", local.join("one.txt"), `${server.url}/hello.txt`],
        ["put", "--resume", local.join("one.txt"), `${server.url}/resumed.txt`],
        ["put", local.join("one.txt"), `${server.url}/new.txt`],
      ]
    ) {
      const r = await runBftp(args);
      equal(r.code, 0, r.stderr);
    }
    for (const name of ["hello.txt", "resumed.txt", "new.txt"]) {
      equal(await Deno.readTextFile(root.join(name)), "one");
    }
    equal(await modeOf(root.join("hello.txt")), 0o600);
    equal(await modeOf(root.join("resumed.txt")), 0o600);
    await server.waitForLog(/ PUT "\/resumed\.txt" \(resumable\) ok /);
    equal(await modeOf(root.join("new.txt")), defaultMode);
  },
});

Deno.test("e2e: a client killed mid-download does not upset the server", async () => {
  await using root = await tempDir();
  await writeRandomFile(root.join("big.bin"), 64 << 20);
  await Deno.writeTextFile(root.join("small.txt"), "small");
  await using server = await startServe(root.path);
  const child = spawnBftp(["get", `${server.url}/big.bin`, "-"]);
  const stderr = readText(child.stderr);
  const reader = child.stdout.getReader();
  ok(((await reader.read()).value?.byteLength ?? 0) > 0);
  // Stop reading: the pipe, then the client's socket, then the server's fill up.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel();
  await stderr;

  await server.waitForLog(/ GET "\/big\.bin" /);
  ok(server.logLines(/ GET "\/big\.bin" CONNECTION /).length === 1, server.stderrText());
  ok(!server.stderrText().includes("internal error"), server.stderrText());
  const after = await runBftp(["get", `${server.url}/small.txt`, "-"]);
  equal(after.code, 0, after.stderr);
  equal(after.stdout, "small");
});

Deno.test("e2e: bftp serve logs one line per request and keeps serving after errors", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "abc");
  await using server = await startServe(root.path);
  const ok0 = (r: { code: number; stderr: string }) => equal(r.code, 0, r.stderr);

  ok0(await runBftp(["stat", `${server.url}/a.txt`]));
  equal((await runBftp(["get", `${server.url}/nope`, "-"])).code, 10);
  equal((await runBftp(["get", `${server.url}/../up`, "-"])).code, 12);
  // A client that does not speak BFTP gets an answer and is dropped.
  {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
    await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    const answer = new TextDecoder().decode(await new Response(conn.readable).bytes());
    ok(answer.includes('"code":"BAD_REQUEST"'), answer);
  }
  // A client that hangs up in the middle of a frame.
  {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
    await conn.write(new TextEncoder().encode('BFTP/1\n00000100{"op"'));
    await conn.read(new Uint8Array(1024));
  }
  const get = await runBftp(["get", `${server.url}/a.txt`, "-"]);
  ok0(get);
  equal(get.stdout, "abc");

  const request = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ [A-Z]+ .*\d+\.\dms$/;
  await server.waitForLog(/ QUIT ok /, 4);
  const lines = server.logLines(/ \d+\.\dms$/);
  for (const line of lines) ok(request.test(line), line);
  deepEqual(lines.map((l) => l.split(" ").slice(2, -1).join(" ")), [
    'STAT "/a.txt" ok',
    "QUIT ok",
    'GET "/nope" NOT_FOUND',
    "QUIT ok",
    'GET "/../up" BAD_PATH',
    "QUIT ok",
    'GET "/a.txt" ok 3B',
    "QUIT ok",
  ]);
});

function portOf(url: string): number {
  return Number(/:(\d+)$/.exec(url)![1]);
}

Deno.test("e2e: bftp serve answers 8 clients downloading at once", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const hash = await writeRandomFile(root.join("shared.bin"), 8 << 20);
  await using server = await startServe(root.path);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      runBftp(["get", `${server.url}/shared.bin`, `c${i}`], {
        cwd: local.path,
      })),
  );
  for (const r of results) equal(r.code, 0, r.stderr);
  for (let i = 0; i < 8; i++) equal(await sha256File(local.join(`c${i}`)), hash);
  await server.waitForLog(/ GET "\/shared\.bin" ok 8388608B /, 8);
  const peers = new Set(server.logLines(/ GET /).map((l) => l.split(" ")[1]));
  equal(peers.size, 8);
});

Deno.test("e2e: SIGTERM during an upload stops the server cleanly and drops the upload", async () => {
  await using root = await tempDir();
  const server = await startServe(root.path);
  try {
    const upload = await startStalledUpload(`${server.url}/big.bin`, root.path);
    await server.stop(); // asserts exit code 0
    await upload.writer.close().catch(() => {});
    const [status, stdout, stderr] = await Promise.all([
      upload.child.status,
      upload.stdout,
      upload.stderr,
    ]);
    assertFailure({ code: status.code, stdout, stdoutBytes: new Uint8Array(), stderr }, 4);
  } finally {
    await server.stop();
  }
  deepEqual(await listNames(root.path), []);
  ok(/ PUT "\/big\.bin" CONNECTION /.test(server.stderrText()), server.stderrText());
  ok(!server.stderrText().includes("internal error"), server.stderrText());
  ok(server.stderrText().trimEnd().endsWith(" stopped"), server.stderrText());
});

Deno.test("e2e: bftp serve stops cleanly on SIGINT too", async () => {
  await using root = await tempDir();
  const server = await startServe(root.path);
  server.process.kill("SIGINT");
  const status = await server.process.status;
  equal(status.code, 0, server.stderrText());
  await server.stop();
});

Deno.test("e2e: parallel uploads to one name leave one whole upload, never a mix", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const hashes = new Set<string>();
  for (let i = 0; i < 4; i++) hashes.add(await writeRandomFile(local.join(`v${i}`), 3 << 20));
  await using server = await startServe(root.path);
  const results = await Promise.all(
    [0, 1, 2, 3].map((i) => runBftp(["put", local.join(`v${i}`), `${server.url}/same.bin`])),
  );
  for (const r of results) equal(r.code, 0, r.stderr);
  ok(hashes.has(await sha256File(root.join("same.bin"))));
  deepEqual(await listNames(root.path), ["same.bin"]);
});
