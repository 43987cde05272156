import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyUntilClose, readUntilClose } from "../../lib/framing/until_close.ts";
import { ProtocolError } from "../../lib/errors.ts";
import {
  CHUNKINGS,
  chunkSizes,
  MemoryReader,
  MemoryWriter,
  overSocket,
  randomBytes,
  seededRandom,
} from "./helpers.ts";

for (const transport of ["memory", "a socket"] as const) {
  Deno.test(`framing: readUntilClose() round-trips a message under every chunking over ${transport}`, async () => {
    for (const [i, chunking] of CHUNKINGS.entries()) {
      const seed = 0xc105e + i;
      const rng = seededRandom(seed);
      // Byte-at-a-time writes on a socket are slow: keep that message shorter.
      const message = randomBytes(rng, chunking === "one byte at a time" ? 3000 : 200_000);
      const sizes = chunkSizes(message.byteLength, chunking, rng, 70_000);
      const got = transport === "memory"
        ? await readUntilClose(new MemoryReader(message, sizes))
        : await overSocket(message, sizes, (conn) => readUntilClose(conn));
      deepEqual(got, message, `${chunking}, seed ${seed}`);
    }
  });
}

Deno.test("framing: readUntilClose() returns an empty message when the peer closes at once", async () => {
  equal((await overSocket(new Uint8Array(), [], (conn) => readUntilClose(conn))).byteLength, 0);
});

Deno.test("framing: readUntilClose() rejects more than the limit", async () => {
  const message = new Uint8Array(1001);
  await rejects(readUntilClose(new MemoryReader(message), { maxBytes: 1000 }), ProtocolError);
  await rejects(
    overSocket(message, [500, 501], (conn) => readUntilClose(conn, { maxBytes: 1000 })),
    ProtocolError,
  );
  equal((await readUntilClose(new MemoryReader(message), { maxBytes: 1001 })).byteLength, 1001);
});

Deno.test("framing: copyUntilClose() streams everything to a writer that takes partial writes", async () => {
  for (const [i, chunking] of CHUNKINGS.entries()) {
    const rng = seededRandom(0xc0 + i);
    const message = randomBytes(rng, chunking === "one byte at a time" ? 2000 : 300_000);
    const sizes = chunkSizes(message.byteLength, chunking, rng, 50_000);
    const writer = new MemoryWriter(1000, rng);
    const hash = createHash("sha256");
    let chunks = 0;
    const copied = await overSocket(message, sizes, (conn) =>
      copyUntilClose(conn, writer, {
        bufferSize: 4096,
        onChunk: (c) => {
          chunks++;
          hash.update(c);
        },
      }));
    equal(copied, message.byteLength, chunking);
    deepEqual(writer.bytes, message, chunking);
    deepEqual(hash.digest("hex"), createHash("sha256").update(message).digest("hex"));
    ok(chunks >= Math.ceil(message.byteLength / 4096), chunking);
  }
});
