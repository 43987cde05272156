import { deepEqual, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { TimeoutError } from "../../lib/errors.ts";
import { stallingServer } from "./stalling_server.ts";

Deno.test("client: a server that stalls mid-body makes get() fail with a timeout", async () => {
  const server = stallingServer();
  const client = await BftpClient.connect({
    hostname: "127.0.0.1",
    port: server.port,
    stallTimeout: 0.5,
  });
  try {
    let received = 0;
    const sink = {
      write: (p: Uint8Array) => (received += p.byteLength, Promise.resolve(p.byteLength)),
    };
    const started = performance.now();
    await rejects(client.get("/a", sink), (e) => e instanceof TimeoutError);
    const waited = performance.now() - started;
    ok(waited >= 400 && waited < 3000, `gave up after ${waited.toFixed(0)} ms`);
    deepEqual(received, 10);
  } finally {
    client.close();
    await server.close();
  }
});
