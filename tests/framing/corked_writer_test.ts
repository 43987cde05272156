import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { CorkedWriter } from "../../lib/framing/corked_writer.ts";

function recorder() {
  const writes: number[][] = [];
  return {
    writes,
    out: { write: (p: Uint8Array) => (writes.push([...p]), Promise.resolve(p.byteLength)) },
  };
}

Deno.test("framing: CorkedWriter sends small pieces as one write on flush, in order", async () => {
  const { writes, out } = recorder();
  const corked = new CorkedWriter(out, { capacity: 8 });
  for (const piece of [[1], [2, 3], [4, 5, 6]]) await corked.write(new Uint8Array(piece));
  equal(corked.buffered, 6);
  deepEqual(writes, []);
  await corked.flush();
  await corked.flush(); // nothing left: no empty write
  deepEqual(writes, [[1, 2, 3, 4, 5, 6]]);
});

Deno.test("framing: CorkedWriter flushes what it holds before a piece that does not fit", async () => {
  const { writes, out } = recorder();
  const corked = new CorkedWriter(out, { capacity: 4 });
  await corked.write(new Uint8Array([1, 2, 3]));
  await corked.write(new Uint8Array([4, 5])); // fits an emptied buffer: held
  await corked.write(new Uint8Array([6, 7, 8, 9, 10])); // larger than the buffer: straight through
  await corked.flush();
  deepEqual(writes, [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]]);
});

Deno.test("framing: CorkedWriter does not lose bytes to partial writes, and drops what a failed flush held", async () => {
  const got: number[] = [];
  let fail = false;
  const out = {
    write: (p: Uint8Array) => {
      if (fail) return Promise.reject(new Deno.errors.BrokenPipe("gone"));
      got.push(p[0]!); // one byte per call
      return Promise.resolve(1);
    },
  };
  const corked = new CorkedWriter(out, { capacity: 16 });
  await corked.write(new Uint8Array([1, 2, 3]));
  await corked.flush();
  deepEqual(got, [1, 2, 3]);
  await corked.write(new Uint8Array([4]));
  fail = true;
  await rejects(corked.flush(), Deno.errors.BrokenPipe);
  equal(corked.buffered, 0);
});

Deno.test("framing: CorkedWriter holds no more memory than its writes needed", async () => {
  const sizes: number[] = [];
  const out = {
    write: (p: Uint8Array) => (sizes.push(p.buffer.byteLength), Promise.resolve(p.byteLength)),
  };
  const corked = new CorkedWriter(out);
  await corked.write(new Uint8Array(100));
  await corked.flush();
  // A small reply goes out of a 4 KiB buffer, not of the full 64 KiB.
  deepEqual(sizes, [4096]);
  await corked.write(new Uint8Array(20_000));
  await corked.write(new Uint8Array(20_000));
  await corked.flush();
  equal(sizes.length, 2);
  ok(sizes[1]! >= 40_000 && sizes[1]! <= 65536, String(sizes[1]));
});

Deno.test("framing: CorkedWriter gathers in a lent buffer, whose length is its capacity", async () => {
  const buffers: ArrayBufferLike[] = [];
  const { writes, out } = recorder();
  const lent = new Uint8Array(8);
  const corked = new CorkedWriter({
    write: (p: Uint8Array) => (buffers.push(p.buffer), out.write(p)),
  }, { buffer: lent, capacity: 1024 });
  ok(corked.take(new Uint8Array([1, 2, 3, 4, 5])));
  // Past the lent buffer's 8 bytes (not the capacity asked for): not taken.
  equal(corked.take(new Uint8Array(4)), false);
  await corked.write(new Uint8Array([6, 7, 8]));
  await corked.flush();
  deepEqual(writes, [[1, 2, 3, 4, 5, 6, 7, 8]]);
  // Gathered in the lent buffer itself: nothing was allocated for them.
  deepEqual(buffers, [lent.buffer]);
  await corked.write(new Uint8Array([9]));
  await corked.flush();
  deepEqual(writes[1], [9]);
  equal(lent[0], 9);
});
