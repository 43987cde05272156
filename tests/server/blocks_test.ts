/**
 * The server's side of a delta (feature "blocks"): BLOCKS answers a file's
 * checksum and its blocks' digests; a GET with `length` sends a range
 * checked by its own checksum; a PUT with `base` makes the new file from
 * the target's blocks and the body's, and lands it only when it hashes to
 * `whole`. Refusals (a changed base, blocks out of range, a wrong `whole`)
 * leave the target as it was, and the session goes on.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { createChecksum } from "../../lib/checksum.ts";
import { hashBlocks } from "../../lib/file_hash.ts";
import { bytesReader } from "../../lib/framing/concat.ts";
import { readExact } from "../../lib/framing/read_exact.ts";
import { encodeBodyHeader, readBodyHeader, readTrailer } from "../../lib/protocol/body_format.ts";
import { encodeTrailer } from "../../lib/protocol/body_format.ts";
import { MAX_BLOCKS } from "../../lib/protocol/limits.ts";
import type { Reply } from "../../lib/protocol/messages.ts";
import { type RawSession, startTestServer } from "./helpers.ts";

const BLOCK = 4096;

/** 5 blocks and a bit: 5 x 4096 + 100 bytes, each block its own byte. */
function original(): Uint8Array {
  const data = new Uint8Array(5 * BLOCK + 100);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(i / BLOCK) + 1;
  return data;
}

async function xxh3(data: Uint8Array): Promise<string> {
  const hash = await createChecksum("xxh3-128");
  hash.update(data);
  return hash.digest();
}

/** Reads a body that follows a reply, and checks its trailer. */
async function body(raw: RawSession): Promise<Uint8Array> {
  const size = await readBodyHeader(raw.reader);
  const data = await readExact(raw.reader, size!);
  equal(await readTrailer(raw.reader, "xxh3-128"), await xxh3(data));
  return data;
}

/** Sends a sized body and its trailer. */
async function sendBody(raw: RawSession, data: Uint8Array): Promise<void> {
  await raw.write(encodeBodyHeader(data.length));
  await raw.write(data);
  await raw.write(encodeTrailer(await xxh3(data)));
}

async function serverWith(data: Uint8Array) {
  const srv = await startTestServer({ files: { "small.txt": "hi" } });
  await Deno.writeFile(`${srv.root}/f.bin`, data);
  return srv;
}

Deno.test("server: BLOCKS answers the file's checksum and each block's digest, as hashBlocks makes them", async () => {
  const data = original();
  await using srv = await serverWith(data);
  using raw = await srv.raw("BFTP/2 xxh3-128");
  ok(raw.hello?.ok && (raw.hello.features as string[]).includes("blocks"));
  const reply = await raw.request({ op: "BLOCKS", path: "f.bin", blockSize: BLOCK });
  ok(reply.ok);
  // Each block hashed on its own, here: the digests, raw, end to end.
  const blocks: number[] = [];
  for (let at = 0; at < data.length; at += BLOCK) {
    const hex = await xxh3(data.subarray(at, at + BLOCK));
    blocks.push(...hex.match(/../g)!.map((h) => parseInt(h, 16)));
  }
  deepEqual([reply.size, reply.blockSize, reply.count, reply.hash], [
    data.length,
    BLOCK,
    6,
    await xxh3(data),
  ]);
  deepEqual([...await body(raw)], blocks);
  // hashBlocks, which the client uses, makes the same.
  const local = await hashBlocks(bytesReader(data), data.length, BLOCK, "xxh3-128");
  deepEqual([[...local.digests], local.whole], [blocks, await xxh3(data)]);
  // Too many blocks, a block too small, a folder: refused, and the session goes on.
  const huge = await raw.request({ op: "BLOCKS", path: "f.bin", blockSize: 4095 });
  equal(!huge.ok && huge.code, "BAD_REQUEST");
  await Deno.writeFile(`${srv.root}/big.bin`, new Uint8Array((MAX_BLOCKS + 1) * BLOCK));
  const many = await raw.request({ op: "BLOCKS", path: "big.bin", blockSize: BLOCK });
  ok(!many.ok && many.code === "BAD_REQUEST" && /ask with larger blocks/.test(many.message));
  const dir = await raw.request({ op: "BLOCKS", path: "/", blockSize: BLOCK });
  equal(!dir.ok && dir.code, "IS_DIR");
  const empty = await raw.request({ op: "PWD" });
  equal(empty.ok && empty.cwd, "/");
});

Deno.test("server: a GET with length sends that range, checked by its own checksum; out of range or another version is refused", async () => {
  const data = original();
  await using srv = await serverWith(data);
  using raw = await srv.raw("BFTP/2 xxh3-128");
  const info = await raw.request({ op: "STAT", path: "f.bin" });
  const mtime = info.ok ? (info.entry as { mtime: number }).mtime : 0;
  const expect = { size: data.length, mtime };
  const reply = await raw.request({
    op: "GET",
    path: "f.bin",
    offset: BLOCK,
    length: 2 * BLOCK,
    expect,
  });
  ok(reply.ok);
  deepEqual([reply.offset, reply.length, reply.size], [BLOCK, 2 * BLOCK, data.length]);
  deepEqual(await body(raw), data.subarray(BLOCK, 3 * BLOCK));
  const beyond = await raw.request({ op: "GET", path: "f.bin", offset: 5 * BLOCK, length: 200 });
  equal(!beyond.ok && beyond.code, "BAD_REQUEST");
  const other = await raw.request({
    op: "GET",
    path: "f.bin",
    offset: 0,
    length: 10,
    expect: { size: data.length + 1, mtime },
  });
  equal(!other.ok && other.code, "CHANGED");
});

/** A delta PUT of `next` over the served f.bin, reusing `reuse`; returns the answer. */
async function putDelta(
  raw: RawSession,
  next: Uint8Array,
  reuse: number[],
  base: { size: number; mtime: number | null },
  whole?: string,
): Promise<Reply> {
  const reused = new Set<number>();
  for (let i = 0; i < reuse.length; i += 2) {
    for (let b = reuse[i]!; b < reuse[i]! + reuse[i + 1]!; b++) {
      reused.add(b);
    }
  }
  const literal: number[] = [];
  for (let i = 0; i * BLOCK < next.length; i++) {
    if (!reused.has(i)) {
      literal.push(...next.subarray(i * BLOCK, Math.min((i + 1) * BLOCK, next.length)));
    }
  }
  const ready = await raw.request({
    op: "PUT",
    path: "f.bin",
    size: next.length,
    overwrite: true,
    base,
    blockSize: BLOCK,
    reuse,
    whole: whole ?? await xxh3(next),
  });
  if (!ready.ok) return ready;
  await sendBody(raw, new Uint8Array(literal));
  return await raw.receive();
}

Deno.test("server: a PUT with base makes the file of the target's blocks and the body's, and lands it whole", async () => {
  const data = original();
  await using srv = await serverWith(data);
  using raw = await srv.raw("BFTP/2 xxh3-128");
  const base = {
    size: data.length,
    mtime: (await Deno.stat(`${srv.root}/f.bin`)).mtime!.getTime(),
  };
  // Blocks 1 and 4 rewritten, the file one block longer; blocks 0, 2, 3 kept in place.
  const next = new Uint8Array(6 * BLOCK + 7);
  next.set(data.subarray(0, 5 * BLOCK));
  next.fill(0xaa, BLOCK, 2 * BLOCK);
  next.fill(0xbb, 4 * BLOCK);
  const done = await putDelta(raw, next, [0, 1, 2, 2], base);
  ok(done.ok, JSON.stringify(done));
  equal(done["xxh3-128"], await xxh3(next));
  deepEqual(await Deno.readFile(`${srv.root}/f.bin`), next);
  deepEqual(
    [...Deno.readDirSync(srv.root)].map((e) => e.name).sort(),
    ["big.bin", "f.bin", "small.txt"].filter((n) => n !== "big.bin"),
  );
});

Deno.test("server: a PUT with base is refused when the target changed, a block is out of range or the file is not the one announced; the target stays", async () => {
  const data = original();
  await using srv = await serverWith(data);
  using raw = await srv.raw("BFTP/2 xxh3-128");
  const mtime = (await Deno.stat(`${srv.root}/f.bin`)).mtime!.getTime();
  const next = data.slice();
  next.fill(9, 0, BLOCK);
  const changed = await putDelta(raw, next, [1, 5], { size: data.length + 1, mtime });
  equal(!changed.ok && changed.code, "CHANGED");
  // Block 5 of the new file (the last, 100 bytes) is past the base's end once the base is short.
  const shortBase = data.subarray(0, 5 * BLOCK + 50);
  await Deno.writeFile(`${srv.root}/f.bin`, shortBase);
  const shortTime = (await Deno.stat(`${srv.root}/f.bin`)).mtime!.getTime();
  const outside = await putDelta(raw, next, [1, 5], { size: shortBase.length, mtime: shortTime });
  equal(!outside.ok && outside.code, "BAD_REQUEST");
  const unordered = await putDelta(raw, next, [2, 1, 1, 1], {
    size: shortBase.length,
    mtime: shortTime,
  });
  equal(!unordered.ok && unordered.code, "BAD_REQUEST");
  // Announced as another file: the body arrives, the made file does not hash to `whole`.
  const wrong = await putDelta(
    raw,
    next,
    [1, 4],
    { size: shortBase.length, mtime: shortTime },
    "0".repeat(32),
  );
  equal(!wrong.ok && wrong.code, "INTEGRITY");
  // An eager one whose base changed: its body, already on its way, is read past.
  await raw.send({
    op: "PUT",
    path: "f.bin",
    size: BLOCK,
    overwrite: true,
    eager: true,
    base: { size: 1, mtime: null },
    blockSize: BLOCK,
    reuse: [],
    whole: await xxh3(next.subarray(0, BLOCK)),
  });
  await sendBody(raw, next.subarray(0, BLOCK));
  const eager = await raw.receive();
  equal(!eager.ok && eager.code, "CHANGED");
  deepEqual(await Deno.readFile(`${srv.root}/f.bin`), shortBase);
  deepEqual([...Deno.readDirSync(srv.root)].map((e) => e.name).sort(), ["f.bin", "small.txt"]);
  const pwd = await raw.request({ op: "PWD" });
  equal(pwd.ok && pwd.cwd, "/");
});
