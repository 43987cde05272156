import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { encodeDelimited, readDelimited } from "../../lib/framing/delimited.ts";
import { ProtocolError, UnexpectedEofError } from "../../lib/errors.ts";
import {
  CHUNKINGS,
  chunkSizes,
  concat,
  MemoryReader,
  overSocket,
  randomBytes,
  randomInt,
  type Rng,
  seededRandom,
} from "./helpers.ts";

const encoder = new TextEncoder();

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.byteLength <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * Random messages that frame unambiguously with `delimiter`: the first
 * delimiter in message + delimiter is the appended one (a message ending in
 * "\r\n" before "\r\n\r\n" could not be told apart by any reader).
 */
function randomMessages(rng: Rng, delimiter: Uint8Array, count: number): Uint8Array[] {
  // Mostly the delimiter's own bytes, so near-misses and split delimiters are common.
  const alphabet = concat(delimiter, encoder.encode("ab\r\n\0"));
  const out: Uint8Array[] = [];
  while (out.length < count) {
    const msg = randomBytes(rng, randomInt(rng, 0, 120), alphabet);
    if (indexOf(concat(msg, delimiter), delimiter) === msg.byteLength) out.push(msg);
  }
  return out;
}

async function readAll(
  reader: BufferedReader,
  delimiter: Uint8Array,
  maxBytes: number,
): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  while (true) {
    const msg = await readDelimited(reader, { delimiter, maxBytes });
    if (msg === null) return got;
    got.push(msg);
    if (got.length > 10_000) throw new Error("Runaway reader");
  }
}

for (const delimiterText of ["\n", "\r\n\r\n", "<<END>>"]) {
  const delimiter = encoder.encode(delimiterText);
  const shown = JSON.stringify(delimiterText);
  for (const transport of ["memory", "a socket"] as const) {
    Deno.test(`framing: readDelimited() round-trips ${shown} messages under every chunking over ${transport}`, async () => {
      for (const [i, chunking] of CHUNKINGS.entries()) {
        const seed = 0xde11 + i * 7 + delimiter.byteLength;
        const rng = seededRandom(seed);
        const messages = randomMessages(rng, delimiter, 40);
        const wire = concat(...messages.map((m) => encodeDelimited(m, { delimiter })));
        const sizes = chunkSizes(wire.byteLength, chunking, rng);
        // A small read buffer too, so that it has to grow and compact.
        const bufferSize = i === 2 ? 8 : 65536;
        const got = transport === "memory"
          ? await readAll(
            new BufferedReader(new MemoryReader(wire, sizes), { bufferSize }),
            delimiter,
            200,
          )
          : await overSocket(
            wire,
            sizes,
            (conn) => readAll(new BufferedReader(conn, { bufferSize }), delimiter, 200),
          );
        deepEqual(got, messages, `${chunking}, seed ${seed}`);
      }
    });
  }
}

Deno.test("framing: readDelimited() finds a multi-byte delimiter split at every point across reads", async () => {
  const delimiter = encoder.encode("\r\n\r\n");
  const wire = encoder.encode("first\r\n\r\nsecond\r\n\r\n");
  // Split the stream in two at every position, then in three at every pair of positions.
  let cases = 0;
  for (let a = 1; a < wire.byteLength; a++) {
    for (let b = a; b < wire.byteLength; b++) {
      const sizes = b === a ? [a, wire.byteLength - a] : [a, b - a, wire.byteLength - b];
      const reader = new BufferedReader(new MemoryReader(wire, sizes), { bufferSize: 16 });
      const got = await readAll(reader, delimiter, 64);
      deepEqual(got.map((m) => new TextDecoder().decode(m)), ["first", "second"], `${sizes}`);
      cases++;
    }
  }
  ok(cases > 100);
});

Deno.test("framing: readDelimited() does not match stale buffer bytes after a compaction", async () => {
  // Regression: with a 4-byte delimiter and one byte buffered, the search ran into bytes
  // left from the previous message and returned a message that was never sent.
  const delimiter = encoder.encode("\r\n\r\n");
  const wire = encoder.encode("x\r\n\r\nyz\r\n\r\nw\r\n\r\n");
  const reader = new BufferedReader(
    new MemoryReader(wire, chunkSizes(wire.byteLength, "one byte at a time", seededRandom(1))),
    { bufferSize: 64 },
  );
  const got = await readAll(reader, delimiter, 100);
  deepEqual(got.map((m) => new TextDecoder().decode(m)), ["x", "yz", "w"]);
});

Deno.test("framing: readDelimited() rejects a line over the limit", async () => {
  const line = (n: number) => encoder.encode("a".repeat(n) + "\n");
  // Exactly the limit is fine; one more byte is not, whether it arrives whole or byte by byte.
  const atLimit = await readDelimited(new BufferedReader(new MemoryReader(line(100))), {
    maxBytes: 100,
  });
  equal(atLimit?.byteLength, 100);
  for (const chunking of CHUNKINGS) {
    const wire = line(101);
    const sizes = chunkSizes(wire.byteLength, chunking, seededRandom(2));
    await rejects(
      readDelimited(new BufferedReader(new MemoryReader(wire, sizes)), { maxBytes: 100 }),
      (e) => e instanceof ProtocolError && /limit of 100 bytes/.test(e.message),
      chunking,
    );
    await rejects(
      overSocket(wire, sizes, (conn) => readDelimited(new BufferedReader(conn), { maxBytes: 100 })),
      ProtocolError,
      chunking,
    );
  }
});

Deno.test("framing: readDelimited() stops an endless line after buffering at most the limit", async () => {
  let supplied = 0;
  const endless = {
    read(p: Uint8Array) {
      p.fill(0x61);
      supplied += p.byteLength;
      return Promise.resolve(p.byteLength);
    },
  };
  const reader = new BufferedReader(endless, { bufferSize: 16 });
  await rejects(readDelimited(reader, { maxBytes: 1000 }), ProtocolError);
  ok(supplied <= 1000 + 1 + 16, `read ${supplied} bytes`);
  ok(supplied >= 1000, `read ${supplied} bytes`);
});

Deno.test("framing: readDelimited() reports a message cut by the end of stream", async () => {
  await rejects(
    readDelimited(new BufferedReader(new MemoryReader(encoder.encode("no newline")))),
    UnexpectedEofError,
  );
  await rejects(
    overSocket(
      encoder.encode("half\r\n\r"),
      [3, 4],
      (conn) => readDelimited(new BufferedReader(conn), { delimiter: "\r\n\r\n" }),
    ),
    UnexpectedEofError,
  );
  // A clean end between messages is not an error.
  equal(await readDelimited(new BufferedReader(new MemoryReader(new Uint8Array()))), null);
});

Deno.test("framing: encodeDelimited() refuses a message that contains its delimiter", () => {
  throws(() => encodeDelimited("a\nb"), RangeError);
  throws(() => encodeDelimited("x--y", { delimiter: "--" }), RangeError);
  deepEqual(encodeDelimited("x-y", { delimiter: "--" }), encoder.encode("x-y--"));
  // Found by the property tests: a message that ends with the start of a self-overlapping
  // delimiter would be read back cut short ("x-" + "--" reads as "x", then "-").
  throws(() => encodeDelimited("x-", { delimiter: "--" }), RangeError);
  throws(() => encodeDelimited("ab", { delimiter: "aba" }), RangeError);
  deepEqual(encodeDelimited("ba", { delimiter: "aba" }), encoder.encode("baaba"));
  deepEqual(encodeDelimited(new Uint8Array([1, 2])), new Uint8Array([1, 2, 10]));
});
