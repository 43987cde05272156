import { deepEqual, rejects } from "node:assert/strict";
import { createStreamHash } from "../../lib/transfer/stream_hash.ts";
import { sha256 } from "../helpers.ts";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, o + 65536));
  return out;
}

Deno.test("transfer: createStreamHash() on a thread gives the same digest as in line, any chunking", async () => {
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const expected = sha256(data);
  // Chunks of odd sizes, some larger than the thread's 1 MiB slices; the buffer is
  // overwritten after each update settles, as the transfer loops do.
  const sizes = [1, 4095, 65536, 3 << 20, 777, 1 << 20];
  for (const threadFrom of [0, Number.MAX_SAFE_INTEGER]) {
    const hash = await createStreamHash({ size: data.byteLength, threadFrom });
    try {
      const scratch = new Uint8Array(3 << 20);
      let offset = 0;
      for (let i = 0; offset < data.byteLength; i++) {
        const n = Math.min(sizes[i % sizes.length]!, data.byteLength - offset);
        scratch.set(data.subarray(offset, offset + n));
        const pending = hash.update(scratch.subarray(0, n));
        if (pending) await pending;
        scratch.fill(0xee, 0, n);
        offset += n;
      }
      deepEqual(await hash.digest(), expected, `threadFrom ${threadFrom}`);
    } finally {
      hash.close();
    }
  }
});

Deno.test("transfer: a threaded hash closed before its digest releases its thread", async () => {
  const hash = await createStreamHash({ size: 1 << 30, threadFrom: 0 });
  const pending = hash.update(new Uint8Array(3 << 20));
  if (pending) await pending;
  hash.close();
  hash.close();
  await rejects(hash.digest());
});

Deno.test("transfer: an empty body hashes to the SHA-256 of nothing on a thread too", async () => {
  const hash = await createStreamHash({ size: 0, threadFrom: 0 });
  try {
    deepEqual(
      await hash.digest(),
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  } finally {
    hash.close();
  }
});
