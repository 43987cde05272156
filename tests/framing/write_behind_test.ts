import { deepEqual, equal, rejects } from "node:assert/strict";
import { WriteBehind } from "../../lib/framing/write_behind.ts";
import type { ByteWriter } from "../../lib/framing/types.ts";

/** A writer that records each write it gets, as one system call each. */
function recorder(fail?: Error): ByteWriter & { writes: number[][] } {
  const writes: number[][] = [];
  return {
    writes,
    write(p: Uint8Array) {
      if (fail) return Promise.reject(fail);
      writes.push([...p]);
      return Promise.resolve(p.byteLength);
    },
  };
}

Deno.test("framing/write_behind: writes made in one turn of the event loop go out in one write, in order", async () => {
  const out = recorder();
  const behind = new WriteBehind(out);
  // As a pipelined client does: replies finish requests through chains of awaits, and each
  // starts the next; all of that in one turn joins one write.
  const sender = async (first: number) => {
    for (let i = 0; i < 3; i++) {
      // Taking a reply is a long chain of awaits (hundreds of microtasks): all in one turn.
      for (let hop = 0; hop < 200; hop++) await Promise.resolve();
      await behind.write(new Uint8Array([first + i]));
    }
  };
  await Promise.all([sender(10), sender(20), sender(30)]);
  await behind.flush();
  equal(out.writes.length, 1, JSON.stringify(out.writes));
  deepEqual(out.writes[0]!.sort((a, b) => a - b), [10, 11, 12, 20, 21, 22, 30, 31, 32]);
  // A later turn is a later write; a caller may reuse its buffer at once.
  const reused = new Uint8Array([1, 2]);
  await behind.write(reused);
  reused.fill(0);
  await behind.flush();
  deepEqual(out.writes.slice(1), [[1, 2]]);
});

Deno.test("framing/write_behind: a large piece goes out after what is held, and a failed write fails the next", async () => {
  const out = recorder();
  const behind = new WriteBehind(out);
  await behind.write(new Uint8Array([7]));
  const big = new Uint8Array(64 * 1024).fill(9);
  await behind.write(big);
  deepEqual(out.writes.map((w) => w.length), [1, 64 * 1024]);
  const broken = new WriteBehind(recorder(new Error("reset")));
  await broken.write(new Uint8Array([1]));
  await rejects(broken.flush(), /reset/);
  await rejects(broken.write(new Uint8Array([2])), /reset/);
});

Deno.test("framing/write_behind: past the high-water mark a write waits for the bytes held to go out", async () => {
  let release: () => void = () => {};
  const written: number[] = [];
  const slow: ByteWriter = {
    write: (p) =>
      new Promise((resolve) => {
        release = () => {
          written.push(p.byteLength);
          resolve(p.byteLength);
        };
      }),
  };
  const behind = new WriteBehind(slow, { highWater: 10 });
  await behind.write(new Uint8Array(8));
  let done = false;
  const blocked = behind.write(new Uint8Array(8)).then(() => done = true);
  for (let i = 0; i < 50 && written.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    equal(done, false, "the write over the mark waits");
    release();
  }
  await blocked;
  equal(done, true);
  deepEqual(written, [16]);
});
