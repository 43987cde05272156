import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { RemoteError } from "../../lib/errors.ts";
import { MemoryReader, MemoryWriter, randomBytes, seededRandom } from "../framing/helpers.ts";
import { hostTree, startTestServer } from "./helpers.ts";
import { sha256 } from "../helpers.ts";
import { resetConnections } from "../peers.ts";

Deno.test("server: concurrent sessions each move their own files", async () => {
  await using srv = await startTestServer({ files: { "shared/": "" } });
  const SESSIONS = 8;
  const results = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const data = randomBytes(seededRandom(0xc0c0 + i), 100_000 + i * 7919);
      using client = await srv.connect();
      await client.mkdir(`/s${i}`);
      equal(await client.cd(`s${i}`), `/s${i}`);
      // Interleave: upload in pieces, list, read back, hash, and upload into a shared folder.
      await client.put("data.bin", new MemoryReader(data, [1000, 50_000]), {
        size: data.byteLength,
      });
      deepEqual((await client.list(".")).map((e) => [e.name, e.size]), [[
        "data.bin",
        data.byteLength,
      ]]);
      const sink = new MemoryWriter();
      await client.get("data.bin", sink);
      deepEqual(sink.bytes, data);
      equal((await client.hash("/s" + i + "/data.bin")).sha256, sha256(data));
      await client.put(`../shared/${i}.bin`, new MemoryReader(data), { size: null });
      equal(await client.pwd(), `/s${i}`);
      return sha256(data);
    }),
  );
  equal(new Set(results).size, SESSIONS);
  const tree = await hostTree(srv.root);
  equal(tree.filter((p) => p.startsWith("shared/") && p !== "shared/").length, SESSIONS);
  for (let i = 0; i < SESSIONS; i++) {
    equal(sha256(await Deno.readFile(`${srv.root}/shared/${i}.bin`)), results[i]);
  }
});

Deno.test("server: concurrent uploads to the same name leave one whole file", async () => {
  await using srv = await startTestServer();
  const bodies = Array.from({ length: 4 }, (_, i) => randomBytes(seededRandom(0x5a + i), 300_000));
  await Promise.all(bodies.map(async (data) => {
    using client = await srv.connect();
    await client.put("same.bin", new MemoryReader(data, [4096]), { size: data.byteLength });
  }));
  const final = sha256(await Deno.readFile(`${srv.root}/same.bin`));
  ok(bodies.some((b) => sha256(b) === final), "the file is one of the uploads, whole");
  deepEqual(await hostTree(srv.root), ["same.bin"]);
});

Deno.test("server: a client over the connection limit gets BUSY", async () => {
  await using srv = await startTestServer({ maxConnections: 2 });
  using one = await srv.connect();
  using two = await srv.connect();
  await srv.waitForConnections(2);
  await rejects(
    BftpClient.connect({ hostname: "127.0.0.1", port: srv.port }),
    (e) => e instanceof RemoteError && e.code === "BUSY",
  );
  // The sessions already open are not disturbed; a place freed is a place taken.
  equal(await one.pwd(), "/");
  await two.quit();
  await srv.waitForConnections(1);
  using three = await srv.connect();
  equal(await three.pwd(), "/");
});

Deno.test("server: close() ends open sessions and stops listening", async () => {
  const srv = await startTestServer();
  try {
    using client = await srv.connect();
    await srv.waitForConnections(1);
    await srv.server.close();
    equal(srv.server.connections, 0);
    await rejects(client.pwd());
    await rejects(BftpClient.connect({ hostname: "127.0.0.1", port: srv.port }));
  } finally {
    await srv[Symbol.asyncDispose]();
  }
});

Deno.test("server: connections reset before they are accepted are passed over, and the server keeps serving", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "alpha" } });
  // They die in the listen queue, where accept() answers ENOTCONN: that stopped the server.
  resetConnections(srv.port, 5);
  using client = await srv.connect();
  equal((await client.stat("a.txt")).size, 5);
});
