import { deepEqual, equal, rejects } from "node:assert/strict";
import { TaskWindow } from "../../lib/client/window.ts";

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("client/window: at most the limit in flight, every task run once, in the order added", async () => {
  const window = new TaskWindow({ limit: 4 });
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  for (let i = 0; i < 200; i++) {
    await window.add(async () => {
      started.push(i);
      most = Math.max(most, ++inFlight);
      // Uneven lengths: tasks end out of order.
      for (let t = 0; t < i % 3; t++) await tick();
      inFlight--;
    });
  }
  await window.drain();
  equal(most, 4);
  equal(inFlight, 0);
  deepEqual(started, Array.from({ length: 200 }, (_, i) => i));
});

Deno.test("client/window: after a failure no task starts, drain throws it, and the ones in flight end first", async () => {
  const window = new TaskWindow({ limit: 2 });
  let ended = 0;
  await window.add(async () => {
    await tick();
    await tick();
    ended++;
  });
  await window.add(() => Promise.reject(new Error("first")));
  let late = false;
  await rejects(window.add(() => (late = true, Promise.resolve())), /first/);
  equal(late, false, "no task starts after a failure");
  await rejects(window.drain(), /first/);
  equal(ended, 1);
  // settle() waits without throwing.
  await window.settle();
});
