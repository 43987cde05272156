// End-to-end: scripts/peers/bftp_client.py, a Python client written from
// docs/PROTOCOL.md alone, against a real `bftp serve`: a check that the spec
// is exact enough to write a client from it.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { randomBytes, sha256, startServe, tempDir } from "./helpers.ts";

const CLIENT = new URL("../../scripts/peers/bftp_client.py", import.meta.url).pathname;

/** What a run of the Python client produced. */
interface PyResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The port of a `bftp://HOST:PORT` URL. */
function portOf(url: string): string {
  return /:(\d+)$/.exec(url)![1]!;
}

/** Runs `bftp_client.py 127.0.0.1 PORT ...args` and waits for it. */
async function py(
  url: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<PyResult> {
  const { code, stdout, stderr } = await new Deno.Command("python3", {
    args: [CLIENT, "127.0.0.1", portOf(url), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Asserts a run succeeded, and returns its stdout. */
function succeeded(result: PyResult, what: string): string {
  equal(result.code, 0, `${what}: exit ${result.code}, stderr: ${result.stderr}`);
  equal(result.stderr, "", `${what}: stderr should be empty`);
  return result.stdout;
}

/** Asserts a run failed with exit 1 and `error CODE: ...` on stderr. */
function failedWith(result: PyResult, code: string, what: string): void {
  const context = `${what}: exit ${result.code}, stderr: ${JSON.stringify(result.stderr)}`;
  equal(result.code, 1, context);
  match(result.stderr, new RegExp(`^error ${code}: .+`, "m"), context);
  ok(!/Traceback/.test(result.stderr), `no Python traceback, ${context}`);
}

/** Names in a folder, sorted. */
async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("e2e: python client: put then get of random files (0 B, 1 B, ~1 MiB, a few MiB) round-trips byte for byte", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  const sizes = [0, 1, (1 << 20) + 17, 3 * (1 << 20) + 5];
  for (const size of sizes) {
    const data = randomBytes(size);
    const src = local.join(`src-${size}.bin`);
    await Deno.writeFile(src, data);
    succeeded(await py(server.url, ["put", src, `/f-${size}.bin`]), `put ${size}`);
    deepEqual(await Deno.readFile(root.join(`f-${size}.bin`)), data, `stored ${size}`);
    const dest = local.join(`back-${size}.bin`);
    succeeded(await py(server.url, ["get", `/f-${size}.bin`, dest]), `get ${size}`);
    const back = await Deno.readFile(dest);
    equal(back.byteLength, size);
    deepEqual(back, data, `downloaded ${size}`);
  }
  // Only the sources and the downloads: no temporary file left beside them.
  deepEqual(
    await names(local.path),
    sizes.flatMap((s) => [`back-${s}.bin`, `src-${s}.bin`]).sort(),
  );
  // A second put replaces the file (overwrite is true).
  const again = randomBytes(1000);
  await Deno.writeFile(local.join("again.bin"), again);
  succeeded(await py(server.url, ["put", local.join("again.bin"), "/f-1.bin"]), "put again");
  deepEqual(await Deno.readFile(root.join("f-1.bin")), again);
});

Deno.test("e2e: python client: ls and stat show what was put", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  const files = { "b.bin": 300, "a.txt": 5, "c.dat": 70_000 };
  for (const [name, size] of Object.entries(files)) {
    await Deno.writeFile(local.join(name), randomBytes(size));
    succeeded(await py(server.url, ["put", local.join(name), `/${name}`]), `put ${name}`);
  }
  const listed = succeeded(await py(server.url, ["ls", "/"]), "ls /");
  deepEqual(listed, "a.txt\nb.bin\nc.dat\n", "ls prints the names, sorted, one a line");
  for (const [name, size] of Object.entries(files)) {
    const entry = JSON.parse(succeeded(await py(server.url, ["stat", `/${name}`]), `stat ${name}`));
    equal(entry.name, name);
    equal(entry.type, "file");
    equal(entry.size, size);
    const info = await Deno.stat(root.join(name));
    equal(entry.mtime, info.mtime!.getTime());
    equal(entry.mode, info.mode! & 0o7777);
  }
  const rootEntry = JSON.parse(succeeded(await py(server.url, ["stat", "/"]), "stat /"));
  equal(rootEntry.name, "/");
  equal(rootEntry.type, "dir");
  equal(rootEntry.size, 0);
});

Deno.test("e2e: python client: mkdir, mv, rm and hash", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  succeeded(await py(server.url, ["mkdir", "/docs"]), "mkdir");
  ok((await Deno.stat(root.join("docs"))).isDirectory);
  failedWith(await py(server.url, ["mkdir", "/docs"]), "EXISTS", "mkdir of an existing folder");
  failedWith(await py(server.url, ["mkdir", "/no/such"]), "NOT_FOUND", "mkdir without parent");

  const data = randomBytes(123_457);
  await Deno.writeFile(local.join("x.bin"), data);
  succeeded(await py(server.url, ["put", local.join("x.bin"), "/docs/x.bin"]), "put");
  const printed = succeeded(await py(server.url, ["hash", "/docs/x.bin"]), "hash").trim();
  equal(printed, sha256(data), "HASH gives the SHA-256 of the bytes");
  // Again (the server may answer from its cache now): the same hash.
  equal(succeeded(await py(server.url, ["hash", "docs/x.bin"]), "hash again").trim(), sha256(data));
  failedWith(await py(server.url, ["hash", "/docs"]), "IS_DIR", "hash of a folder");

  succeeded(await py(server.url, ["mv", "/docs/x.bin", "/y.bin"]), "mv");
  deepEqual(await names(root.join("docs")), []);
  deepEqual(await Deno.readFile(root.join("y.bin")), data);
  failedWith(await py(server.url, ["mv", "/docs/x.bin", "/z.bin"]), "NOT_FOUND", "mv of nothing");

  succeeded(await py(server.url, ["rm", "/y.bin"]), "rm");
  deepEqual(await names(root.path), ["docs"]);
  failedWith(await py(server.url, ["rm", "/y.bin"]), "NOT_FOUND", "rm of nothing");
  failedWith(await py(server.url, ["rm", "/docs"]), "IS_DIR", "rm of a folder");
  succeeded(await py(server.url, ["rmdir", "/docs"]), "rmdir");
  deepEqual(await names(root.path), []);
});

Deno.test("e2e: python client: mget fetches several files in one request", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  const files = new Map<string, Uint8Array>();
  await Deno.mkdir(root.join("t"));
  for (let i = 0; i < 6; i++) {
    const bytes = randomBytes(i === 0 ? 0 : 1000 * i * i + i);
    files.set(`f${i}.bin`, bytes);
    await Deno.writeFile(root.join("t", `f${i}.bin`), bytes);
  }
  await Deno.mkdir(local.join("out"));
  const paths = [...files.keys()].map((n) => `/t/${n}`);
  succeeded(await py(server.url, ["mget", ...paths, local.join("out")]), "mget");
  deepEqual(await names(local.join("out")), [...files.keys()].sort());
  for (const [name, bytes] of files) {
    deepEqual(await Deno.readFile(local.join("out", name)), bytes, name);
  }
  // One MGET request naming the 6 paths, and no GET: the server logged it so.
  await server.waitForLog(/ MGET 6 paths /);
  deepEqual(server.logLines(/ MGET /).length, 1);
  deepEqual(server.logLines(/ GET /), []);
});

Deno.test("e2e: python client: mget with a missing path fails that file only", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  const a = randomBytes(4000);
  const c = randomBytes(5);
  await Deno.writeFile(root.join("a"), a);
  await Deno.writeFile(root.join("c"), c);
  const result = await py(server.url, ["mget", "/a", "/b", "/c", local.path]);
  failedWith(result, "NOT_FOUND", "mget with /b missing");
  equal(result.stderr.trim().split("\n").length, 1, "one error line, for /b only");
  match(result.stderr, /\/b/);
  deepEqual(await names(local.path), ["a", "c"]);
  deepEqual(await Deno.readFile(local.join("a")), a);
  deepEqual(await Deno.readFile(local.join("c")), c);
});

Deno.test("e2e: python client: pipelined STATs come back in order with their ids", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  await Deno.writeFile(root.join("p.bin"), randomBytes(777));
  for (const n of [50, 700]) {
    const out = succeeded(await py(server.url, ["pipeline-stat", String(n), "/p.bin"]), `${n}`);
    const [summary, json] = out.trim().split("\n");
    equal(summary, `${n} replies in order, ids 1..${n}, before-first-read ${Math.min(n, 256)}`);
    const entry = JSON.parse(json!);
    equal(entry.name, "p.bin");
    equal(entry.size, 777);
  }
  // An error in the middle of a pipeline is that request's reply, in its place.
  const missing = await py(server.url, ["pipeline-stat", "20", "/nothing"]);
  failedWith(missing, "NOT_FOUND", "pipelined STAT of nothing");
});

Deno.test("e2e: python client: errors: a missing file is NOT_FOUND, a path above the root BAD_PATH", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  await Deno.writeFile(root.join("here.txt"), new TextEncoder().encode("here"));
  const dest = local.join("got");

  failedWith(await py(server.url, ["get", "/missing.bin", dest]), "NOT_FOUND", "get of nothing");
  failedWith(await py(server.url, ["get", "../x", dest]), "BAD_PATH", "get ../x");
  failedWith(await py(server.url, ["get", "/a/../../x", dest]), "BAD_PATH", "get /a/../../x");
  failedWith(await py(server.url, ["stat", "../x"]), "BAD_PATH", "stat ../x");
  failedWith(await py(server.url, ["ls", "../"]), "BAD_PATH", "ls ../");
  failedWith(await py(server.url, ["get", "/", dest]), "IS_DIR", "get /");
  failedWith(await py(server.url, ["ls", "/here.txt"]), "NOT_DIR", "ls of a file");
  failedWith(
    await py(server.url, ["get", "/.bftp-tmp-x.part", dest]),
    "BAD_PATH",
    "the reserved prefix",
  );
  deepEqual(await names(local.path), [], "a failed get leaves no file, not even a temporary one");

  await Deno.writeFile(local.join("up"), randomBytes(10));
  failedWith(await py(server.url, ["put", local.join("up"), "../x"]), "BAD_PATH", "put ../x");
  failedWith(await py(server.url, ["put", local.join("up"), "/"]), "IS_DIR", "put /");
  failedWith(await py(server.url, ["put", local.join("up"), "/no/x"]), "NOT_FOUND", "put, no dir");
  deepEqual(await names(root.path), ["here.txt"]);
});

Deno.test("e2e: python client: a read-only server refuses changes with DENIED, and a token is sent when asked", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeFile(root.join("r.txt"), new TextEncoder().encode("read me"));
  await Deno.writeFile(local.join("up"), randomBytes(10));
  {
    await using server = await startServe(root.path, ["--read-only"]);
    failedWith(await py(server.url, ["put", local.join("up"), "/up"]), "DENIED", "put");
    failedWith(await py(server.url, ["mkdir", "/d"]), "DENIED", "mkdir");
    failedWith(await py(server.url, ["rm", "/r.txt"]), "DENIED", "rm");
    failedWith(await py(server.url, ["mv", "/r.txt", "/s.txt"]), "DENIED", "mv");
    succeeded(await py(server.url, ["get", "/r.txt", local.join("r.txt")]), "get");
    equal(await Deno.readTextFile(local.join("r.txt")), "read me");
  }
  {
    await using server = await startServe(root.path, ["--token", "s3cret-token"]);
    failedWith(await py(server.url, ["ls", "/"]), "DENIED", "no token");
    failedWith(await py(server.url, ["ls", "/"], { BFTP_TOKEN: "wrong" }), "DENIED", "wrong token");
    equal(
      succeeded(await py(server.url, ["ls", "/"], { BFTP_TOKEN: "s3cret-token" }), "token"),
      "r.txt\n",
    );
  }
});

const enc = new TextEncoder();

/** A frame: 8 lowercase hex digits of the payload's length, then the JSON payload. */
function frame(message: unknown): Uint8Array {
  const payload = enc.encode(JSON.stringify(message));
  return new Uint8Array([
    ...enc.encode(payload.byteLength.toString(16).padStart(8, "0")),
    ...payload,
  ]);
}

/**
 * A tiny server of the test's own, speaking just enough BFTP (from the spec)
 * to misbehave on purpose: it answers the hello, waits for the first request
 * whose op is `op`, and writes what `answer` makes of that request's id; then
 * it reads until the client hangs up.
 */
async function withFakeServer(
  op: string,
  answer: (id: number) => Uint8Array,
  run: (url: string) => Promise<PyResult>,
): Promise<PyResult> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    let seen = "";
    const readUntil = async (test: () => boolean) => {
      while (!test()) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return;
        seen += new TextDecoder().decode(buf.subarray(0, n));
      }
    };
    await readUntil(() => seen.includes("\n"));
    await conn.write(frame({ ok: true, version: 2, checksum: "sha256", features: [] }));
    await readUntil(() => seen.includes(`"${op}"`));
    const id = Number(/"id":(\d+)/.exec(seen)![1]);
    await conn.write(answer(id));
    await readUntil(() => false); // until the client hangs up
    conn.close();
  })();
  try {
    return await run(`bftp://127.0.0.1:${listener.addr.port}`);
  } finally {
    await serving;
    listener.close();
  }
}

Deno.test("e2e: python client: a body whose trailer does not match is refused, and nothing is written", async () => {
  await using local = await tempDir();
  const body = enc.encode("0000000000000005hello" + sha256("jello"));
  const result = await withFakeServer(
    "GET",
    (id) => new Uint8Array([...frame({ ok: true, size: 5, mtime: 0, id }), ...body]),
    (url) => py(url, ["get", "/hello", local.join("hello")]),
  );
  failedWith(result, "INTEGRITY", "wrong trailer");
  deepEqual(await names(local.path), [], "neither the file nor a temporary is left");
});

Deno.test("e2e: python client: a reply with another id is taken as a stream out of step", async () => {
  const entry = { name: "p", type: "file", size: 1, mtime: 0, mode: 420 };
  const result = await withFakeServer(
    "STAT",
    (id) => frame({ ok: true, entry, id: id + 1 }),
    (url) => py(url, ["pipeline-stat", "5", "/p"]),
  );
  failedWith(result, "PROTOCOL", "wrong id");
  match(result.stderr, /out of step/);
  equal(result.stdout, "");
});
