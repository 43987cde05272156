import { equal, ok } from "node:assert/strict";
import { Watchdog } from "../../lib/transport/watchdog.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("transport: the watchdog fires once after its limit without activity, and touches put it off", async () => {
  let fired = 0;
  const dog = new Watchdog(150, () => fired++);
  dog.start();
  for (let i = 0; i < 4; i++) {
    await sleep(60);
    dog.touch();
  }
  equal(fired, 0);
  await sleep(300);
  equal(fired, 1);
  ok(dog.expired);
  dog.touch();
  await sleep(200);
  equal(fired, 1);
  dog.stop();
});

Deno.test("transport: a watchdog counting only pending waits ignores the time between them", async () => {
  let fired = 0;
  const dog = new Watchdog(80, () => fired++, { whilePending: true });
  dog.start();
  await sleep(150);
  equal(fired, 0);
  dog.begin();
  await sleep(40);
  dog.end();
  await sleep(150);
  equal(fired, 0);
  dog.begin();
  await sleep(200);
  equal(fired, 1);
  dog.stop();
});

Deno.test("transport: a stopped or zero watchdog never fires, and leaves no timer", async () => {
  let fired = 0;
  const off = new Watchdog(0, () => fired++);
  off.start();
  const stopped = new Watchdog(30, () => fired++);
  stopped.start();
  stopped.stop();
  await sleep(80);
  equal(fired, 0);
});

Deno.test("transport: a watched connection's reads and writes are activity", async () => {
  let fired = 0;
  const dog = new Watchdog(100, () => fired++);
  const stream = dog.watch({
    read: async (p) => {
      await sleep(50);
      return p.byteLength;
    },
    write: async (p) => {
      await sleep(50);
      return p.byteLength;
    },
  });
  dog.start();
  for (let i = 0; i < 3; i++) {
    await stream.read(new Uint8Array(1));
    await stream.write(new Uint8Array(1));
  }
  equal(fired, 0);
  dog.stop();
});
