import { deepEqual, equal, notEqual } from "node:assert/strict";
import { BodySlab } from "../../lib/transfer/body_buffer.ts";

Deno.test("transfer: a BodySlab uses a slab again only once every piece of it is back", () => {
  const slab = new BodySlab(16);
  const a = slab.take(8);
  const b = slab.take(8);
  // The first slab is full: the next piece starts a second.
  const c = slab.take(8);
  notEqual(c.buffer, a.buffer);
  slab.give(a);
  // One piece of the first slab still out: a third slab, not the first again.
  const d = slab.take(8);
  const e = slab.take(8);
  equal(d.buffer, c.buffer);
  notEqual(e.buffer, a.buffer);
  slab.give(b);
  // Now the first is free: it comes back when the current one is full.
  const f = slab.take(16);
  equal(f.buffer, a.buffer);
  // A buffer that is no slab's changes nothing.
  slab.give(new Uint8Array(4));
  const g = slab.take(4);
  notEqual(g.buffer, f.buffer);
});

Deno.test("transfer: a BodySlab starts its current slab again when all its pieces are back", () => {
  const slab = new BodySlab(16);
  const a = slab.take(4);
  a.fill(1);
  slab.give(a);
  const b = slab.take(4);
  equal(b.buffer, a.buffer);
  equal(b.byteOffset, 0);
  // Used again as it was left, not zeroed: every taker fills its piece whole.
  deepEqual([...b], [1, 1, 1, 1]);
});

Deno.test("transfer: a BodySlab does not use again a slab moved to another thread", () => {
  const slab = new BodySlab(8);
  const whole = slab.take(8);
  // Transferred away (as a landing thread takes a body that fills its buffer): detached.
  structuredClone(whole.buffer, { transfer: [whole.buffer] });
  const next = slab.take(8);
  slab.give(whole);
  equal(next.byteLength, 8);
  const after = slab.take(8);
  equal(after.byteLength, 8);
  notEqual(after.buffer, whole.buffer);
});
