import { equal, ok, rejects } from "node:assert/strict";
import { ConnectionError } from "../../lib/errors.ts";
import { connectWithRetry } from "../../lib/pipe/connect_retry.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

Deno.test("pipe: connectWithRetry() waits for a listener that starts later", async () => {
  const port = freePort();
  let listener: Deno.TcpListener | undefined;
  const timer = setTimeout(() => {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
  }, 300);
  const started = performance.now();
  try {
    const conn = await connectWithRetry({ hostname: "127.0.0.1", port, timeout: 5 });
    const peer = await listener!.accept();
    peer.close();
    conn.close();
    ok(performance.now() - started >= 250);
    equal(conn.remoteAddr.port, port);
  } finally {
    clearTimeout(timer);
    listener?.close();
  }
});

Deno.test("pipe: connectWithRetry() gives up when still refused at the deadline", async () => {
  const port = freePort();
  const started = performance.now();
  await rejects(
    connectWithRetry({ hostname: "127.0.0.1", port, timeout: 0.4 }),
    (e: unknown) => e instanceof ConnectionError && /refused for 0.4s/.test(e.message),
  );
  const took = performance.now() - started;
  ok(took >= 250 && took < 3000, `took ${took} ms`);
});

Deno.test("pipe: connectWithRetry() with timeout 0 tries once", async () => {
  const started = performance.now();
  await rejects(
    connectWithRetry({ hostname: "127.0.0.1", port: freePort(), timeout: 0 }),
    /connection refused$/,
  );
  ok(performance.now() - started < 1000);
});

Deno.test("pipe: connectWithRetry() stops retrying when its signal aborts", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 150);
  const started = performance.now();
  await rejects(
    connectWithRetry({ hostname: "127.0.0.1", port: freePort(), signal: controller.signal }),
    /Interrupted/,
  );
  ok(performance.now() - started < 2000);
});
