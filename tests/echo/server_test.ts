import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ConnectionError } from "../../lib/errors.ts";
import { type EchoServerEvent, startEchoServer } from "../../lib/echo/server.ts";

const LOCAL = "127.0.0.1";

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65536)));
  }
  return bytes;
}

/** Sends `payload`, closes the sending side, and reads until the server closes. */
async function echoOnce(port: number, payload: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: LOCAL, port });
  try {
    const writing = (async () => {
      let offset = 0;
      while (offset < payload.byteLength) offset += await conn.write(payload.subarray(offset));
      await conn.closeWrite();
    })();
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    let total = 0;
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      total += n;
    }
    await writing;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  } finally {
    conn.close();
  }
}

/** Writes one byte and reads it back; `"lost"` when the connection is gone. */
async function ping(conn: Deno.Conn, value: number): Promise<"ok" | "lost"> {
  try {
    await conn.write(new Uint8Array([value]));
    const buf = new Uint8Array(1);
    const n = await conn.read(buf);
    if (n === null) return "lost";
    equal(buf[0], value);
    return "ok";
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe) {
      return "lost";
    }
    throw e;
  }
}

Deno.test("echo: startEchoServer() gives 1,000 concurrent clients exactly their own random bytes, over every worker", async () => {
  await using server = await startEchoServer({ port: 0, workers: 2 });
  const payloads = Array.from(
    { length: 1000 },
    () => randomBytes(1 + Math.floor(Math.random() * 32768)),
  );
  const replies = await Promise.all(payloads.map((p) => echoOnce(server.addr.port, p)));
  for (let i = 0; i < payloads.length; i++) {
    deepEqual(replies[i], payloads[i], `client ${i} got other bytes back`);
  }
  const stats = server.stats();
  deepEqual(stats.map((s) => s.state), ["running", "running"]);
  for (const s of stats) ok(s.accepted > 0, `worker ${s.id} served no connection`);
  equal(stats.reduce((sum, s) => sum + s.accepted, 0), 1000);
  equal(
    stats.reduce((sum, s) => sum + s.bytes, 0),
    payloads.reduce((sum, p) => sum + p.byteLength, 0),
  );
});

for (const how of ["crash", "terminate"] as const) {
  Deno.test(`echo: a worker killed on purpose (${how}) is replaced; only its own clients lose their connection`, async () => {
    const events: EchoServerEvent[] = [];
    await using server = await startEchoServer({
      port: 0,
      workers: 2,
      onEvent: (e) => events.push(e),
    });
    const port = server.addr.port;
    const conns = await Promise.all(
      Array.from({ length: 40 }, () => Deno.connect({ hostname: LOCAL, port })),
    );
    try {
      for (const conn of conns) equal(await ping(conn, 1), "ok");
      const victim = server.stats()[0]!;
      ok(victim.open > 0 && victim.open < 40, `worker 1 holds ${victim.open} of 40`);
      await server.killWorker(victim.id, how);
      await server.settled();
      // The dead worker's clients see their connection end; the others keep theirs.
      const outcomes = await Promise.all(conns.map((c) => ping(c, 2)));
      equal(outcomes.filter((o) => o === "lost").length, victim.open);
      equal(outcomes.filter((o) => o === "ok").length, 40 - victim.open);
    } finally {
      for (const conn of conns) conn.close();
    }
    deepEqual(events.map((e) => e.type), ["died", "replaced"]);
    deepEqual(events[1], { type: "replaced", id: 1, by: 3 });
    // New clients are all served, by both the survivor and the replacement.
    const payloads = Array.from({ length: 200 }, () => randomBytes(100));
    const replies = await Promise.all(payloads.map((p) => echoOnce(port, p)));
    deepEqual(replies, payloads);
    const stats = server.stats();
    deepEqual(stats.map((s) => [s.id, s.state]), [[1, "dead"], [2, "running"], [3, "running"]]);
    equal(stats[0]!.replacedBy, 3);
    ok(stats[0]!.diedOf!.length > 0);
    ok(stats[2]!.accepted > 0, "the replacement served no connection");
  });
}

Deno.test("echo: a client that sends without reading cannot make the server buffer without bound", async () => {
  await using server = await startEchoServer({ port: 0, workers: 1 });
  const conn = await Deno.connect({ hostname: LOCAL, port: server.addr.port });
  try {
    // Write as much as the connection takes in 1.5 s without reading a byte.
    // The stream repeats `chunk`, so every byte's expected value is known.
    const chunk = randomBytes(1 << 20);
    let written = 0;
    let stalled: Promise<number> | undefined;
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline && written < 512 * (1 << 20)) {
      const writing = conn.write(chunk.subarray(written % chunk.byteLength));
      const n = await Promise.race([
        writing,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 300)),
      ]);
      if (n === null) {
        stalled = writing;
        break;
      }
      written += n;
    }
    ok(stalled, `the server took ${written} bytes without being read`);
    ok(written < 64 * (1 << 20), `${written} bytes went in before the writes stalled`);
    ok(server.stats()[0]!.bytes <= written + chunk.byteLength);
    // Everything sent comes back, in order, once the client reads.
    const reader = (async () => {
      const buf = new Uint8Array(1 << 20);
      let got = 0;
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return got;
        for (let i = 0; i < n; i++) {
          if (buf[i] !== chunk[(got + i) % chunk.byteLength]) return -(got + i);
        }
        got += n;
      }
    })();
    written += await stalled;
    await conn.closeWrite();
    equal(await reader, written);
  } finally {
    conn.close();
  }
});

Deno.test("echo: clients beyond maxConnections wait to be accepted until a connection ends", async () => {
  await using server = await startEchoServer({ port: 0, workers: 1, maxConnections: 2 });
  const port = server.addr.port;
  const a = await Deno.connect({ hostname: LOCAL, port });
  const b = await Deno.connect({ hostname: LOCAL, port });
  const c = await Deno.connect({ hostname: LOCAL, port });
  try {
    equal(await ping(a, 1), "ok");
    equal(await ping(b, 2), "ok");
    await c.write(new Uint8Array([3]));
    const buf = new Uint8Array(1);
    const reading = c.read(buf);
    const early = await Promise.race([
      reading.then(() => "answered"),
      new Promise<string>((resolve) => setTimeout(() => resolve("waiting"), 300)),
    ]);
    equal(early, "waiting");
    equal(server.stats()[0]!.open, 2);
    a.close();
    equal(await reading, 1);
    equal(buf[0], 3);
  } finally {
    b.close();
    c.close();
  }
});

Deno.test("echo: startEchoServer() refuses an address already in use, even by an SO_REUSEPORT listener", async () => {
  using taken = Deno.listen({ hostname: LOCAL, port: 0, reusePort: true });
  await rejects(
    startEchoServer({ port: taken.addr.port, workers: 2 }),
    (e) => e instanceof ConnectionError && /address in use/.test(e.message),
  );
});

Deno.test("echo: EchoServer.close() stops every worker and keeps its counts", async () => {
  const server = await startEchoServer({ port: 0, workers: 2 });
  const port = server.addr.port;
  const conn = await Deno.connect({ hostname: LOCAL, port });
  equal(await ping(conn, 9), "ok");
  await server.close();
  equal(await ping(conn, 10), "lost");
  conn.close();
  const stats = server.stats();
  deepEqual(stats.map((s) => s.state), ["stopped", "stopped"]);
  equal(stats.reduce((sum, s) => sum + s.accepted, 0), 1);
  equal(stats.reduce((sum, s) => sum + s.bytes, 0), 1);
  deepEqual(stats.map((s) => s.open), [0, 0]);
  await rejects(Deno.connect({ hostname: LOCAL, port }), Deno.errors.ConnectionRefused);
});

Deno.test("echo: startEchoServer() listens on IPv6 ::1", async () => {
  await using server = await startEchoServer({ hostname: "::1", port: 0, workers: 2 });
  equal(server.addr.hostname, "::1");
  const payload = randomBytes(1000);
  deepEqual(await echoOnce6(server.addr.port, payload), payload);
});

async function echoOnce6(port: number, payload: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "::1", port });
  try {
    await conn.write(payload);
    await conn.closeWrite();
    const out = new Uint8Array(payload.byteLength);
    let at = 0;
    while (at < out.byteLength) {
      const n = await conn.read(out.subarray(at));
      if (n === null) break;
      at += n;
    }
    equal(await conn.read(new Uint8Array(1)), null);
    return out.subarray(0, at);
  } finally {
    conn.close();
  }
}
