import { equal, ok, rejects } from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../../lib/errors.ts";
import { acceptOne } from "../../lib/pipe/listen_once.ts";
import { resetConnections } from "../peers.ts";

Deno.test("pipe: acceptOne() takes exactly one connection, then the port is closed", async () => {
  let port = 0;
  const accepted = acceptOne({ port: 0, onListening: (addr) => void (port = addr.port) });
  ok(port > 0);
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = await accepted;
  try {
    equal(conn.localAddr.port, port);
    await rejects(Deno.connect({ hostname: "127.0.0.1", port }), Deno.errors.ConnectionRefused);
  } finally {
    conn.close();
    client.close();
  }
});

Deno.test("pipe: acceptOne() gives up after its timeout with a TimeoutError", async () => {
  const started = performance.now();
  await rejects(
    acceptOne({ port: 0, timeout: 0.2 }),
    (e: unknown) =>
      e instanceof TimeoutError && /"127\.0\.0\.1:[1-9]\d*" within 0.2s/.test(e.message),
  );
  ok(performance.now() - started >= 150);
});

Deno.test("pipe: acceptOne() stops waiting when its signal aborts", async () => {
  const controller = new AbortController();
  const accepted = acceptOne({ port: 0, signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await rejects(accepted, /Interrupted/);
  await rejects(acceptOne({ port: 0, signal: AbortSignal.abort() }), ConnectionError);
});

Deno.test("pipe: acceptOne() reports a port in use as a ConnectionError", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await rejects(acceptOne({ port: listener.addr.port }), /in use/);
});

Deno.test("pipe: acceptOne() passes over connections reset before it accepts them, and takes the next", async () => {
  let port = 0;
  const accepted = acceptOne({ port: 0, onListening: (addr) => void (port = addr.port) });
  resetConnections(port, 3);
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = await accepted;
  try {
    await client.write(new Uint8Array([7]));
    const byte = new Uint8Array(1);
    equal(await conn.read(byte), 1);
    equal(byte[0], 7);
  } finally {
    conn.close();
    client.close();
  }
});
