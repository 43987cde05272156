/**
 * The client's side of pipelining (protocol version 2): many requests in
 * flight on one session against the real server, one failing among them;
 * and hostile servers that answer out of order, twice, or not at all,
 * which the request ids expose.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { EAGER_PUT_MAX } from "../../lib/client/transfers.ts";
import { downloadTree } from "../../lib/client/tree_transfer.ts";
import { ProtocolError, RemoteError, TimeoutError } from "../../lib/errors.ts";
import { concat, MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { hostTree, startTestServer } from "../server/helpers.ts";
import {
  frame,
  hexBytes,
  type ScriptedRequest,
  startScriptedBftpServer,
} from "../e2e/fake_bftp_server.ts";
import { hashIn, sha256, tempDir } from "../helpers.ts";
import { cuttingProxy, putRequestsIn } from "../e2e/faulty_heads.ts";

const encoder = new TextEncoder();
const V2_HELLO = frame({ ok: true, version: 2, checksum: "sha256", server: "hostile 2" });

Deno.test("client: 1,000 GETs in flight on one session, one missing in the middle: it alone fails", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 1000; i++) files[`f${i}.txt`] = `content of file ${i}\n`.repeat(i % 7 + 1);
  delete files["f500.txt"];
  await using srv = await startTestServer({ files });
  using client = await srv.connect();
  const sinks = Array.from({ length: 1000 }, () => new MemoryWriter());
  const results = await Promise.allSettled(
    sinks.map((sink, i) => client.get(`/f${i}.txt`, sink)),
  );
  const failed = results.flatMap((r, i) => r.status === "rejected" ? [[i, r.reason]] : []);
  equal(failed.length, 1);
  equal(failed[0]![0], 500);
  ok(failed[0]![1] instanceof RemoteError && failed[0]![1].code === "NOT_FOUND");
  for (let i = 0; i < 1000; i++) {
    if (i === 500) continue;
    const got = new TextDecoder().decode(sinks[i]!.bytes);
    equal(got, files[`f${i}.txt`], `f${i}.txt`);
    const r = results[i]!;
    ok(r.status === "fulfilled");
    equal(r.value.hash, await hashIn(r.value.checksum, got));
  }
  // The session is still in step.
  equal(await client.pwd(), "/");
});

Deno.test("client: 1,000 eager PUTs in flight, one refused in the middle: the others land whole", async () => {
  await using srv = await startTestServer({ files: { "p500.txt": "already here" } });
  using client = await srv.connect();
  const results = await Promise.allSettled(
    Array.from({ length: 1000 }, (_, i) => {
      const bytes = encoder.encode(`upload ${i}\n`.repeat(i % 5 + 1));
      return client.put(`/p${i}.txt`, new MemoryReader(bytes), {
        size: bytes.byteLength,
        overwrite: false,
      });
    }),
  );
  const refused = results.flatMap((r, i) => r.status === "rejected" ? [i] : []);
  deepEqual(refused, [500]);
  const reason = (results[500] as PromiseRejectedResult).reason;
  ok(reason instanceof RemoteError && reason.code === "EXISTS");
  equal(await Deno.readTextFile(`${srv.root}/p500.txt`), "already here");
  for (const i of [0, 1, 499, 501, 999]) {
    equal(await Deno.readTextFile(`${srv.root}/p${i}.txt`), `upload ${i}\n`.repeat(i % 5 + 1));
  }
  equal((await hostTree(srv.root)).length, 1000);
  equal(await client.pwd(), "/");
});

Deno.test("client: eager uploads larger than EAGER_PUT_MAX, three in flight, the middle one refused: the others land whole", async () => {
  await using srv = await startTestServer({ files: { "b1.bin": "already here" } });
  // Through a proxy that keeps what the client sends: each request shows whether it is eager.
  const sent: Uint8Array[] = [];
  await using proxy = cuttingProxy(`127.0.0.1:${srv.port}`, {
    direction: "up",
    limit: Infinity,
    keepUp: sent,
  });
  using client = await BftpClient.connect({
    hostname: "127.0.0.1",
    port: Number(proxy.head.split(":")[1]),
  });
  const size = EAGER_PUT_MAX + 1024;
  const bodies = [0, 1, 2].map((i) => new Uint8Array(size).fill(i + 1));
  const results = await Promise.allSettled(
    bodies.map((bytes, i) =>
      client.put(`/b${i}.bin`, new MemoryReader(bytes, [65536]), {
        size,
        overwrite: false,
        eager: true,
      })
    ),
  );
  deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  const reason = (results[1] as PromiseRejectedResult).reason;
  ok(reason instanceof RemoteError && reason.code === "EXISTS");
  equal(await Deno.readTextFile(`${srv.root}/b1.bin`), "already here");
  for (const i of [0, 2]) deepEqual(await Deno.readFile(`${srv.root}/b${i}.bin`), bodies[i]);
  equal(await client.pwd(), "/");
  const puts = putRequestsIn(sent);
  equal(puts.length, 3, puts.join("\n"));
  ok(puts.every((p) => p.includes('"eager":true')), puts.join("\n"));
});

Deno.test("client: a stall in one body fails every GET in flight with the timeout, none with the cancelled read", async () => {
  await using fake = startScriptedBftpServer((req, send) => {
    if (req.op !== "GET") return;
    // The first GET's reply and 10 of its 1,000 bytes, then nothing: the second waits behind.
    return send(concat(frame({ ok: true, size: 1000, mtime: 0, id: req.id }), hexBytes(1000, 16)))
      .then(() => send(new Uint8Array(10))).then(() => "stall" as const);
  }, V2_HELLO);
  using client = await BftpClient.connect({
    hostname: "127.0.0.1",
    port: fake.port,
    stallTimeout: 1,
  });
  const results = await Promise.allSettled(
    ["/a", "/b", "/c"].map((path) => client.get(path, new MemoryWriter())),
  );
  for (const r of results) {
    ok(r.status === "rejected");
    ok(r.reason instanceof TimeoutError, String(r.reason));
  }
});

/** A scripted version 2 server whose GETs of `/a` and `/b` are answered as `answer` says. */
function hostileGets(
  answer: (req: ScriptedRequest, held: ScriptedRequest[]) => ScriptedRequest[],
) {
  const held: ScriptedRequest[] = [];
  return startScriptedBftpServer(async (req, send) => {
    if (req.op === "LIST") {
      const entry = (name: string) => ({ name, type: "file", size: 2, mtime: 0, mode: 0o644 });
      await send(frame({ ok: true, entries: [entry("a"), entry("b")], id: req.id }));
      return;
    }
    if (req.op !== "GET") return;
    for (const r of answer(req, held)) {
      await send(frame({ ok: true, size: 2, mtime: 0, id: r.id }));
      await send(hexBytes(2, 16));
      await send(encoder.encode("hi" + sha256("hi")));
    }
  }, V2_HELLO);
}

for (
  const [what, answer] of [
    // The first GET is held back and answered after the second.
    ["answers out of order", (req: ScriptedRequest, held: ScriptedRequest[]) => {
      if (req.path === "/a") {
        held.push(req);
        return [];
      }
      return [req, ...held];
    }],
    // The first GET is answered twice.
    ["answers a request twice", (req: ScriptedRequest) => req.path === "/a" ? [req, req] : [req]],
    // The first GET is never answered.
    ["drops an answer", (req: ScriptedRequest) => req.path === "/a" ? [] : [req]],
  ] as const
) {
  Deno.test(`client: a pipelining server that ${what} is refused, nothing wrong or partial lands`, async () => {
    await using fake = hostileGets(answer);
    await using dest = await tempDir();
    using client = await BftpClient.connect({ hostname: "127.0.0.1", port: fake.port });
    await rejects(
      downloadTree(client, "/", dest.path),
      (e) => {
        ok(e instanceof ProtocolError && /out of order/.test(e.message), String(e));
        return true;
      },
    );
    ok(!client.usable, "the session is closed after replies out of step");
    // What was answered in step before the fault may have landed, whole and verified (a file
    // answered twice is whole the first time); nothing after it, and no temporary is left.
    const names = [...Deno.readDirSync(dest.path)].map((d) => d.name);
    ok(names.every((n) => n === "a"), JSON.stringify(names));
    for (const n of names) equal(Deno.readTextFileSync(`${dest.path}/${n}`), "hi");
  });
}

Deno.test("client: to a server that answers version 1, requests go one at a time, without id or eager", async () => {
  const seen: ScriptedRequest[] = [];
  await using fake = startScriptedBftpServer(async (req, send) => {
    seen.push(req);
    if (req.op === "STAT") {
      const entry = { name: "x", type: "file", size: 0, mtime: 0, mode: 0o644 };
      await send(frame({ ok: true, entry }));
    }
  }, frame({ ok: true, version: 1, server: "old" }));
  using client = await BftpClient.connect({ hostname: "127.0.0.1", port: fake.port });
  const entries = await Promise.all(Array.from({ length: 5 }, () => client.stat("/x")));
  equal(entries.length, 5);
  equal(seen.length, 5);
  ok(seen.every((r) => !("id" in r) && !("eager" in r)), JSON.stringify(seen));
});
