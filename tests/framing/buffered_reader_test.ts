import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { encodeDelimited, readDelimited } from "../../lib/framing/delimited.ts";
import { encodeSized, readSized } from "../../lib/framing/size_header.ts";
import { readExact } from "../../lib/framing/read_exact.ts";
import { readUntilClose } from "../../lib/framing/until_close.ts";
import { UnexpectedEofError } from "../../lib/errors.ts";
import {
  CHUNKINGS,
  chunkSizes,
  concat,
  MemoryReader,
  overSocket,
  randomBytes,
  seededRandom,
} from "./helpers.ts";

const encoder = new TextEncoder();

Deno.test("framing: a delimited read leaves the following bytes for the next reader", async () => {
  // The BFTP shape: a hello line, then size-header frames, then a raw body until close.
  const rng = seededRandom(0xb0f);
  const body = randomBytes(rng, 100_000);
  const wire = concat(
    encodeDelimited("BFTP/1"),
    encodeSized(encoder.encode('{"op":"PWD"}')),
    encodeSized(encoder.encode("second")),
    body,
  );
  for (const [i, chunking] of CHUNKINGS.entries()) {
    // One byte at a time is slow over a socket: use a prefix of the body then.
    const data = chunking === "one byte at a time" ? wire.subarray(0, 3000) : wire;
    const sizes = chunkSizes(data.byteLength, chunking, seededRandom(i), 5000);
    const check = async (reader: BufferedReader) => {
      deepEqual(await readDelimited(reader, { maxBytes: 64 }), encoder.encode("BFTP/1"));
      deepEqual(await readSized(reader, { maxBytes: 64 }), encoder.encode('{"op":"PWD"}'));
      deepEqual(await readSized(reader, { maxBytes: 64 }), encoder.encode("second"));
      return await readUntilClose(reader);
    };
    const expected = data.subarray(wire.byteLength - body.byteLength);
    deepEqual(await check(new BufferedReader(new MemoryReader(data, sizes))), expected, chunking);
    deepEqual(
      await overSocket(
        data,
        sizes,
        (conn) => check(new BufferedReader(conn, { bufferSize: 1024 })),
      ),
      expected,
      chunking,
    );
  }
});

Deno.test("framing: BufferedReader.read() serves buffered bytes first, then reads through", async () => {
  const data = concat(encoder.encode("line\n"), randomBytes(seededRandom(8), 10_000));
  const source = new MemoryReader(data);
  const reader = new BufferedReader(source, { bufferSize: 64 });
  deepEqual(await readDelimited(reader), encoder.encode("line"));
  // What the line read buffered past the newline comes out first.
  equal(reader.buffered, 64 - 5);
  const first = new Uint8Array(4096);
  equal(await reader.read(first), 59);
  deepEqual(first.subarray(0, 59), data.subarray(5, 64));
  equal(reader.buffered, 0);
  // With the buffer drained, a large read goes straight to the source.
  const readsBefore = source.reads;
  const rest = await readExact(reader, data.byteLength - 64);
  deepEqual(rest, data.subarray(64));
  equal(source.reads, readsBefore + 1);
  equal(await reader.read(new Uint8Array(10)), null);
  equal(await reader.read(new Uint8Array(0)), 0);
});

Deno.test("framing: BufferedReader.readUntil() grows a small buffer up to the limit", async () => {
  const line = "x".repeat(5000);
  const reader = new BufferedReader(new MemoryReader(encodeDelimited(line)), { bufferSize: 4 });
  deepEqual(new TextDecoder().decode((await readDelimited(reader, { maxBytes: 5000 }))!), line);
  equal(await readDelimited(reader), null);
});

Deno.test("framing: BufferedReader.readUntil() refuses an empty delimiter", async () => {
  const reader = new BufferedReader(new MemoryReader(encoder.encode("abc")));
  await rejects(reader.readUntil(new Uint8Array(), 10), RangeError);
});

Deno.test("framing: BufferedReader.readUntil() tells a clean end from a cut message", async () => {
  const reader = new BufferedReader(new MemoryReader(encoder.encode("a\nb"), [1, 1, 1]));
  deepEqual(await readDelimited(reader), encoder.encode("a"));
  await rejects(
    readDelimited(reader),
    (e) => e instanceof UnexpectedEofError && /after 1 bytes/.test(e.message),
  );
  const clean = new BufferedReader(new MemoryReader(encoder.encode("a\n")));
  deepEqual(await readDelimited(clean), encoder.encode("a"));
  equal(await readDelimited(clean), null);
  // And after the end, it stays ended.
  equal(await clean.read(new Uint8Array(1)), null);
  ok(clean.buffered === 0);
});

Deno.test("framing: BufferedReader starts with a small buffer and grows it for a stream that fills it", async () => {
  const sizes: number[] = [];
  let left = 1_000_000;
  const source = {
    read(p: Uint8Array): Promise<number | null> {
      sizes.push(p.byteLength);
      if (left === 0) return Promise.resolve(null);
      const n = Math.min(p.byteLength, left);
      left -= n;
      return Promise.resolve(n);
    },
  };
  const reader = new BufferedReader(source);
  const small = new Uint8Array(100);
  while ((await reader.read(small)) !== null) {
    // Reads of 100 bytes: every byte goes through the reader's own buffer.
  }
  // An idle connection would hold 4 KiB; this fast one doubled up to the 256 KiB limit.
  equal(sizes[0], 4096);
  equal(Math.max(...sizes), 262144);
  ok(sizes.indexOf(262144) <= 7, String(sizes.slice(0, 8)));
});

Deno.test("framing: BufferedReader.peekBuffered() shows only what is buffered, and consume() takes it", async () => {
  const data = encoder.encode("abcdefgh");
  const source = new MemoryReader(data, [5, 3]);
  const reader = new BufferedReader(source);
  // Nothing is read from the source for a peek.
  equal(reader.peekBuffered(1), null);
  equal(source.reads, 0);
  deepEqual(await reader.read(new Uint8Array(1)), 1);
  deepEqual(reader.peekBuffered(4), encoder.encode("bcde"));
  equal(reader.peekBuffered(5), null);
  reader.consume(3);
  equal(reader.buffered, 1);
  throws(() => reader.consume(2), RangeError);
  deepEqual(await readExact(reader, 4), encoder.encode("efgh"));
  equal(source.reads, 2);
});
