/**
 * The server's side of pipelining (protocol version 2): requests sent all
 * at once are answered in order with their ids, an eager PUT's body follows
 * its request, and a refused eager PUT has its body read and discarded so
 * that the session stays in step.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { concat } from "../framing/helpers.ts";
import { encodeSized } from "../../lib/framing/size_header.ts";
import { encodeMessage } from "../../lib/protocol/messages.ts";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { runSession } from "../../lib/server/session.ts";
import { MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { hostTree, startTestServer } from "./helpers.ts";
import { sha256, tempDir } from "../helpers.ts";

const encoder = new TextEncoder();

/** A sized body of `text` with its SHA-256 trailer. */
function body(text: string): Uint8Array {
  return encoder.encode(
    text.length.toString(16).padStart(16, "0") + text + sha256(text),
  );
}

/** A request frame. */
function frame(req: Record<string, unknown>): Uint8Array {
  return encodeSized(encodeMessage(req as never));
}

/** An eager PUT of `text` to `path` (overwriting), request `id`, its body behind it. */
function eagerPut(path: string, id: number, text: string): Uint8Array {
  return concat(
    frame({ op: "PUT", path, size: text.length, overwrite: true, eager: true, id }),
    body(text),
  );
}

/** Eager PUTs of 4 KiB to `f{from}.txt` ... `f{from + count - 1}.txt`, ids as numbers. */
function smallUploads(from: number, count: number): Uint8Array[] {
  return Array.from(
    { length: count },
    (_, k) => eagerPut(`f${from + k}.txt`, from + k, String((from + k) % 10).repeat(4096)),
  );
}

/** A stream of `bytes` that hands them out 4 KiB a read. */
function in4KiBReads(bytes: Uint8Array): MemoryReader {
  return new MemoryReader(bytes, Array(Math.ceil(bytes.byteLength / 4096)).fill(4096));
}

/** The sizes of the commit groups a session's log names, one per upload, in order. */
function groupSizes(log: string[]): string[] {
  return log.flatMap((l) => / \(group of (\d+)\)$/.exec(l)?.[1] ?? []);
}

Deno.test("server: version 2 requests sent at once are answered in order, each with its id", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "alpha", "d/": "" } });
  using raw = await srv.raw("BFTP/2 sha256");
  equal(raw.hello?.ok && raw.hello.version, 2);
  equal(raw.hello?.ok && raw.hello.checksum, "sha256");
  await raw.write(concat(
    frame({ op: "STAT", path: "a.txt", id: 10 }),
    frame({ op: "STAT", path: "missing", id: 11 }),
    frame({ op: "MKDIR", path: "d/e", id: 12 }),
    frame({ op: "PUT", path: "d/e/b.txt", size: 4, overwrite: true, eager: true, id: 13 }),
    body("beta"),
    frame({ op: "LIST", path: "d/e", id: 14 }),
  ));
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(await raw.receive());
  deepEqual(replies.map((r) => r.id), [10, 11, 12, 13, 14]);
  deepEqual(replies.map((r) => r.ok), [true, false, true, true, true]);
  equal(!replies[1]!.ok && replies[1]!.code, "NOT_FOUND");
  // The eager PUT got no "ready": its one reply is the final one.
  equal(replies[3]!.ok && replies[3]!.sha256, sha256("beta"));
  const listed = replies[4]!.ok ? replies[4]!.entries as { name: string }[] : [];
  deepEqual(listed.map((e) => e.name), ["b.txt"]);
  equal(await Deno.readTextFile(`${srv.root}/d/e/b.txt`), "beta");
});

Deno.test("server: a refused eager PUT has its body read past, and the next request is answered", async () => {
  await using srv = await startTestServer({ files: { "keep.txt": "old" } });
  using raw = await srv.raw("BFTP/2");
  const chunked = encoder.encode(
    "ffffffffffffffff" + "00000003abc" + "00000002de" + "00000000" + sha256("abcde"),
  );
  await raw.write(concat(
    // Refused before the body: the file exists and overwrite is false.
    frame({ op: "PUT", path: "keep.txt", size: 3, overwrite: false, eager: true, id: 1 }),
    body("new"),
    // Refused as malformed (a mode out of range), chunked body: read past all the same.
    frame({ op: "PUT", path: "x.txt", size: null, mode: 4096, eager: true, id: 2 }),
    chunked,
    // eager with resume is malformed: its body is read past too.
    frame({
      op: "PUT",
      path: "y.txt",
      size: 3,
      resume: true,
      sha256: sha256("yyy"),
      eager: true,
      id: 3,
    }),
    body("yyy"),
    // A malformed id: refused without one, body read past.
    frame({ op: "PUT", path: "z.txt", size: 1, eager: true, id: -1 }),
    body("z"),
    // A delta of another version (found by a security audit): its body, the blocks not kept,
    // is shorter than `size`, and was taken for a broken body (the session was closed).
    frame({
      op: "PUT",
      path: "keep.txt",
      size: 300,
      overwrite: true,
      base: { size: 99, mtime: null },
      blockSize: 4096,
      reuse: [],
      whole: "0".repeat(32),
      eager: true,
      id: 5,
    }),
    body("x".repeat(200)),
    frame({ op: "PWD", id: 6 }),
  ));
  const replies = [];
  for (let i = 0; i < 6; i++) replies.push(await raw.receive());
  deepEqual(replies.map((r) => r.ok ? "ok" : r.code), [
    "EXISTS",
    "BAD_REQUEST",
    "BAD_REQUEST",
    "BAD_REQUEST",
    "CHANGED",
    "ok",
  ]);
  deepEqual(replies.map((r) => r.id), [1, 2, 3, undefined, 5, 6]);
  equal(replies[5]!.ok && replies[5]!.cwd, "/");
  equal(await Deno.readTextFile(`${srv.root}/keep.txt`), "old");
  deepEqual(await hostTree(srv.root), ["keep.txt"]);
});

Deno.test("server: a request that is JSON but not strict JSON still gets its id echoed", async () => {
  await using srv = await startTestServer();
  using raw = await srv.raw("BFTP/2");
  await raw.send(encoder.encode('{"op":"PWD","op":"PWD","id":7}'));
  const reply = await raw.receive();
  equal(!reply.ok && reply.code, "BAD_REQUEST");
  equal(reply.id, 7);
  await raw.send(encoder.encode("not json"));
  const bare = await raw.receive();
  equal(!bare.ok && bare.code, "BAD_REQUEST");
  equal(bare.id, undefined);
});

Deno.test("server: a version 1 session is unchanged: a PUT waits for ready, replies carry no id", async () => {
  await using srv = await startTestServer();
  using raw = await srv.raw("BFTP/1");
  equal(raw.hello?.ok && raw.hello.version, 1);
  equal(raw.hello?.ok && raw.hello.checksum, undefined);
  const ready = await raw.request({ op: "PUT", path: "a.txt", size: 2, overwrite: true });
  deepEqual(ready, { ready: true, ok: true });
  await raw.write(body("hi"));
  const done = await raw.receive();
  ok(done.ok);
  equal(done.id, undefined);
  equal(await Deno.readTextFile(`${srv.root}/a.txt`), "hi");
});

Deno.test("server: uploads pipelined past a full commit group land in the order they were sent", async () => {
  await using tmp = await tempDir();
  const root = await ServedRoot.open(tmp.path); // flushes: pipelined uploads are committed in groups
  const put = (path: string, text: string, id: number) =>
    concat(
      frame({ op: "PUT", path, size: text.length, overwrite: true, eager: true, id }),
      body(text),
    );
  // First 70 KB of PWDs: the session's read buffer, which doubles while the stream fills it,
  // grows from 4 KiB past 64. Then 65 uploads, all in one fill: the group is full (64) when the
  // 65th, to the first one's path, arrives.
  const frames = [encodeDelimited("BFTP/2 sha256")];
  for (let n = 0, id = 1000; n < 70_000; id++) {
    n += frames[frames.push(frame({ op: "PWD", id })) - 1]!.byteLength;
  }
  frames.push(put("same.txt", "first", 1));
  for (let i = 2; i <= 64; i++) frames.push(put(`f${i}.txt`, `${i}`, i));
  frames.push(put("same.txt", "last", 65), frame({ op: "QUIT", id: 66 }));
  const log: string[] = [];
  const input = new MemoryReader(concat(...frames));
  const out = new MemoryWriter();
  await runSession({
    read: (p) => input.read(p),
    write: (p) => out.write(p),
  }, {
    root,
    remote: "peer",
    log: (line) => log.push(line),
  });
  ok(log.some((l) => l.includes("(group of 64)")), log.join("\n"));
  ok(!log.some((l) => / (SERVER|BAD_REQUEST|INTEGRITY) /.test(l)), log.join("\n"));
  equal(await Deno.readTextFile(`${tmp.path}/same.txt`), "last");
  root.close();
});

Deno.test("server: a commit group grows over reads the stream answers at once, and lands before a read that waits", async () => {
  await using tmp = await tempDir();
  const root = await ServedRoot.open(tmp.path); // flushes: pipelined uploads are committed in groups
  // 100 uploads arrive 4 KiB a read, at once; then the stream waits 30 ms; then 10 more and QUIT.
  const first = in4KiBReads(concat(encodeDelimited("BFTP/2 sha256"), ...smallUploads(0, 100)));
  const after = concat(...smallUploads(100, 10), frame({ op: "QUIT", id: 999 }));
  const second = new MemoryReader(after);
  let waited = 0;
  const log: string[] = [];
  const out = new MemoryWriter();
  await runSession({
    read: async (p) => {
      const n = await first.read(p);
      if (n !== null) return n;
      if (waited++ === 0) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        // Everything read so far landed while the stream waited.
        equal(
          (await Array.fromAsync(Deno.readDir(tmp.path))).filter((e) => e.name.startsWith("f"))
            .length,
          100,
        );
      }
      return await second.read(p);
    },
    write: (p) => out.write(p),
  }, { root, remote: "peer", log: (line) => log.push(line) });
  const groups = groupSizes(log);
  equal(groups.length, 110, log.join("\n"));
  deepEqual(new Set(groups), new Set(["64", "36", "10"]), "64 and 36 before the wait, 10 after");
  equal(await Deno.readTextFile(`${tmp.path}/f109.txt`), "9".repeat(4096));
  root.close();
});

Deno.test("server: a full commit group lands while the session reads the uploads after it", async () => {
  await using tmp = await tempDir();
  const root = await ServedRoot.open(tmp.path); // flushes: pipelined uploads are committed in groups
  // 74 uploads, 4 KiB a read: the group is full at the 65th; the 9 after it are read while it lands.
  const wire = concat(
    encodeDelimited("BFTP/2 sha256"),
    ...smallUploads(0, 74),
    frame({ op: "QUIT", id: 999 }),
  );
  const input = in4KiBReads(wire);
  const out = new MemoryWriter();
  const log: string[] = [];
  // How much of the stream had been read when each line was logged (an upload's when it landed).
  const readWhenLogged: number[] = [];
  await runSession({
    read: (p) => input.read(p),
    write: (p) => out.write(p),
  }, {
    root,
    remote: "peer",
    log: (line) => (log.push(line), readWhenLogged.push(input.delivered)),
  });
  const firstLanded = log.findIndex((l) => l.endsWith("(group of 64)"));
  equal(readWhenLogged[firstLanded], wire.byteLength, log.join("\n"));
  deepEqual(
    new Set(groupSizes(log)),
    new Set(["64", "10"]),
  );
  equal(
    (await Array.fromAsync(Deno.readDir(tmp.path))).filter((e) => e.name.startsWith("f")).length,
    74,
  );
  root.close();
});

Deno.test("server: a commit group of large uploads lands once it holds 8 MiB", async () => {
  await using tmp = await tempDir();
  const root = await ServedRoot.open(tmp.path); // flushes: pipelined uploads are committed in groups
  const size = 3 << 20;
  const put = (i: number) => eagerPut(`f${i}.bin`, i, String(i).repeat(size));
  // Five uploads of 3 MiB arriving at once: three (9 MiB) land when the fourth arrives.
  const wire = concat(
    encodeDelimited("BFTP/2 sha256"),
    ...Array.from({ length: 5 }, (_, i) => put(i)),
    frame({ op: "QUIT", id: 999 }),
  );
  const log: string[] = [];
  const input = new MemoryReader(wire);
  await runSession({ read: (p) => input.read(p), write: (p) => new MemoryWriter().write(p) }, {
    root,
    remote: "peer",
    log: (line) => log.push(line),
  });
  deepEqual(
    groupSizes(log),
    ["3", "3", "3", "2", "2"],
    log.join("\n"),
  );
  equal((await Deno.stat(`${tmp.path}/f4.bin`)).size, size);
  root.close();
});

Deno.test("server: a quiet session (serve -q) makes no log lines, and stores and answers as one that logs", async () => {
  for (const quiet of [true, false]) {
    await using tmp = await tempDir();
    const root = await ServedRoot.open(tmp.path);
    const input = new MemoryReader(
      concat(encodeDelimited("BFTP/2 sha256"), ...smallUploads(0, 3), frame({ op: "QUIT", id: 9 })),
    );
    const out = new MemoryWriter();
    const log: string[] = [];
    await runSession({ read: (p) => input.read(p), write: (p) => out.write(p) }, {
      root,
      remote: "peer",
      log: (line) => log.push(line),
      quiet,
    });
    // Logging or not, every upload landed and was answered.
    equal(await Deno.readTextFile(`${tmp.path}/f2.txt`), "2".repeat(4096));
    const answered = new TextDecoder().decode(out.bytes).match(/"ok":true/g)?.length;
    equal(answered, 5, "the hello, three uploads and QUIT");
    if (quiet) deepEqual(log, []);
    else equal(log.filter((l) => l.startsWith("peer PUT")).length, 3, log.join("\n"));
    root.close();
  }
});
