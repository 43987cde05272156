import { equal, ok, rejects } from "node:assert/strict";
import { ConnectionError, IntegrityError, TimeoutError } from "../../lib/errors.ts";
import { runEchoLoad } from "../../lib/echo/load.ts";
import { startEchoServer } from "../../lib/echo/server.ts";

/**
 * A misbehaving echo peer on the test's own thread: `reply` decides what
 * goes back for each chunk (null closes the connection).
 */
async function withPeer(
  reply: (chunk: Uint8Array, seen: number) => Uint8Array | null,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tasks: Promise<void>[] = [];
  const conns = new Set<Deno.Conn>();
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      tasks.push((async () => {
        const buf = new Uint8Array(65536);
        let seen = 0;
        try {
          while (true) {
            const n = await conn.read(buf);
            if (n === null) break;
            const out = reply(buf.subarray(0, n), seen);
            seen += n;
            if (out === null) break;
            if (out.byteLength > 0) await conn.write(out);
          }
        } catch {
          // The load client closed the connection under us: expected here.
        } finally {
          if (conns.delete(conn)) conn.close();
        }
      })());
    }
  })();
  try {
    await body(listener.addr.port);
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) conn.close();
    conns.clear();
    await Promise.all(tasks);
  }
}

Deno.test("echo: runEchoLoad() makes every round trip on every connection and measures them", async () => {
  await using server = await startEchoServer({ port: 0, workers: 2 });
  const result = await runEchoLoad(server.addr, { connections: 20, count: 50, size: 300 });
  equal(result.roundTrips, 1000);
  equal(result.bytes, 300_000);
  ok(result.seconds > 0);
  ok(Math.abs(result.roundTripsPerSecond - 1000 / result.seconds) < 1e-6);
  ok(result.p50Ms > 0 && result.p50Ms <= result.p99Ms && result.p99Ms <= result.maxMs);
  const stats = server.stats();
  equal(stats.reduce((sum, s) => sum + s.accepted, 0), 20);
  // Every byte sent was echoed by a worker: the timed round trips and one
  // untimed first round trip per connection.
  equal(stats.reduce((sum, s) => sum + s.bytes, 0), 300_000 + 20 * 300);
  ok(result.setupSeconds > 0);
});

Deno.test("echo: runEchoLoad() carries messages larger than the socket buffers", async () => {
  await using server = await startEchoServer({ port: 0, workers: 1 });
  const result = await runEchoLoad(server.addr, { connections: 2, count: 2, size: 16 << 20 });
  equal(result.bytes, 4 * (16 << 20));
});

Deno.test("echo: runEchoLoad() catches a reply that differs from what was sent", async () => {
  await withPeer(
    (chunk, seen) => {
      const out = chunk.slice();
      if (seen === 0) out[5]! ^= 1;
      return out;
    },
    async (port) => {
      await rejects(
        runEchoLoad({ hostname: "127.0.0.1", port }, { connections: 3, count: 5, size: 64 }),
        (e) =>
          e instanceof IntegrityError && /differs from what was sent at byte 5/.test(e.message),
      );
    },
  );
});

Deno.test("echo: runEchoLoad() catches a stale reply (the round trip's number is in the bytes)", async () => {
  let first: Uint8Array | undefined;
  await withPeer(
    (chunk) => (first ??= chunk.slice()),
    async (port) => {
      await rejects(
        runEchoLoad({ hostname: "127.0.0.1", port }, { connections: 1, count: 3, size: 64 }),
        (e) => e instanceof IntegrityError && /Reply 1 on connection 1 differs/.test(e.message),
      );
    },
  );
});

Deno.test("echo: runEchoLoad() fails with a ConnectionError when the server closes mid-run", async () => {
  await withPeer(
    (chunk, seen) => (seen >= 64 * 3 ? null : chunk.slice()),
    async (port) => {
      await rejects(
        runEchoLoad({ hostname: "127.0.0.1", port }, { connections: 4, count: 10, size: 64 }),
        (e) =>
          e instanceof ConnectionError && /Connection closed after 0 of 64 bytes/.test(e.message),
      );
    },
  );
});

Deno.test("echo: runEchoLoad() times out on a server that never answers", async () => {
  await withPeer(
    () => new Uint8Array(0),
    async (port) => {
      const start = Date.now();
      await rejects(
        runEchoLoad({ hostname: "127.0.0.1", port }, { connections: 2, count: 1, timeout: 300 }),
        (e) => e instanceof TimeoutError && /within 0.3 s/.test(e.message),
      );
      ok(Date.now() - start < 3000);
    },
  );
});

Deno.test("echo: runEchoLoad() reports a refused connection and an aborted run", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await rejects(
    runEchoLoad({ hostname: "127.0.0.1", port }, { connections: 3 }),
    (e) => e instanceof ConnectionError && /connection refused/.test(e.message),
  );
  await using server = await startEchoServer({ port: 0, workers: 1 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  await rejects(
    runEchoLoad(server.addr, { connections: 5, count: 1e9, signal: controller.signal }),
    (e) => e instanceof ConnectionError && /Interrupted/.test(e.message),
  );
});

Deno.test("echo: runEchoLoad() refuses counts that are not positive whole numbers", async () => {
  for (const bad of [{ connections: 0 }, { count: 1.5 }, { size: -1 }, { connections: 1e9 }]) {
    await rejects(runEchoLoad({ hostname: "127.0.0.1", port: 9 }, bad), RangeError);
  }
});
