// XXH3-128 through libxxhash (lib/libc/xxhash.ts) against hash-wasm's, the
// implementation it stands in for: every length across xxHash's internal
// boundaries, bodies cut anywhere, states reused after a digest or dropped.

import { equal, notEqual } from "node:assert/strict";
import { createXXHash128 } from "hash-wasm";
import { NativeXxh3 } from "../../lib/libc/xxhash.ts";

const native = NativeXxh3.create() !== null;

async function wasmHex(data: Uint8Array): Promise<string> {
  return (await createXXHash128()).init().update(data).digest("hex");
}

function nativeHex(chunks: Uint8Array[]): string {
  const hash = NativeXxh3.create()!;
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest();
}

/** Bytes that differ from place to place, the same each run. */
function bytes(length: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 2654435761) >>> 24;
  return data;
}

Deno.test({
  name: "xxhash: libxxhash and hash-wasm agree on every length from 0 to 1,100 bytes",
  ignore: !native,
  fn: async () => {
    const data = bytes(1100);
    for (let n = 0; n <= 1100; n++) {
      equal(nativeHex([data.subarray(0, n)]), await wasmHex(data.subarray(0, n)), `${n} bytes`);
    }
  },
});

Deno.test({
  name: "xxhash: a body hashed whole in one call agrees with hash-wasm, 0 to 1,100 bytes and 3 MiB",
  ignore: !native,
  fn: async () => {
    const data = bytes(3 * 1024 * 1024 + 17);
    for (let n = 0; n <= 1100; n++) {
      equal(
        NativeXxh3.digestWhole(data.subarray(0, n)),
        await wasmHex(data.subarray(0, n)),
        `${n}`,
      );
    }
    equal(NativeXxh3.digestWhole(data), await wasmHex(data));
    // A piece of a larger buffer is hashed as itself, not from its buffer's start.
    equal(NativeXxh3.digestWhole(data.subarray(5, 4101)), await wasmHex(data.slice(5, 4101)));
  },
});

Deno.test({
  name: "xxhash: a body fed in pieces cut anywhere hashes as it does whole (3 MiB)",
  ignore: !native,
  fn: async () => {
    const data = bytes(3 * 1024 * 1024 + 17);
    const whole = await wasmHex(data);
    equal(nativeHex([data]), whole);
    for (const cut of [7, 63, 64, 1000, 65536, 1 << 20]) {
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < data.length; at += cut) pieces.push(data.subarray(at, at + cut));
      equal(nativeHex(pieces), whole, `pieces of ${cut}`);
    }
  },
});

Deno.test({
  name: "xxhash: a state reused after a digest, or beside one dropped undigested, starts empty",
  ignore: !native,
  fn: async () => {
    const empty = await wasmHex(new Uint8Array(0));
    const dropped = NativeXxh3.create()!;
    dropped.update(bytes(5000));
    for (let i = 0; i < 40; i++) {
      const hash = NativeXxh3.create()!;
      if (i % 2 === 0) hash.update(bytes(i * 100));
      equal(hash.digest(), i % 2 === 0 ? await wasmHex(bytes(i * 100)) : empty);
    }
    notEqual(dropped.digest(), empty);
  },
});
