import { deepEqual, equal } from "node:assert/strict";
import { EchoCounters } from "../../lib/echo/counters.ts";
import { EchoWorker } from "../../lib/echo/worker_loop.ts";
import type { StartCommand, WorkerReport } from "../../lib/echo/worker_messages.ts";
import { resetConnections } from "../peers.ts";

function startCommand(port: number, counters: EchoCounters): StartCommand {
  return {
    type: "start",
    id: 1,
    hostname: "127.0.0.1",
    port,
    maxConnections: 100,
    bufferSize: 4096,
    tcpBacklog: 16,
    counters: counters.buffer,
  };
}

Deno.test("echo: EchoWorker reports failed when a plain listener holds the port", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const reports: WorkerReport[] = [];
  const worker = new EchoWorker((r) => reports.push(r));
  worker.handle(startCommand(taken.addr.port, new EchoCounters()));
  equal(reports.length, 1);
  deepEqual(reports[0]!.type, "failed");
  deepEqual((reports[0] as { name: string }).name, "AddrInUse");
});

Deno.test("echo: EchoWorker.stop() closes its open connections and counts them closed", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const counters = new EchoCounters();
  const reports: WorkerReport[] = [];
  const worker = new EchoWorker((r) => reports.push(r));
  worker.handle(startCommand(port, counters));
  const conns = await Promise.all(
    [1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  try {
    for (const conn of conns) {
      await conn.write(new Uint8Array([42]));
      equal(await conn.read(new Uint8Array(1)), 1);
    }
    deepEqual(counters.read(), { accepted: 3, open: 3, bytes: 3 });
    await worker.stop();
    deepEqual(reports.map((r) => r.type), ["listening", "stopped"]);
    deepEqual(counters.read(), { accepted: 3, open: 0, bytes: 3 });
    for (const conn of conns) equal(await conn.read(new Uint8Array(1)), null);
  } finally {
    for (const conn of conns) conn.close();
  }
});

Deno.test("echo: EchoWorker passes over connections reset before it accepts them, and goes on echoing", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const reports: WorkerReport[] = [];
  const worker = new EchoWorker((r) => reports.push(r));
  worker.handle(startCommand(port, new EchoCounters()));
  resetConnections(port, 5);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new Uint8Array([42]));
    const byte = new Uint8Array(1);
    equal(await conn.read(byte), 1);
    equal(byte[0], 42);
  } finally {
    conn.close();
    await worker.stop();
  }
  deepEqual(reports.map((r) => r.type), ["listening", "stopped"]);
});
