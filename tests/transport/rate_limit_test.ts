import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { connectTcp } from "../../lib/transport/tcp.ts";
import { limitRate, RatePacer } from "../../lib/transport/rate_limit.ts";

/** A clock that moves only when slept on, and the waits asked of it. */
function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; waits: number[] } {
  let now = 1_000;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: (ms) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
    waits,
  };
}

Deno.test("transport: a rate pacer holds many small passes to the rate on average", async () => {
  const clock = fakeClock();
  const pacer = new RatePacer(100_000, clock);
  const start = clock.now();
  for (let i = 0; i < 1_000; i++) await pacer.pass(1_000);
  // 1,000,000 bytes at 100,000 a second: 10 s, less the tenth of a second allowed at once.
  equal(clock.now() - start, 9_900);
  equal(pacer.piece, 12_500);
});

Deno.test("transport: after a pause a rate pacer lets a tenth of a second's worth go, no more", async () => {
  const clock = fakeClock();
  const pacer = new RatePacer(10_000, clock);
  await pacer.pass(1_000); // a tenth of a second's worth: at once
  deepEqual(clock.waits, []);
  await pacer.pass(1_000); // the next tenth waits its turn
  deepEqual(clock.waits, [100]);
  // A long pause saves nothing up beyond the tenth: 5,000 bytes wait 0.4 s.
  await clock.sleep(60_000);
  clock.waits.length = 0;
  await pacer.pass(5_000);
  deepEqual(clock.waits, [400]);
  throws(() => new RatePacer(0), RangeError);
  // However low the rate, a read or write may move 1 KiB.
  equal(new RatePacer(100).piece, 1024);
});

Deno.test("transport: a limited connection moves each way at its rate, in pieces of an eighth of a second", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const rate = 1 << 20;
  const data = new Uint8Array(512 << 10).map((_, i) => i * 31);
  const echo = (async () => {
    using peer = await listener.accept();
    const got = new Uint8Array(data.byteLength);
    for (let at = 0; at < got.byteLength;) at += (await peer.read(got.subarray(at)))!;
    for (let at = 0; at < got.byteLength;) at += await peer.write(got.subarray(at));
  })();
  const conn = limitRate(
    await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port }),
    rate,
  );
  try {
    const started = performance.now();
    let largest = 0;
    for (let at = 0; at < data.byteLength;) {
      const n = await conn.write(data.subarray(at));
      largest = Math.max(largest, n);
      at += n;
    }
    const back = new Uint8Array(data.byteLength);
    for (let at = 0; at < back.byteLength;) {
      const n = (await conn.read(back.subarray(at)))!;
      largest = Math.max(largest, n);
      at += n;
    }
    const seconds = (performance.now() - started) / 1000;
    deepEqual(back, data);
    equal(largest, rate / 8);
    // Half a MiB each way at 1 MiB/s, less the tenth of a second each way may take at once: a
    // floor no machine can beat, however fast (slower is the machine's, not the limit's).
    ok(seconds >= 2 * (0.5 - 0.1) - 0.01, `${seconds} s`);
  } finally {
    conn.close();
    await echo;
  }
});

Deno.test("transport: closing a limited connection cuts short the wait of a slow rate at once", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept();
  // 10 bytes a second: the least piece, 1 KiB, is paid for by a wait of about 100 s.
  const conn = limitRate(await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port }), 10);
  using peer = await accepting;
  const started = performance.now();
  const writing = conn.write(new Uint8Array(4096));
  await new Promise((resolve) => setTimeout(resolve, 100));
  conn.close();
  equal(await writing, 1024);
  ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  // What the write moved arrived; then the end.
  const got = new Uint8Array(4096);
  let total = 0;
  for (let n; (n = await peer.read(got)) !== null;) total += n;
  equal(total, 1024);
});
