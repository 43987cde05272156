import { deepEqual, equal, rejects } from "node:assert/strict";
import { fillNow, readExact, readFull } from "../../lib/framing/read_exact.ts";
import { UnexpectedEofError } from "../../lib/errors.ts";
import {
  CHUNKINGS,
  chunkSizes,
  MemoryReader,
  overSocket,
  randomBytes,
  seededRandom,
} from "./helpers.ts";

Deno.test("framing: readExact() gathers a message split across many reads", async () => {
  for (const chunking of CHUNKINGS) {
    const rng = seededRandom(7);
    const data = randomBytes(rng, 1500);
    const sizes = chunkSizes(data.byteLength, chunking, rng, 100);
    const reader = new MemoryReader(data, sizes);
    deepEqual(await readExact(reader, 1000), data.subarray(0, 1000), chunking);
    deepEqual(await readExact(reader, 500), data.subarray(1000), chunking);
    deepEqual(
      await overSocket(data, sizes, (conn) => readExact(conn, 1500)),
      data,
      chunking,
    );
  }
});

Deno.test("framing: readFull() reports how far it got when the stream ends early", async () => {
  await rejects(
    readFull(new MemoryReader(new Uint8Array(5), [2, 3]), new Uint8Array(8), "greeting"),
    (e) =>
      e instanceof UnexpectedEofError &&
      e.message === "Connection closed after 5 of 8 bytes of the greeting",
  );
  await rejects(
    overSocket(new Uint8Array(3), [1, 1, 1], (conn) => readExact(conn, 4)),
    UnexpectedEofError,
  );
});

Deno.test("framing: readExact() of zero bytes reads nothing", async () => {
  const reader = new MemoryReader(new Uint8Array([1]));
  equal((await readExact(reader, 0)).byteLength, 0);
  equal(reader.delivered, 0);
});

Deno.test("framing: fillNow() gathers short synchronous reads, and stops where the file ends", () => {
  const bytes = new TextEncoder().encode("abcdefg");
  let at = 0;
  // Two bytes a read at most, then the end.
  const file = {
    readSync: (p: Uint8Array) => {
      const n = Math.min(2, p.byteLength, bytes.byteLength - at);
      if (n === 0) return null;
      p.set(bytes.subarray(at, at + n));
      at += n;
      return n;
    },
  };
  const first = new Uint8Array(5);
  equal(fillNow(file, first), 5);
  equal(new TextDecoder().decode(first), "abcde");
  const rest = new Uint8Array(5);
  equal(fillNow(file, rest), 2);
  equal(new TextDecoder().decode(rest.subarray(0, 2)), "fg");
});
