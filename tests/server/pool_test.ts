import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { RemoteError } from "../../lib/errors.ts";
import { startServerPool } from "../../lib/server/pool.ts";
import { MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { hashIn, sha256, tempDir, waitFor } from "../helpers.ts";

/** A client of the pool. */
function connect(port: number): Promise<BftpClient> {
  return BftpClient.connect({ hostname: "127.0.0.1", port });
}

Deno.test("server: a pool of 2 workers serves 40 clients, and both workers take some", async () => {
  await using tmp = await tempDir();
  const served = new Map<number, number>();
  const pool = await startServerPool({
    rootPath: tmp.path,
    workers: 2,
    port: 0,
    // 40 clients from one address: over the default per-client limit.
    maxPerClient: 0,
    log: (line, worker) => {
      if (worker !== undefined && / PUT /.test(line)) {
        served.set(worker, (served.get(worker) ?? 0) + 1);
      }
    },
  });
  try {
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const body = crypto.getRandomValues(new Uint8Array(1000 + i * 97));
      const client = await connect(pool.addr.port);
      try {
        await client.put(`/f${i}.bin`, new MemoryReader(body), { size: body.byteLength });
        const sink = new MemoryWriter();
        const got = await client.get(`/f${i}.bin`, sink);
        return got.hash === await hashIn(got.checksum, body) &&
          sha256(sink.bytes) === sha256(body);
      } finally {
        await client.quit();
      }
    }));
    deepEqual(results.filter((r) => !r).length, 0);
    await waitFor(() => [...served.values()].reduce((a, b) => a + b, 0) === 40, "40 PUT lines");
    ok((served.get(0) ?? 0) > 0, `worker 0 served ${served.get(0) ?? 0}`);
    ok((served.get(1) ?? 0) > 0, `worker 1 served ${served.get(1) ?? 0}`);
  } finally {
    await pool.close();
  }
});

Deno.test("server: a pool replaces a crashed worker, and the other worker's clients never notice", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/a.txt`, "abc");
  const byPort = new Map<number, number>();
  const pool = await startServerPool({
    rootPath: dir,
    workers: 2,
    port: 0,
    // 40 clients from one address: over the default per-client limit.
    maxPerClient: 0,
    log: (line, worker) => {
      const port = /127\.0\.0\.1:(\d+) /.exec(line)?.[1];
      if (port && worker !== undefined) byPort.set(Number(port), worker);
    },
  });
  const clients: BftpClient[] = [];
  try {
    // Open sessions until both workers hold at least one.
    for (let i = 0; i < 40 && new Set(byPort.values()).size < 2; i++) {
      const client = await connect(pool.addr.port);
      clients.push(client);
      await client.pwd();
    }
    await waitFor(() => new Set(byPort.values()).size === 2, "sessions on both workers");
    const workerOf = (c: BftpClient) => byPort.get(c.localPort)!;
    pool.crashWorker(0);
    await waitFor(() => pool.replaced === 1, "the replacement");
    for (const client of clients) {
      if (workerOf(client) === 1) {
        deepEqual(await client.pwd(), "/");
      } else {
        await rejects(client.pwd());
      }
    }
    // New clients are served, by the new worker too in time.
    for (let i = 0; i < 10; i++) {
      const client = await connect(pool.addr.port);
      const sink = new MemoryWriter();
      await client.get("/a.txt", sink);
      equal(new TextDecoder().decode(sink.bytes), "abc");
      await client.quit();
    }
  } finally {
    for (const c of clients) c.close();
    await pool.close();
  }
});

Deno.test("server: a pool enforces one connection limit over all its workers", async () => {
  await using tmp = await tempDir();
  const pool = await startServerPool({
    rootPath: tmp.path,
    workers: 2,
    port: 0,
    maxConnections: 3,
  });
  const clients: BftpClient[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      clients.push(await connect(pool.addr.port));
    }
    equal(pool.connections, 3);
    const started = performance.now();
    const err = await connect(pool.addr.port)
      .then(() => null, (e) => e);
    ok(err instanceof RemoteError && err.code === "BUSY", String(err));
    ok(performance.now() - started < 1000, "BUSY comes at once");
    // The sessions already open go on, and a place freed is taken again.
    deepEqual(await clients[0]!.pwd(), "/");
    await clients.pop()!.quit();
    await waitFor(() => pool.connections === 2, "the freed place");
    const again = await connect(pool.addr.port);
    clients.push(again);
    deepEqual(await again.pwd(), "/");
  } finally {
    for (const c of clients) c.close();
    await pool.close();
  }
});

Deno.test("server: a pool drops a client that stays silent past the idle timeout", async () => {
  await using tmp = await tempDir();
  const pool = await startServerPool({ rootPath: tmp.path, workers: 2, port: 0, idleTimeout: 0.5 });
  try {
    using silent = await Deno.connect({ hostname: "127.0.0.1", port: pool.addr.port });
    const started = performance.now();
    const n = await silent.read(new Uint8Array(16));
    equal(n, null);
    const waited = performance.now() - started;
    ok(waited >= 400 && waited < 5000, `dropped after ${waited.toFixed(0)} ms`);
    await waitFor(() => pool.connections === 0, "the released place");
  } finally {
    await pool.close();
  }
});
