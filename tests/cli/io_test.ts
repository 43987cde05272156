// The command's streams (lib/cli/io.ts): stdin guarded against an end that
// came with Ctrl-C, and a source that lends its buffers still lending them
// through the guard.

import { equal, rejects } from "node:assert/strict";
import { endUnlessInterrupted } from "../../lib/cli/io.ts";
import { isViewReader } from "../../lib/framing/types.ts";
import { BftpError } from "../../lib/errors.ts";

/** A source lending `views`, then its end. */
function lending(views: Uint8Array[]) {
  return {
    read: () => Promise.reject(new Error("not read")),
    readView: () => Promise.resolve(views.shift() ?? null),
  };
}

Deno.test("cli io: a source that lends its buffers lends them through the guard, and ends", async () => {
  const a = new TextEncoder().encode("lent");
  const guarded = endUnlessInterrupted(lending([a]), new AbortController().signal, 1);
  equal(isViewReader(guarded), true);
  if (!isViewReader(guarded)) return;
  // The very view, not a copy of it.
  equal(await guarded.readView(), a);
  equal(await guarded.readView(), null);
  // A plain source stays plain.
  const plain = endUnlessInterrupted(
    { read: () => Promise.resolve(null) },
    new AbortController().signal,
    1,
  );
  equal(isViewReader(plain), false);
});

Deno.test("cli io: an end that came with Ctrl-C is INTERRUPTED, read or lent", async () => {
  for (const viaView of [false, true]) {
    const controller = new AbortController();
    const source = {
      read: () => (controller.abort(), Promise.resolve(null)),
      readView: () => (controller.abort(), Promise.resolve(null)),
    };
    const guarded = endUnlessInterrupted(source, controller.signal, 1);
    const end = viaView && isViewReader(guarded)
      ? guarded.readView()
      : guarded.read(new Uint8Array(1));
    await rejects(end, (e) => e instanceof BftpError && e.code === "INTERRUPTED");
  }
});
