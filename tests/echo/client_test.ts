import { deepEqual, equal, rejects } from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../../lib/errors.ts";
import { EchoClient } from "../../lib/echo/client.ts";
import { startEchoServer } from "../../lib/echo/server.ts";

Deno.test("echo: EchoClient.roundTrip() carries a 32 MiB message without deadlocking", async () => {
  await using server = await startEchoServer({ port: 0, workers: 1 });
  using client = await EchoClient.connect(server.addr);
  const message = new Uint8Array(32 << 20);
  for (let i = 0; i < message.byteLength; i += 4096) message[i] = (i / 4096) & 0xff;
  deepEqual(await client.roundTrip(message), message);
  const small = new TextEncoder().encode("again\n");
  deepEqual(await client.roundTrip(small), small);
});

Deno.test("echo: EchoClient.connect() reports a refused connection", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await rejects(
    EchoClient.connect({ hostname: "127.0.0.1", port }),
    (e) =>
      e instanceof ConnectionError &&
      e.message === `Cannot connect to "127.0.0.1:${port}": connection refused`,
  );
});

Deno.test("echo: EchoClient.roundTrip() times out on a silent server and reports a closed one", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  using client = await EchoClient.connect({ hostname: "127.0.0.1", port }, { timeout: 200 });
  const silent = await listener.accept();
  try {
    await rejects(
      client.roundTrip(new Uint8Array(10)),
      (e) => e instanceof TimeoutError && /within 0.2 s/.test(e.message),
    );
  } finally {
    silent.close();
  }
  using client2 = await EchoClient.connect({ hostname: "127.0.0.1", port });
  const closing = await listener.accept();
  closing.close();
  await rejects(client2.roundTrip(new Uint8Array(10)), (e) => {
    equal(e instanceof ConnectionError, true);
    return /Connection (closed|to ".*" lost)/.test((e as Error).message);
  });
});
