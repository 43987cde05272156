import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { encodeFixed, readFixed } from "../../lib/framing/fixed.ts";
import { UnexpectedEofError } from "../../lib/errors.ts";
import type { ByteReader } from "../../lib/framing/types.ts";
import {
  CHUNKINGS,
  chunkSizes,
  concat,
  MemoryReader,
  overSocket,
  randomBytes,
  randomInt,
  seededRandom,
} from "./helpers.ts";

const LENGTH = 40;

async function readN(reader: ByteReader, count: number): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  for (let i = 0; i < count; i++) got.push((await readFixed(reader, LENGTH)).slice());
  // Nothing is left over after the last message.
  equal(await reader.read(new Uint8Array(1)), null);
  return got;
}

for (const transport of ["memory", "a socket"] as const) {
  Deno.test(`framing: readFixed() round-trips 40-byte messages under every chunking over ${transport}`, async () => {
    for (const [i, chunking] of CHUNKINGS.entries()) {
      const seed = 0xf1ed + i;
      const rng = seededRandom(seed);
      const messages = Array.from({ length: 50 }, () => {
        const m = randomBytes(rng, randomInt(rng, 0, LENGTH));
        // The padding is stripped from the end, so a message cannot end in the pad byte.
        if (m.byteLength > 0 && m[m.byteLength - 1] === 0x20) m[m.byteLength - 1] = 0x21;
        return m;
      });
      const wire = concat(...messages.map((m) => encodeFixed(m, LENGTH)));
      equal(wire.byteLength, 50 * LENGTH);
      const sizes = chunkSizes(wire.byteLength, chunking, rng, 90);
      const got = transport === "memory"
        ? await readN(new MemoryReader(wire, sizes), messages.length)
        : await overSocket(wire, sizes, (conn) => readN(new BufferedReader(conn), messages.length));
      deepEqual(got, messages, `${chunking}, seed ${seed}`);
    }
  });
}

Deno.test("framing: readFixed() reports a short message as UnexpectedEofError", async () => {
  const wire = encodeFixed("hello", LENGTH).subarray(0, 39);
  for (const chunking of CHUNKINGS) {
    const sizes = chunkSizes(wire.byteLength, chunking, seededRandom(5));
    await rejects(readFixed(new MemoryReader(wire, sizes), LENGTH), UnexpectedEofError);
    await rejects(overSocket(wire, sizes, (conn) => readFixed(conn, LENGTH)), UnexpectedEofError);
  }
});

Deno.test("framing: encodeFixed() pads with the pad byte and refuses a message too long", () => {
  deepEqual(new TextDecoder().decode(encodeFixed("Dan", 6)), "Dan   ");
  deepEqual(encodeFixed(new Uint8Array([1]), 3, { padByte: 0 }), new Uint8Array([1, 0, 0]));
  throws(() => encodeFixed("x".repeat(41), LENGTH), RangeError);
  deepEqual(encodeFixed("x".repeat(40), LENGTH).byteLength, 40);
});

Deno.test("framing: readFixed() strips only the trailing pad bytes", async () => {
  const got = await readFixed(new MemoryReader(encodeFixed(" a b", 8)), 8);
  deepEqual(new TextDecoder().decode(got), " a b");
  const zeros = await readFixed(new MemoryReader(new Uint8Array([0, 5, 0, 0])), 4, { padByte: 0 });
  deepEqual(zeros, new Uint8Array([0, 5]));
});
