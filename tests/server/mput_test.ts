/**
 * The server's side of MPUT (feature "mput"): the bodies follow the
 * request at once; each file is answered in order as its eager PUT would
 * be, with its index; a refused file's body is read past and the others go
 * on; a malformed MPUT, whose bodies cannot be counted, ends the session.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { encodeSized } from "../../lib/framing/size_header.ts";
import { encodeMessage, type Reply } from "../../lib/protocol/messages.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { concat } from "../framing/helpers.ts";
import { sha256, tempDir } from "../helpers.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { startServer } from "../../lib/server/server.ts";
import { RawSession, startTestServer } from "./helpers.ts";

const encoder = new TextEncoder();

/** A sized body of `text` with its SHA-256 trailer (or another one). */
function body(text: string, trailer = sha256(text)): Uint8Array {
  return encoder.encode(text.length.toString(16).padStart(16, "0") + text + trailer);
}

/** A request frame. */
function frame(req: Record<string, unknown>): Uint8Array {
  return encodeSized(encodeMessage(req as never));
}

/** Reads `n` replies. */
async function replies(raw: RawSession, n: number): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await raw.receive());
  return out;
}

/** Whether the server has closed the connection (reads until the end, a second at most). */
async function closedBy(raw: RawSession): Promise<boolean> {
  const timer = setTimeout(() => raw.close(), 1000);
  try {
    return await raw.reader.read(new Uint8Array(64)).then((n) => n === null, () => false);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("server: MPUT stores each file in order, answers each with its index, and goes on past refused ones", async () => {
  await using srv = await startTestServer({ files: { "d/": "", "old.txt": "old" } });
  using raw = await srv.raw("BFTP/2 sha256");
  ok(raw.hello?.ok && (raw.hello.features as string[]).includes("mput"));
  const texts = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"];
  await raw.write(concat(
    frame({
      op: "MPUT",
      // "old.txt/": a file in a folder's form, refused; its body is read past.
      paths: ["a.txt", "d/b.txt", "no/c.txt", "old.txt", "e.txt", "old.txt/", "f.txt"],
      sizes: texts.map((t) => t.length),
      overwrite: false,
      mtimes: [1_000_000_000_000, null, null, null, null, null, null],
      modes: [0o600, null, null, null, null, null, null],
      id: 5,
    }),
    body(texts[0]!),
    body(texts[1]!),
    body(texts[2]!),
    body(texts[3]!),
    // A corrupt one: its trailer is another's.
    body(texts[4]!, sha256("other")),
    body(texts[5]!),
    body(texts[6]!),
  ));
  const got = await replies(raw, 7);
  deepEqual(got.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6]);
  deepEqual(got.map((r) => r.id), [5, 5, 5, 5, 5, 5, 5]);
  deepEqual(got.map((r) => r.ok ? "ok" : r.code), [
    "ok",
    "ok",
    "NOT_FOUND",
    "EXISTS",
    "INTEGRITY",
    "NOT_DIR",
    "ok",
  ]);
  equal(await Deno.readTextFile(`${srv.root}/f.txt`), "eta");
  equal(got[0]!.ok && got[0]!.sha256, sha256("alpha"));
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "alpha");
  equal(await Deno.readTextFile(`${srv.root}/d/b.txt`), "beta");
  equal(await Deno.readTextFile(`${srv.root}/old.txt`), "old");
  const info = await Deno.stat(`${srv.root}/a.txt`);
  equal(info.mtime?.getTime(), 1_000_000_000_000);
  equal(info.mode! & 0o777, 0o600);
  // Nothing of the refused and corrupt ones, no temporary; the session goes on.
  deepEqual([...Deno.readDirSync(srv.root)].map((e) => e.name).sort(), [
    "a.txt",
    "d",
    "f.txt",
    "old.txt",
  ]);
  const pwd = await raw.request({ op: "PWD" });
  equal(pwd.ok && pwd.cwd, "/");
});

/** A chunked body of `text` in one chunk, with its SHA-256 trailer. */
function chunked(text: string): Uint8Array {
  const chunk = text.length.toString(16).padStart(8, "0") + text;
  return encoder.encode("f".repeat(16) + chunk + "00000000" + sha256(text));
}

Deno.test("server: MPUT takes a chunked body as PUT does; one whose total is not its size is that file's INTEGRITY, and the others go on", async () => {
  await using srv = await startTestServer({ files: {} });
  using raw = await srv.raw("BFTP/2 sha256");
  await raw.write(concat(
    frame({ op: "MPUT", paths: ["a.txt", "b.txt", "c.txt"], sizes: [5, 9, 5], id: 3 }),
    chunked("alpha"),
    // Announced as 9 bytes, 4 in the chunks.
    chunked("beta"),
    body("gamma"),
  ));
  const got = await replies(raw, 3);
  deepEqual(got.map((r) => [r.index, r.ok ? "ok" : r.code]), [[0, "ok"], [1, "INTEGRITY"], [
    2,
    "ok",
  ]]);
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "alpha");
  equal(await Deno.readTextFile(`${srv.root}/c.txt`), "gamma");
  deepEqual([...Deno.readDirSync(srv.root)].map((e) => e.name).sort(), ["a.txt", "c.txt"]);
  const pwd = await raw.request({ op: "PWD" });
  equal(pwd.ok && pwd.cwd, "/");
});

Deno.test("server: a malformed MPUT gets one error frame without an index, and the connection closes", async () => {
  const malformed = [
    { paths: ["a.txt"], sizes: [1, 2] },
    { paths: ["a.txt"] },
    { paths: ["a.txt"], sizes: [-1] },
    { paths: ["a.txt"], sizes: [1], modes: [4096] },
    { paths: [], sizes: [] },
  ];
  for (const fields of malformed) {
    await using srv = await startTestServer();
    using raw = await srv.raw("BFTP/2 sha256");
    await raw.write(concat(frame({ op: "MPUT", ...fields, id: 3 }), body("x")));
    const reply = await raw.receive();
    equal(!reply.ok && reply.code, "BAD_REQUEST", JSON.stringify(fields));
    equal(reply.index, undefined);
    equal(reply.id, 3);
    ok(await closedBy(raw), "the connection is closed");
    deepEqual([...Deno.readDirSync(srv.root)], []);
  }
});

Deno.test("server: MPUT on a read-only server refuses each file by index and reads past its body", async () => {
  await using srv = await startTestServer({ readOnly: true });
  using raw = await srv.raw("BFTP/2 sha256");
  await raw.write(concat(
    frame({ op: "MPUT", paths: ["a.txt", "b.txt"], sizes: [2, 2], id: 1 }),
    body("aa"),
    body("bb"),
  ));
  const got = await replies(raw, 2);
  deepEqual(got.map((r) => [r.ok ? "ok" : r.code, r.index]), [["DENIED", 0], ["DENIED", 1]]);
  const pwd = await raw.request({ op: "PWD" });
  equal(pwd.ok && pwd.cwd, "/");
  deepEqual([...Deno.readDirSync(srv.root)], []);
});

Deno.test("server: an MPUT before the token is refused and the connection closes", async () => {
  await using srv = await startTestServer({
    server: { tokens: TokenSet.parse("rw s3cret-token\n", "tokens.txt"), authDelay: 10 },
  });
  using raw = await srv.raw("BFTP/2 sha256");
  await raw.write(concat(frame({ op: "MPUT", paths: ["a.txt"], sizes: [2], id: 1 }), body("aa")));
  const reply = await raw.receive();
  equal(!reply.ok && reply.code, "DENIED");
  ok(await closedBy(raw));
  deepEqual([...Deno.readDirSync(srv.root)], []);
});

Deno.test("server: MPUT on a server that flushes answers each file with its group, in order, with its index", async () => {
  await using dir = await tempDir();
  const server = startServer({ root: await ServedRoot.open(dir.path, { fsync: true }), port: 0 });
  try {
    using raw = await RawSession.open(server.addr.port, "BFTP/2 sha256");
    const names = Array.from({ length: 70 }, (_, i) => `f${i}`);
    await raw.write(concat(
      frame({ op: "MPUT", paths: names, sizes: names.map((n) => n.length), id: 9 }),
      ...names.map((n, i) => i === 33 ? body(n, sha256("spoiled")) : body(n)),
    ));
    const got = await replies(raw, names.length);
    deepEqual(got.map((r) => r.index), names.map((_, i) => i));
    deepEqual(got.filter((r) => !r.ok).map((r) => [r.index, !r.ok && r.code]), [[33, "INTEGRITY"]]);
    equal(await Deno.readTextFile(`${dir.path}/f69`), "f69");
    equal([...Deno.readDirSync(dir.path)].length, 69);
  } finally {
    await server.close();
  }
});

Deno.test("server: MPUT with a flushing server finds taken names as its group lands: refused, or replaced keeping their bits", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/taken`, "theirs");
  await Deno.chmod(`${dir.path}/taken`, 0o600);
  await Deno.mkdir(`${dir.path}/folder`);
  const server = startServer({ root: await ServedRoot.open(dir.path, { fsync: true }), port: 0 });
  try {
    using raw = await RawSession.open(server.addr.port, "BFTP/2 sha256");
    for (const overwrite of [false, true]) {
      const names = ["new-" + overwrite, "taken", "folder"];
      await raw.write(concat(
        frame({ op: "MPUT", paths: names, sizes: [4, 4, 4], overwrite, id: 1 }),
        body("mine"),
        body("mine"),
        body("mine"),
      ));
      const got = await replies(raw, 3);
      const codes = got.map((r) => r.ok ? "ok" : r.code);
      deepEqual(codes, ["ok", overwrite ? "ok" : "EXISTS", "IS_DIR"], `overwrite ${overwrite}`);
    }
    equal(await Deno.readTextFile(`${dir.path}/taken`), "mine");
    equal((await Deno.stat(`${dir.path}/taken`)).mode! & 0o777, 0o600);
    ok((await Deno.stat(`${dir.path}/folder`)).isDirectory);
    deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), [
      "folder",
      "new-false",
      "new-true",
      "taken",
    ]);
  } finally {
    await server.close();
  }
});
