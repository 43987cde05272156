import { deepEqual, equal, rejects } from "node:assert/strict";
import {
  type PoolWorker,
  WorkerPool,
  type WorkerPoolOptions,
} from "../../lib/transport/worker_pool.ts";

// Answers "ready" to a start message (or "fail" when it says so), "stopped" to stop.
const SCRIPT = `data:text/javascript,self.onmessage = (e) => {
  const m = e.data;
  if (m.type === "start") { if (!m.silent) postMessage(m.fail ? "fail" : "ready"); }
  else if (m.type === "stop") postMessage("stopped");
};`;

function options(
  start: (slot: PoolWorker) => Record<string, unknown>,
  more: Partial<WorkerPoolOptions<string>> = {},
): WorkerPoolOptions<string> {
  return {
    url: SCRIPT,
    size: 2,
    startTimeout: 0,
    startMessage: (slot) => ({ type: "start", ...start(slot) }),
    signal: (m) =>
      m === "ready" || m === "stopped"
        ? { type: m }
        : m === "fail"
        ? { type: "failed", message: "cannot start" }
        : undefined,
    ...more,
  };
}

Deno.test("transport: WorkerPool replaces a dead worker in its place, with the next number", async () => {
  const events: string[] = [];
  const pool = await WorkerPool.start(options(() => ({}), {
    onDied: (s, m) => events.push(`died ${s.id}@${s.index}: ${m}`),
    onReplaced: (d, by) => events.push(`replaced ${d.id} by ${by.id}@${by.index}`),
  }));
  try {
    deepEqual(pool.workers.map((w) => [w.id, w.index, w.state]), [[1, 0, "running"], [
      2,
      1,
      "running",
    ]]);
    await pool.kill(pool.workers[1]!, "on purpose");
    await pool.settled();
    deepEqual(events, ["died 2@1: on purpose", "replaced 2 by 3@1"]);
    deepEqual(pool.workers.map((w) => [w.id, w.state]), [[1, "running"], [2, "dead"], [
      3,
      "running",
    ]]);
  } finally {
    await pool.close();
  }
  deepEqual(pool.workers.map((w) => w.state), ["stopped", "dead", "stopped"]);
});

Deno.test("transport: WorkerPool gives up a replacement after one try unless restartDelay is set", async () => {
  for (const restartDelay of [undefined, 10]) {
    let failures = 0;
    const pool = await WorkerPool.start(options((s) => ({ fail: s.id > 1 }), {
      size: 1,
      restartDelay,
      onRestartFailed: () => failures++,
    }));
    await pool.kill(pool.workers[0]!, "on purpose");
    if (restartDelay === undefined) {
      await pool.settled();
      equal(failures, 1);
    } else {
      const deadline = Date.now() + 5000;
      while (failures < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      equal(failures >= 3, true);
    }
    await pool.close();
    // A replacement that never started leaves no trace.
    deepEqual(pool.workers.map((w) => w.id), [1]);
  }
});

Deno.test("transport: WorkerPool.start() fails when a worker fails or is silent too long", async () => {
  await rejects(WorkerPool.start(options((s) => ({ fail: s.index === 1 }))), /cannot start/);
  await rejects(
    WorkerPool.start(options(() => ({ silent: true }), { startTimeout: 100 })),
    /did not start in time/,
  );
});
