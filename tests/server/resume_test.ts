import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { createChecksum } from "../../lib/checksum.ts";
import { encodeSizeHeader } from "../../lib/framing/size_header.ts";
import { RESUME_PREFIX } from "../../lib/root/paths.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { receiveBody } from "../../lib/transfer/body.ts";
import { UnexpectedEofError } from "../../lib/errors.ts";
import { MemoryWriter, randomBytes, seededRandom } from "../framing/helpers.ts";
import { hostTree, type RawSession, settle, startTestServer } from "./helpers.ts";
import { sha256, waitFor } from "../helpers.ts";

const encoder = new TextEncoder();

/** Reads a GET body from a raw session, checking its trailer against the hash of `prefix` + body. */
async function readBody(raw: RawSession, size: number, prefix: Uint8Array) {
  const sink = new MemoryWriter();
  // A raw session says BFTP/1: its trailers are SHA-256.
  const hash = await createChecksum("sha256");
  hash.update(prefix);
  const result = await receiveBody(raw.reader, sink, { expectedSize: size, hash });
  return { bytes: sink.bytes, sha256: result.hash };
}

Deno.test("server: GET with an offset sends the rest, with the whole file's hash as the trailer", async () => {
  const data = randomBytes(seededRandom(11), 300_000);
  await using srv = await startTestServer({ files: { "big.bin": data } });
  using raw = await srv.raw();
  await settle();
  // The first resumed GET hashes the first bytes as it goes, and remembers the whole hash;
  // the next ones are answered from the cache, and say the hash in their reply.
  for (const [i, offset] of [100_000, 1, 299_999, 300_000].entries()) {
    const reply = await raw.request({ op: "GET", path: "big.bin", offset });
    ok(reply.ok);
    equal(reply.size, 300_000);
    equal(reply.offset, offset);
    equal(reply.sha256, i === 0 ? undefined : sha256(data));
    const body = await readBody(raw, 300_000 - offset, data.subarray(0, offset));
    deepEqual(body.bytes, data.subarray(offset));
    equal(body.sha256, sha256(data));
  }
  ok(srv.log.some((l) => l.includes('GET "big.bin" from 100000 ok 200000B')), srv.log.join("\n"));
});

Deno.test("server: a resumed GET of a changed file is refused with CHANGED, before any body", async () => {
  await using srv = await startTestServer({ files: { "f.txt": "version one" } });
  using raw = await srv.raw();
  // Settled, so that the first GET's hash is remembered and a different one is known to differ.
  await settle();
  const first = await raw.request({ op: "GET", path: "f.txt" });
  ok(first.ok);
  await readBody(raw, 11, new Uint8Array());
  const version = { size: first.size as number, mtime: first.mtime as number | null };
  const resume = (expect: typeof version & { sha256?: string }) =>
    raw.request({ op: "GET", path: "f.txt", offset: 4, expect });
  // The same version: the rest comes.
  const same = await resume(version);
  ok(same.ok);
  await readBody(raw, 7, encoder.encode("vers"));
  // A different size, a different time, a different (known) hash: refused, and the session goes on.
  for (
    const expect of [
      { ...version, size: 12 },
      { ...version, mtime: (version.mtime ?? 0) + 1000 },
      { ...version, sha256: sha256(encoder.encode("version two")) },
    ]
  ) {
    const reply = await resume(expect);
    equal(reply.ok, false);
    if (!reply.ok) equal(reply.code, "CHANGED");
  }
  const beyond = await raw.request({ op: "GET", path: "f.txt", offset: 12 });
  equal(!beyond.ok && beyond.code, "BAD_REQUEST");
  deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
});

/** Starts a resumable PUT on a raw session and sends `part` of its body, then hangs up. */
async function cutUpload(raw: RawSession, path: string, data: Uint8Array, part: number) {
  const ready = await raw.request({
    op: "PUT",
    path,
    size: data.byteLength,
    overwrite: true,
    resume: true,
    sha256: sha256(data),
  });
  ok(ready.ok);
  equal(ready.offset, 0);
  await raw.write(encodeSizeHeader(data.byteLength, { wide: true }));
  await raw.write(data.subarray(0, part));
  raw.close();
}

/** Finishes a resumable PUT on a raw session; returns the offset the server continued from. */
async function finishUpload(raw: RawSession, path: string, data: Uint8Array) {
  const ready = await raw.request({
    op: "PUT",
    path,
    size: data.byteLength,
    overwrite: true,
    resume: true,
    sha256: sha256(data),
  });
  ok(ready.ok, JSON.stringify(ready));
  const offset = ready.offset as number;
  await raw.write(encodeSizeHeader(data.byteLength - offset, { wide: true }));
  await raw.write(data.subarray(offset));
  await raw.write(encoder.encode(sha256(data)));
  return { offset, reply: await raw.receive() };
}

Deno.test("server: a cut resumable PUT is kept hidden and continued from where it stopped", async () => {
  const data = randomBytes(seededRandom(21), 500_000);
  await using srv = await startTestServer({ files: { "d/": "" } });
  await cutUpload(await srv.raw(), "d/up.bin", data, 200_000);
  // The partial file: beside the target, named after path, size and hash, and hidden.
  let partial = "";
  await waitFor(async () => {
    const names = (await hostTree(`${srv.root}/d`)).filter((n) => n.startsWith(RESUME_PREFIX));
    partial = names[0] ?? "";
    return partial !== "" && (await Deno.stat(`${srv.root}/d/${partial}`)).size === 200_000;
  }, "the partial upload");
  ok(/^\.bftp-tmp-resume-[0-9a-f]{64}\.part$/.test(partial), partial);
  await srv.waitForConnections(0);
  using raw = await srv.raw();
  deepEqual(await raw.request({ op: "LIST", path: "d" }), { ok: true, entries: [] });
  const named = await raw.request({ op: "GET", path: `d/${partial}` });
  equal(!named.ok && named.code, "BAD_PATH");
  const { offset, reply } = await finishUpload(raw, "d/up.bin", data);
  equal(offset, 200_000);
  deepEqual(reply, { ok: true, size: 500_000, sha256: sha256(data), offset: 200_000 });
  equal(sha256(await Deno.readFile(`${srv.root}/d/up.bin`)), sha256(data));
  deepEqual(await hostTree(`${srv.root}/d`), ["up.bin"]);
  ok(srv.log.some((l) => /PUT "\/d\/up.bin" resuming at 200000 of 500000 bytes/.test(l)));
});

Deno.test("server: a resumable PUT of other content never continues another's partial file", async () => {
  const a = randomBytes(seededRandom(31), 100_000);
  const b = randomBytes(seededRandom(32), 100_000);
  await using srv = await startTestServer();
  await cutUpload(await srv.raw(), "same.bin", a, 60_000);
  await waitFor(
    async () => (await hostTree(srv.root)).some((n) => n.startsWith(RESUME_PREFIX)),
    "the partial upload",
  );
  await srv.waitForConnections(0);
  using raw = await srv.raw();
  // Same path and size, another content: starts from 0, and stores exactly b.
  const { offset, reply } = await finishUpload(raw, "same.bin", b);
  equal(offset, 0);
  equal(reply.ok && reply.sha256, sha256(b));
  equal(sha256(await Deno.readFile(`${srv.root}/same.bin`)), sha256(b));
  // a's partial file is still there, for a's own resume.
  const again = await finishUpload(raw, "same.bin", a);
  equal(again.offset, 60_000);
  equal(sha256(await Deno.readFile(`${srv.root}/same.bin`)), sha256(a));
});

Deno.test("server: a resumable PUT whose bytes do not match its announced hash stores nothing and starts over", async () => {
  const data = randomBytes(seededRandom(41), 50_000);
  const other = randomBytes(seededRandom(42), 50_000);
  await using srv = await startTestServer();
  using raw = await srv.raw();
  // Announces data's hash, sends other's bytes with a trailer that matches them.
  const ready = await raw.request({
    op: "PUT",
    path: "x.bin",
    size: 50_000,
    overwrite: true,
    resume: true,
    sha256: sha256(data),
  });
  ok(ready.ok);
  await raw.write(encodeSizeHeader(50_000, { wide: true }));
  await raw.write(other);
  await raw.write(encoder.encode(sha256(other)));
  const reply = await raw.receive();
  equal(!reply.ok && reply.code, "INTEGRITY");
  deepEqual(await hostTree(srv.root), []);
  const { offset, reply: good } = await finishUpload(raw, "x.bin", data);
  equal(offset, 0);
  ok(good.ok);
});

Deno.test("server: two sessions cannot feed the same resumable upload at once", async () => {
  const data = randomBytes(seededRandom(51), 10_000);
  await using srv = await startTestServer();
  using first = await srv.raw();
  const request = {
    op: "PUT",
    path: "busy.bin",
    size: 10_000,
    overwrite: true,
    resume: true,
    sha256: sha256(data),
  } as const;
  ok((await first.request(request)).ok);
  using second = await srv.raw();
  const refused = await second.request(request);
  equal(!refused.ok && refused.code, "BUSY");
  await first.write(encodeSizeHeader(10_000, { wide: true }));
  await first.write(data);
  await first.write(encoder.encode(sha256(data)));
  ok((await first.receive()).ok);
});

Deno.test("server: resumable uploads outlive a restart until they expire; other temporaries do not", async () => {
  await using srv = await startTestServer();
  const fresh = `${srv.root}/${RESUME_PREFIX}${"a".repeat(64)}.part`;
  const old = `${srv.root}/${RESUME_PREFIX}${"b".repeat(64)}.part`;
  const plain = `${srv.root}/.bftp-tmp-${crypto.randomUUID()}.part`;
  for (const p of [fresh, old, plain]) await Deno.writeTextFile(p, "partial");
  const dayAgo = new Date(Date.now() - 25 * 3600_000);
  await Deno.utime(old, dayAgo, dayAgo);
  const root = await ServedRoot.open(srv.root);
  equal(await root.cleanTemporaries(), 2);
  deepEqual(await hostTree(srv.root), [`${RESUME_PREFIX}${"a".repeat(64)}.part`]);
  // A shorter expiry removes the fresh one too.
  const strict = await ServedRoot.open(srv.root, { resumeExpiryHours: 0 });
  await new Promise((r) => setTimeout(r, 5));
  equal(await strict.cleanTemporaries(), 1);
});

Deno.test("server: an expired partial upload is not continued", async () => {
  const data = randomBytes(seededRandom(61), 80_000);
  await using srv = await startTestServer();
  await cutUpload(await srv.raw(), "e.bin", data, 30_000);
  let partial = "";
  await waitFor(async () => {
    partial = (await hostTree(srv.root)).find((n) => n.startsWith(RESUME_PREFIX)) ?? "";
    return partial !== "" && (await Deno.stat(`${srv.root}/${partial}`)).size === 30_000;
  }, "the partial upload");
  await srv.waitForConnections(0);
  const dayAgo = new Date(Date.now() - 25 * 3600_000);
  await Deno.utime(`${srv.root}/${partial}`, dayAgo, dayAgo);
  using raw = await srv.raw();
  const { offset } = await finishUpload(raw, "e.bin", data);
  equal(offset, 0);
  equal(sha256(await Deno.readFile(`${srv.root}/e.bin`)), sha256(data));
});

Deno.test("server: a cached GET of a file rewritten in place while sent is withdrawn, never vouched for by the cached hash", async () => {
  const data = randomBytes(seededRandom(12), 16 << 20);
  await using srv = await startTestServer({ files: { "big.bin": data } });
  const path = `${srv.root}/big.bin`;
  const { mtime } = await Deno.stat(path);
  await settle();
  using raw = await srv.raw();
  // The first GET teaches the cache the file's hash; the second is answered from it.
  const first = await raw.request({ op: "GET", path: "big.bin" });
  ok(first.ok);
  await readBody(raw, data.byteLength, new Uint8Array());
  const second = await raw.request({ op: "GET", path: "big.bin" });
  equal(second.ok && second.sha256, sha256(data));
  // While the server is held by the unread socket, the file is rewritten in place with its
  // size and time put back: the cached hash no longer vouches for what is sent.
  const changed = data.map((b) => b ^ 0xff);
  using file = await Deno.open(path, { write: true });
  await file.write(changed);
  await Deno.utime(path, new Date(), mtime!);
  let outcome: string;
  try {
    const body = await readBody(raw, data.byteLength, new Uint8Array());
    outcome = body.sha256 === sha256(body.bytes) ? "consistent" : "mismatch";
  } catch (e) {
    outcome = e instanceof UnexpectedEofError ? "closed" : `threw ${String(e)}`;
  }
  // The server hashed the file again, found another content, and withdrew the body: a trailer
  // that cannot match, which the client tells as the file changed. The session goes on.
  equal(
    outcome,
    "threw IntegrityError: the data changed while it was sent (the sender says so): nothing was kept",
  );
  deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
});

/** Asks to resume `data` at `path` and returns the offset of the `ready` reply. */
async function askResume(raw: RawSession, path: string, data: Uint8Array): Promise<number> {
  const ready = await raw.request({
    op: "PUT",
    path,
    size: data.byteLength,
    overwrite: true,
    resume: true,
    sha256: sha256(data),
  });
  ok(ready.ok, JSON.stringify(ready));
  return ready.offset as number;
}

Deno.test("server: a resumed PUT's body carries size - offset bytes: sized with that header, or chunked", async () => {
  const data = randomBytes(seededRandom(61), 90_000);
  await using srv = await startTestServer();
  const partialSize = async () => {
    const name = (await hostTree(srv.root)).find((n) => n.startsWith(RESUME_PREFIX));
    return name === undefined ? -1 : (await Deno.stat(`${srv.root}/${name}`)).size;
  };
  await cutUpload(await srv.raw(), "r.bin", data, 30_000);
  await waitFor(async () => (await partialSize()) === 30_000, "the partial upload");
  await srv.waitForConnections(0);

  // A sized header of `size` (not size - offset) is a broken body: the server closes, and
  // keeps what it had for the next attempt.
  {
    using raw = await srv.raw();
    equal(await askResume(raw, "r.bin", data), 30_000);
    await raw.write(encodeSizeHeader(data.byteLength, { wide: true }));
    await raw.write(data.subarray(30_000));
    await raw.write(encoder.encode(sha256(data)));
    await rejects(() => raw.receive(), /closed the connection/);
  }
  await srv.waitForConnections(0);
  equal(await partialSize(), 30_000);

  // A chunked body of the bytes from the offset, with the whole file's hash: stored.
  using raw = await srv.raw();
  equal(await askResume(raw, "r.bin", data), 30_000);
  const rest = data.subarray(30_000);
  await raw.write(encoder.encode("ffffffffffffffff"));
  for (const piece of [rest.subarray(0, 25_000), rest.subarray(25_000)]) {
    await raw.write(encodeSizeHeader(piece.byteLength));
    await raw.write(piece);
  }
  await raw.write(encoder.encode("00000000" + sha256(data)));
  deepEqual(await raw.receive(), {
    ok: true,
    size: 90_000,
    sha256: sha256(data),
    offset: 30_000,
  });
  equal(sha256(await Deno.readFile(`${srv.root}/r.bin`)), sha256(data));
  deepEqual(await hostTree(srv.root), ["r.bin"]);
});
