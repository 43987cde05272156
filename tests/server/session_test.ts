import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import { encodeSized, encodeSizeHeader } from "../../lib/framing/size_header.ts";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { encodeMessage, type Request } from "../../lib/protocol/messages.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { runSession } from "../../lib/server/session.ts";
import {
  concat,
  MemoryReader,
  MemoryWriter,
  randomBytes,
  seededRandom,
} from "../framing/helpers.ts";
import { expectRemoteError, hostTree, startTestServer } from "./helpers.ts";
import { hashIn, sha256, tempDir, waitFor } from "../helpers.ts";

/** XXH3-128 of bytes or text: the checksum a default session settles. */
const xxh3 = (data: Uint8Array | string) => hashIn("xxh3-128", data);

const encoder = new TextEncoder();

const LAYOUT = {
  "a.txt": "alpha",
  "docs/b.txt": "bravo",
  "docs/sub/": "",
  "full/x": "x",
  "empty/": "",
};

async function mkfifo(path: string): Promise<void> {
  const { code } = await new Deno.Command("mkfifo", { args: [path], stderr: "null" }).output();
  equal(code, 0, "mkfifo failed");
}

Deno.test("server: the hello tells the version, the server and read-only, never the host path", async () => {
  await using srv = await startTestServer();
  using client = await srv.connect();
  equal(client.hello.version, 2);
  equal(client.hello.checksum, "xxh3-128");
  equal(client.hello.readOnly, false);
  ok(String(client.hello.server).startsWith("bftp "));
  ok(!JSON.stringify(client.hello).includes(srv.root));
});

Deno.test("server: PWD and CD keep a folder per session", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using one = await srv.connect();
  using two = await srv.connect();
  equal(await one.pwd(), "/");
  equal(await one.cd("docs"), "/docs");
  equal(await one.cd("sub"), "/docs/sub");
  equal(await two.cd("/full"), "/full");
  // Each session keeps its own folder, and relative paths resolve against it.
  equal(await one.pwd(), "/docs/sub");
  equal(await two.pwd(), "/full");
  deepEqual((await two.list(".")).map((e) => e.name), ["x"]);
  deepEqual((await one.list("..")).map((e) => e.name), ["b.txt", "sub"]);
  equal((await one.stat("../b.txt")).size, 5);
  equal(await one.cd(".."), "/docs");
  equal(await one.cd("../docs/./sub/.."), "/docs");
  equal(await one.cd("/"), "/");
  equal(await two.pwd(), "/full");
  for (const cwd of [await one.pwd(), await two.pwd()]) ok(!cwd.includes(srv.root));
});

Deno.test("server: CD errors leave the session and its folder as they were", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  await client.cd("docs");
  const fail = (path: string, code: Parameters<typeof expectRemoteError>[2]) =>
    expectRemoteError(client, () => client.cd(path), code, srv.root, "/docs");
  await fail("missing", "NOT_FOUND");
  await fail("b.txt", "NOT_DIR");
  await fail("../..", "BAD_PATH");
  await fail("/../etc", "BAD_PATH");
  await fail("a\\b", "BAD_PATH");
  await fail("b.txt/x", "NOT_DIR");
});

Deno.test("server: LIST reports names, types and sizes, sorted, without temporaries", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  await Deno.writeTextFile(`${srv.root}/.bftp-tmp-leftover.part`, "junk");
  await Deno.symlink("a.txt", `${srv.root}/link-to-a`);
  using client = await srv.connect();
  const entries = await client.list("/");
  deepEqual(entries.map((e) => [e.name, e.type, e.size]), [
    ["a.txt", "file", 5],
    ["docs", "dir", 0],
    ["empty", "dir", 0],
    ["full", "dir", 0],
    ["link-to-a", "file", 5],
  ]);
  ok(entries.every((e) => typeof e.mtime === "number" && typeof e.mode === "number"));
  deepEqual(await client.list("empty"), []);
  await expectRemoteError(client, () => client.list("missing"), "NOT_FOUND", srv.root);
  await expectRemoteError(client, () => client.list("a.txt"), "NOT_DIR", srv.root);
  await expectRemoteError(client, () => client.list(".."), "BAD_PATH", srv.root);
  await expectRemoteError(client, () => client.list("/.bftp-tmp-x"), "BAD_PATH", srv.root);
});

Deno.test("server: STAT describes files, folders and the root", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  const file = await client.stat("/docs/b.txt");
  deepEqual([file.name, file.type, file.size], ["b.txt", "file", 5]);
  const dir = await client.stat("docs/sub");
  deepEqual([dir.name, dir.type, dir.size], ["sub", "dir", 0]);
  deepEqual((await client.stat("/")).name, "/");
  await expectRemoteError(client, () => client.stat("nope"), "NOT_FOUND", srv.root);
  await expectRemoteError(client, () => client.stat("a.txt/x"), "NOT_DIR", srv.root);
  await expectRemoteError(client, () => client.stat("../a.txt"), "BAD_PATH", srv.root);
});

Deno.test("server: GET sends the bytes with a verified hash, and errors leave the session usable", async () => {
  const big = randomBytes(seededRandom(0x6e7), 3 << 20);
  await using srv = await startTestServer({ files: { ...LAYOUT, "big.bin": big, "zero": "" } });
  await mkfifo(`${srv.root}/fifo`);
  using client = await srv.connect();
  const sink = new MemoryWriter();
  let started: number | null = -1;
  let progressed = 0;
  const result = await client.get("big.bin", sink, {
    onStart: (size) => started = size,
    onProgress: (n) => progressed += n,
  });
  deepEqual(result, { size: big.byteLength, checksum: "xxh3-128", hash: await xxh3(big) });
  deepEqual(sink.bytes, big);
  equal(started, big.byteLength);
  equal(progressed, big.byteLength);
  // Again (the hash is now remembered), and an empty file.
  deepEqual(await client.get("/big.bin", new MemoryWriter()), result);
  deepEqual(await client.get("zero", new MemoryWriter()), {
    size: 0,
    checksum: "xxh3-128",
    hash: await xxh3(""),
  });
  for (
    const [path, code] of [
      ["missing.txt", "NOT_FOUND"],
      ["docs", "IS_DIR"],
      ["/", "IS_DIR"],
      ["fifo", "NOT_REGULAR"],
      ["../a.txt", "BAD_PATH"],
      ["a.txt/x", "NOT_DIR"],
    ] as const
  ) {
    const unused = new MemoryWriter();
    await expectRemoteError(client, () => client.get(path, unused), code, srv.root);
    equal(unused.writes, 0);
  }
  // And the session still moves bodies.
  const again = new MemoryWriter();
  await client.get("a.txt", again);
  deepEqual(again.bytes, encoder.encode("alpha"));
});

Deno.test("server: HASH answers the SHA-256 of a file", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  await mkfifo(`${srv.root}/fifo`);
  using client = await srv.connect();
  deepEqual(await client.hash("a.txt"), { size: 5, sha256: sha256("alpha") });
  deepEqual(await client.hash("/docs/b.txt"), { size: 5, sha256: sha256("bravo") });
  // A file changed on the host is hashed again, not served from the cache.
  await Deno.writeTextFile(`${srv.root}/a.txt`, "alpha, changed");
  deepEqual(await client.hash("a.txt"), { size: 14, sha256: sha256("alpha, changed") });
  await expectRemoteError(client, () => client.hash("missing"), "NOT_FOUND", srv.root);
  await expectRemoteError(client, () => client.hash("docs"), "IS_DIR", srv.root);
  await expectRemoteError(client, () => client.hash("fifo"), "NOT_REGULAR", srv.root);
  await expectRemoteError(client, () => client.hash("/../a.txt"), "BAD_PATH", srv.root);
  equal((await client.stat("fifo")).type, "other");
});

Deno.test("server: PUT stores new files, replaces existing ones, and streams unknown sizes", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  const data = randomBytes(seededRandom(0x907), 200_000);
  deepEqual(
    await client.put("new.bin", new MemoryReader(data, [70_000]), { size: data.byteLength }),
    { size: data.byteLength, checksum: "xxh3-128", hash: await xxh3(data) },
  );
  deepEqual(await Deno.readFile(`${srv.root}/new.bin`), data);
  // Replacing an existing file (overwrite defaults to true).
  await client.put("a.txt", new MemoryReader(encoder.encode("new alpha")), { size: 9 });
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "new alpha");
  // Unknown size: chunked, from a source that comes in small pieces.
  const streamed = randomBytes(seededRandom(0x908), 50_000);
  const got = await client.put("docs/streamed", new MemoryReader(streamed, [1, 999, 20_000]), {
    size: null,
  });
  deepEqual(got, { size: streamed.byteLength, checksum: "xxh3-128", hash: await xxh3(streamed) });
  deepEqual(await Deno.readFile(`${srv.root}/docs/streamed`), streamed);
  // Empty files, relative to the session's folder.
  await client.cd("empty");
  await client.put("nothing", new MemoryReader(new Uint8Array()), { size: 0 });
  equal((await Deno.stat(`${srv.root}/empty/nothing`)).size, 0);
  ok(!(await hostTree(srv.root)).some((p) => p.includes(".bftp-tmp-")));
});

Deno.test("server: PUT errors come before the body and leave the session usable", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  const body = () => new MemoryReader(encoder.encode("data"));
  const put = (path: string, overwrite = true) => () =>
    client.put(path, body(), { size: 4, overwrite });
  await expectRemoteError(client, put("a.txt", false), "EXISTS", srv.root);
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "alpha");
  await expectRemoteError(client, put("docs"), "IS_DIR", srv.root);
  await expectRemoteError(client, put("/"), "IS_DIR", srv.root);
  await expectRemoteError(client, put("no/such/folder/f"), "NOT_FOUND", srv.root);
  await expectRemoteError(client, put("a.txt/f"), "NOT_DIR", srv.root);
  await expectRemoteError(client, put("../f"), "BAD_PATH", srv.root);
  await expectRemoteError(client, put(".bftp-tmp-f"), "BAD_PATH", srv.root);
  // overwrite:false is fine for a new name.
  await put("fresh.txt", false)();
  equal(await Deno.readTextFile(`${srv.root}/fresh.txt`), "data");
  ok(!(await hostTree(srv.root)).some((p) => p.includes(".bftp-tmp-")));
});

Deno.test("server: a PUT body with a wrong hash is refused as INTEGRITY and nothing is stored", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using raw = await srv.raw();
  for (const path of ["bad.txt", "a.txt"]) {
    deepEqual(await raw.request({ op: "PUT", path, size: 5, overwrite: true }), {
      ok: true,
      ready: true,
    });
    await raw.write(encodeSizeHeader(5, { wide: true }));
    await raw.write(encoder.encode("hello" + sha256("HELLO")));
    const reply = await raw.receive();
    equal(reply.ok ? "ok" : reply.code, "INTEGRITY");
    // The body was consumed whole: the session goes on.
    deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
  }
  deepEqual(await hostTree(srv.root), [
    "a.txt",
    "docs/",
    "docs/b.txt",
    "docs/sub/",
    "empty/",
    "full/",
    "full/x",
  ]);
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "alpha");
});

for (const sized of [true, false]) {
  for (const ending of ["a close", "a connection reset"] as const) {
    Deno.test(`server: a ${sized ? "sized" : "chunked"} PUT cut by ${ending} leaves nothing behind`, async () => {
      await using srv = await startTestServer({ files: LAYOUT });
      const before = await hostTree(srv.root);
      for (const path of ["cut.bin", "a.txt"]) {
        using raw = await srv.raw();
        const request = { op: "PUT", path, size: sized ? 1000 : null, overwrite: true } as const;
        if (ending === "a close") {
          ok((await raw.request(request)).ok);
        } else {
          // The "ready" reply is left unread, so closing resets the connection.
          await raw.send(request);
        }
        if (sized) {
          await raw.write(encodeSizeHeader(1000, { wide: true }));
          await raw.write(new Uint8Array(500).fill(0x41));
        } else {
          await raw.write(encoder.encode("ffffffffffffffff"));
          await raw.write(encoder.encode("00000400"));
          await raw.write(new Uint8Array(500).fill(0x41));
        }
        // The server has begun the upload: its temporary file exists now.
        await waitFor(
          async () => (await hostTree(srv.root)).some((p) => p.includes(".bftp-tmp-")),
          "the temporary file",
        );
        if (ending === "a connection reset") {
          // Let the unread reply arrive, so that the close is a reset.
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        raw.close();
        await srv.waitForConnections(0);
        // Nothing under the target name, no temporary, an existing file untouched.
        deepEqual(await hostTree(srv.root), before, path);
        equal(await Deno.readTextFile(`${srv.root}/a.txt`), "alpha");
      }
      using client = await srv.connect();
      deepEqual((await client.list("/")).map((e) => e.name), ["a.txt", "docs", "empty", "full"]);
      await expectRemoteError(client, () => client.stat("cut.bin"), "NOT_FOUND", srv.root);
      // A client going away is not an internal error of the server.
      ok(!srv.log.some((l) => l.includes("internal error")), srv.log.join("\n"));
    });
  }
}

Deno.test("server: DELETE removes files only", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  await client.delete("a.txt");
  await client.cd("docs");
  await client.delete("b.txt");
  deepEqual(await hostTree(srv.root), ["docs/", "docs/sub/", "empty/", "full/", "full/x"]);
  await expectRemoteError(client, () => client.delete("b.txt"), "NOT_FOUND", srv.root, "/docs");
  await expectRemoteError(client, () => client.delete("sub"), "IS_DIR", srv.root, "/docs");
  await expectRemoteError(client, () => client.delete("/"), "IS_DIR", srv.root, "/docs");
  await expectRemoteError(client, () => client.delete("../../x"), "BAD_PATH", srv.root, "/docs");
  deepEqual(await hostTree(srv.root), ["docs/", "docs/sub/", "empty/", "full/", "full/x"]);
});

Deno.test("server: a path in a folder's form (a/, a/.) is refused where a file is taken, and by STAT where no folder is; nothing is done", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using raw = await srv.raw();
  const before = await hostTree(srv.root);
  const { mtime, mode } = await Deno.stat(`${srv.root}/a.txt`);
  const codes: Record<string, string> = {};
  const requests: Request[] = [
    { op: "GET", path: "a.txt/" },
    { op: "GET", path: "/docs/b.txt/." },
    { op: "GET", path: "docs/" },
    { op: "HASH", path: "a.txt/" },
    { op: "BLOCKS", path: "a.txt/", blockSize: 4096 },
    { op: "DELETE", path: "a.txt/" },
    { op: "DELETE", path: "docs/b.txt/" },
    { op: "DELETE", path: "missing/" },
    { op: "PUT", path: "a.txt/", size: 1, overwrite: true },
    { op: "STAT", path: "a.txt/" },
    { op: "RENAME", from: "a.txt/", to: "moved.txt" },
    { op: "RENAME", from: "a.txt", to: "moved/" },
    { op: "SETSTAT", path: "a.txt/", mtime: 0, mode: 0o600 },
  ];
  for (const req of requests) {
    const reply = await raw.request(req);
    const path = "path" in req ? req.path : "from" in req ? `${req.from} ${req.to}` : "";
    codes[`${req.op} ${path}`] = reply.ok ? "ok" : reply.code;
  }
  deepEqual(codes, {
    "GET a.txt/": "NOT_DIR",
    "GET /docs/b.txt/.": "NOT_DIR",
    "GET docs/": "IS_DIR",
    "HASH a.txt/": "NOT_DIR",
    "BLOCKS a.txt/": "NOT_DIR",
    "DELETE a.txt/": "NOT_DIR",
    "DELETE docs/b.txt/": "NOT_DIR",
    "DELETE missing/": "NOT_FOUND",
    "PUT a.txt/": "NOT_DIR",
    "STAT a.txt/": "NOT_DIR",
    "RENAME a.txt/ moved.txt": "NOT_DIR",
    "RENAME a.txt moved/": "NOT_DIR",
    "SETSTAT a.txt/": "NOT_DIR",
  });
  // A folder in a folder's form is what it always was.
  const stat = await raw.request({ op: "STAT", path: "docs/." });
  equal(stat.ok && (stat.entry as { type: string }).type, "dir");
  deepEqual(await hostTree(srv.root), before);
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "alpha");
  const after = await Deno.stat(`${srv.root}/a.txt`);
  deepEqual([after.mtime, after.mode], [mtime, mode]);
  deepEqual(await raw.request({ op: "SETSTAT", path: "empty/", mtime: 0 }), { ok: true });
  equal((await Deno.stat(`${srv.root}/empty`)).mtime?.getTime(), 0);
  deepEqual(await raw.request({ op: "RENAME", from: "empty/", to: "emptied/" }), { ok: true });
  equal((await Deno.stat(`${srv.root}/emptied`)).isDirectory, true);
});

Deno.test("server: MKDIR makes folders, with parents on request", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  await client.mkdir("new");
  await client.mkdir("/deep/er/est", true);
  await client.mkdir("deep/er", true); // an existing folder is fine with parents
  await client.mkdir("/", true);
  ok((await Deno.stat(`${srv.root}/deep/er/est`)).isDirectory);
  ok((await Deno.stat(`${srv.root}/new`)).isDirectory);
  await expectRemoteError(client, () => client.mkdir("new"), "EXISTS", srv.root);
  await expectRemoteError(client, () => client.mkdir("a.txt"), "EXISTS", srv.root);
  await expectRemoteError(client, () => client.mkdir("a.txt", true), "EXISTS", srv.root);
  await expectRemoteError(client, () => client.mkdir("/"), "EXISTS", srv.root);
  await expectRemoteError(client, () => client.mkdir("no/parent"), "NOT_FOUND", srv.root);
  await expectRemoteError(client, () => client.mkdir("a.txt/sub"), "NOT_DIR", srv.root);
  await expectRemoteError(client, () => client.mkdir("a.txt/sub", true), "NOT_DIR", srv.root);
  await expectRemoteError(client, () => client.mkdir("../up"), "BAD_PATH", srv.root);
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "alpha");
});

Deno.test("server: RMDIR removes empty folders only", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  await client.rmdir("empty");
  await client.rmdir("/docs/sub");
  await expectRemoteError(client, () => client.rmdir("docs"), "NOT_EMPTY", srv.root);
  await expectRemoteError(client, () => client.rmdir("empty"), "NOT_FOUND", srv.root);
  await expectRemoteError(client, () => client.rmdir("a.txt"), "NOT_DIR", srv.root);
  await expectRemoteError(client, () => client.rmdir("/"), "DENIED", srv.root);
  await expectRemoteError(client, () => client.rmdir("docs/../.."), "BAD_PATH", srv.root);
  deepEqual(await hostTree(srv.root), ["a.txt", "docs/", "docs/b.txt", "full/", "full/x"]);
});

Deno.test("server: RENAME moves files and folders within the root", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using client = await srv.connect();
  await client.rename("a.txt", "docs/a2.txt");
  await client.rename("/full", "/docs/sub/full");
  // An existing file at the target is replaced, as mv does.
  await client.rename("docs/a2.txt", "docs/b.txt");
  deepEqual(await hostTree(srv.root), [
    "docs/",
    "docs/b.txt",
    "docs/sub/",
    "docs/sub/full/",
    "docs/sub/full/x",
    "empty/",
  ]);
  equal(await Deno.readTextFile(`${srv.root}/docs/b.txt`), "alpha");
  await client.cd("docs");
  await client.rename("b.txt", "../top.txt");
  equal(await Deno.readTextFile(`${srv.root}/top.txt`), "alpha");
  const fail = (from: string, to: string, code: Parameters<typeof expectRemoteError>[2]) =>
    expectRemoteError(client, () => client.rename(from, to), code, srv.root, "/docs");
  await fail("missing", "x", "NOT_FOUND");
  await fail("/top.txt", "/no/such/dir/x", "NOT_FOUND");
  await fail("/top.txt", "/empty", "EXISTS");
  await fail("sub", "sub/full/inside", "BAD_PATH");
  await fail("sub", "sub", "BAD_PATH");
  await fail("/", "/x", "DENIED");
  await fail("sub", "/", "DENIED");
  await fail("../top.txt", "../../x", "BAD_PATH");
  await fail("../../x", "y", "BAD_PATH");
  await fail("/top.txt", "/top.txt/x", "BAD_PATH");
  await fail("/top.txt", "/docs/sub/full/x/y", "NOT_DIR");
  equal(await Deno.readTextFile(`${srv.root}/top.txt`), "alpha");
});

Deno.test("server: a read-only server refuses every change with DENIED and serves reads", async () => {
  await using srv = await startTestServer({ files: LAYOUT, readOnly: true });
  using client = await srv.connect();
  equal(client.hello.readOnly, true);
  const before = await hostTree(srv.root);
  const data = () => new MemoryReader(encoder.encode("x"));
  for (
    const action of [
      () => client.put("new.txt", data(), { size: 1 }),
      () => client.put("a.txt", data(), { size: 1 }),
      () => client.delete("a.txt"),
      () => client.delete("missing"),
      () => client.mkdir("d"),
      () => client.mkdir("d", true),
      () => client.rmdir("empty"),
      () => client.rename("a.txt", "b.txt"),
    ]
  ) {
    await expectRemoteError(client, action, "DENIED", srv.root);
  }
  // mkdir -p of a folder that is there is no error, as on a read-only file system: the client
  // looks before it asks.
  await client.mkdir("docs", true);
  deepEqual(await hostTree(srv.root), before);
  // Reads still work.
  equal(await client.cd("docs"), "/docs");
  equal((await client.list(".")).length, 2);
  equal((await client.stat("b.txt")).size, 5);
  deepEqual(await client.hash("b.txt"), { size: 5, sha256: sha256("bravo") });
  const sink = new MemoryWriter();
  await client.get("/a.txt", sink);
  deepEqual(sink.bytes, encoder.encode("alpha"));
});

Deno.test("server: a malformed frame gets BAD_REQUEST and the session goes on", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  using raw = await srv.raw();
  const badFrames = [
    encoder.encode("this is not json"),
    encoder.encode("[1,2,3]"),
    encoder.encode('{"op":"FORMAT","path":"/"}'),
    encoder.encode('{"op":"GET","path":42}'),
    encoder.encode('{"op":"PUT","path":"x","size":-5}'),
    new Uint8Array([0xff, 0xfe, 0x00]),
    new Uint8Array(),
  ];
  for (const frame of badFrames) {
    const reply = await raw.request(frame);
    equal(reply.ok ? "ok" : reply.code, "BAD_REQUEST", new TextDecoder().decode(frame));
    deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
  }
  const list = await raw.request({ op: "LIST", path: "/" });
  ok(list.ok && Array.isArray(list.entries) && list.entries.length === 4);
  ok(srv.log.some((l) => l.includes("BAD_REQUEST")));
});

Deno.test("server: a client speaking another protocol gets BAD_REQUEST and is closed", async () => {
  await using srv = await startTestServer();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
  await conn.write(encoder.encode("GET / HTTP/1.0\r\n\r\n"));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(1024);
  for (let i = 0; i < 100; i++) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const text = new TextDecoder().decode(chunks.reduce((a, b) => new Uint8Array([...a, ...b])));
  ok(text.includes('"code":"BAD_REQUEST"'), text);
  ok(text.includes("GET / HTTP/1.0"), text);
});

Deno.test("server: QUIT ends the session politely", async () => {
  await using srv = await startTestServer();
  const client = await srv.connect();
  await srv.waitForConnections(1);
  await client.quit();
  await srv.waitForConnections(0);
  ok(srv.log.some((l) => /QUIT ok/.test(l)), srv.log.join("\n"));
});

Deno.test("server: a client that disconnects mid-download ends only its own session", async () => {
  const big = randomBytes(seededRandom(0xd15c), 8 << 20);
  await using srv = await startTestServer({ files: { "big.bin": big } });
  using other = await srv.connect();
  {
    using raw = await srv.raw();
    const reply = await raw.request({ op: "GET", path: "big.bin" });
    ok(reply.ok);
    await raw.reader.read(new Uint8Array(1000));
  }
  await srv.waitForConnections(1);
  deepEqual((await other.hash("big.bin")).sha256, sha256(big));
  ok(!srv.log.some((l) => l.includes("internal error")), srv.log.join("\n"));
});

Deno.test("server: a client that vanishes before its reply is not logged as an internal error", async () => {
  await using tmp = await tempDir();
  const root = await ServedRoot.open(tmp.path);
  const input = new MemoryReader(
    concat(encodeDelimited("BFTP/1"), encodeSized(encodeMessage({ op: "PWD" }))),
  );
  let writes = 0;
  const stream = {
    read: (p: Uint8Array) => input.read(p),
    // The peer is gone before any reply reaches it.
    write: () => {
      writes++;
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
    },
  };
  const log: string[] = [];
  await runSession(stream, { root, remote: "peer", log: (line) => log.push(line) });
  // The hello and PWD replies go out together, in one write, when the session next reads.
  equal(writes, 1, "one write attempt, and no SERVER error reply after it");
  ok(!log.some((l) => l.includes("internal error")), log.join("\n"));
  ok(log.some((l) => l.startsWith("peer PWD")), log.join("\n"));
});

Deno.test("server: requests JSON.parse would take but a strict reader refuses are BAD_REQUEST, and the session goes on", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "A", "b.txt": "B" } });
  using raw = await srv.raw();
  const payloads = [
    // Which file? The server does not pick the last "path" as JSON.parse would.
    '{"op":"DELETE","path":"a.txt","path":"b.txt"}',
    '{"op":"DELETE","path":"a.txt","__proto__":{}}',
    '\ufeff{"op":"DELETE","path":"a.txt"}',
    '{"op":"DELETE","path":"a.txt","x":[[[]]]}',
    '{"op":"PUT","path":"\\ud800","size":0}',
    '{"op":"GET","path":"a.txt","offset":1,"expect":{"size":1}}',
  ];
  for (const text of payloads) {
    const reply = await raw.request(new TextEncoder().encode(text));
    equal(!reply.ok && reply.code, "BAD_REQUEST", text);
    ok(!reply.ok && reply.message.startsWith("Malformed request"), text);
  }
  deepEqual(
    (await raw.request({ op: "LIST", path: "/" })).ok &&
      (await Array.fromAsync(Deno.readDir(srv.root), (e) => e.name)).sort(),
    ["a.txt", "b.txt"],
  );
});

Deno.test("session: a NOT_FOUND while the served folder is gone from its path says so, for a GET, a PUT and an MPUT's file, and after a new folder takes its place", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "a" } });
  using client = await srv.connect();
  // Not gone: a missing file is only that.
  await rejects(
    client.stat("/none"),
    (e) => e instanceof RemoteError && !/removed/.test(e.message),
  );
  equal(srv.served.removed(), false);
  await Deno.remove(srv.root, { recursive: true });
  equal(srv.served.removed(), true);
  const gone = (e: unknown) =>
    e instanceof RemoteError && e.code === "NOT_FOUND" &&
    e.message.endsWith(
      "the served folder was removed from under the server (restart it to serve what is there now)",
    );
  await rejects(client.get("/a.txt", new MemoryWriter()), gone);
  const data = new TextEncoder().encode("b");
  await rejects(client.put("/b.txt", new MemoryReader(data), { size: data.byteLength }), gone);
  // Another folder where it was: the server still holds the old one.
  await Deno.mkdir(srv.root);
  equal(srv.served.removed(), true);
  const outcomes: unknown[] = [];
  await client.putMany(
    [{ path: "/c.txt", data: new Uint8Array(1), mtime: null, mode: null }],
    true,
    (_i, o) => outcomes.push(o),
  );
  ok(gone(outcomes[0]), String(outcomes[0]));
  ok(client.usable);
});
