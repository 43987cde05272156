import { deepEqual, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { parseBftpUrl } from "../../lib/client/url.ts";
import { TimeoutError } from "../../lib/errors.ts";
import { stallMidBody, startScriptedBftpServer } from "../e2e/fake_bftp_server.ts";

Deno.test("client: a server that stalls mid-body makes get() fail with a timeout", async () => {
  await using server = startScriptedBftpServer(stallMidBody);
  const client = await BftpClient.connect({
    hostname: "127.0.0.1",
    port: parseBftpUrl(server.url).port,
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
  }
});
