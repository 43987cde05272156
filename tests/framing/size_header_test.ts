import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import {
  decodeSizeHeader,
  encodeSized,
  encodeSizedText,
  encodeSizeHeader,
  MAX_NARROW_SIZE,
  readSized,
  readSizedBuffered,
  readSizeHeader,
  writeSized,
} from "../../lib/framing/size_header.ts";
import { ProtocolError, UnexpectedEofError } from "../../lib/errors.ts";
import {
  CHUNKINGS,
  chunkSizes,
  concat,
  MemoryReader,
  MemoryWriter,
  overSocket,
  randomBytes,
  randomInt,
  seededRandom,
} from "./helpers.ts";

const encoder = new TextEncoder();

async function readAllSized(
  reader: BufferedReader,
  wide: boolean,
  maxBytes: number,
): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  while (true) {
    const msg = await readSized(reader, { wide, maxBytes });
    if (msg === null) return got;
    got.push(msg);
    if (got.length > 10_000) throw new Error("Runaway reader");
  }
}

for (const wide of [false, true]) {
  const kind = wide ? "wide (16-digit)" : "narrow (8-digit)";
  for (const transport of ["memory", "a socket"] as const) {
    Deno.test(`framing: readSized() round-trips ${kind} headers under every chunking over ${transport}`, async () => {
      for (const [i, chunking] of CHUNKINGS.entries()) {
        const seed = 0x5123 + i + (wide ? 100 : 0);
        const rng = seededRandom(seed);
        // Empty messages, tiny ones, and a few larger than a socket read.
        const messages = Array.from(
          { length: 30 },
          (_, k) =>
            randomBytes(rng, k % 10 === 9 ? randomInt(rng, 4000, 9000) : randomInt(rng, 0, 60)),
        );
        const wire = concat(...messages.map((m) => encodeSized(m, { wide })));
        const sizes = chunkSizes(wire.byteLength, chunking, rng);
        const bufferSize = i === 2 ? 5 : 65536;
        const got = transport === "memory"
          ? await readAllSized(
            new BufferedReader(new MemoryReader(wire, sizes), { bufferSize }),
            wide,
            10_000,
          )
          : await overSocket(
            wire,
            sizes,
            (conn) => readAllSized(new BufferedReader(conn, { bufferSize }), wide, 10_000),
          );
        deepEqual(got, messages, `${chunking}, seed ${seed}`);
      }
    });
  }
}

Deno.test("framing: readSized() rejects a header announcing 0xffffffff at once, without reading the body", async () => {
  for (const wide of [false, true]) {
    const header = wide ? "00000000ffffffff" : "ffffffff";
    let reads = 0;
    // The reader fails if anything past the header is asked for.
    const reader = {
      read(p: Uint8Array) {
        reads++;
        if (reads > 1) return Promise.reject(new Error("Read past the size header"));
        const bytes = encoder.encode(header);
        p.set(bytes.subarray(0, p.byteLength));
        return Promise.resolve(Math.min(p.byteLength, bytes.byteLength));
      },
    };
    await rejects(
      readSized(reader, { wide, maxBytes: 1024 }),
      (e) =>
        e instanceof ProtocolError && /4294967295 bytes is over the limit of 1024/.test(e.message),
    );
    equal(reads, 1);
  }
  // Over a real socket: the peer sends the header and a few bytes, then closes. Trying to
  // read the announced body would end in UnexpectedEofError instead of ProtocolError.
  await rejects(
    overSocket(encoder.encode("ffffffffabc"), [11], (conn) => readSized(conn, { maxBytes: 1024 })),
    ProtocolError,
  );
});

Deno.test("framing: readSizeHeader() rejects a wide header above the safe integers", async () => {
  await rejects(
    readSizeHeader(new MemoryReader(encoder.encode("fffffffffffffff0")), {
      wide: true,
      maxBytes: Number.MAX_SAFE_INTEGER,
    }),
    ProtocolError,
  );
  throws(() => decodeSizeHeader(encoder.encode("ffffffffffffffff")), ProtocolError);
});

Deno.test("framing: readSized() accepts exactly the limit and one byte less than over it", async () => {
  const msg = new Uint8Array(1024).fill(7);
  deepEqual(await readSized(new MemoryReader(encodeSized(msg)), { maxBytes: 1024 }), msg);
  await rejects(
    readSized(new MemoryReader(encodeSized(new Uint8Array(1025))), { maxBytes: 1024 }),
    ProtocolError,
  );
});

Deno.test("framing: readSized() rejects a header that is not hex", async () => {
  for (const bad of ["0000001g", "-0000001", "0x000010", " 0000010", "0000\n010"]) {
    await rejects(
      readSized(new MemoryReader(encoder.encode(bad + "x".repeat(16)))),
      (e) => e instanceof ProtocolError && e.message.startsWith("Invalid size header"),
      bad,
    );
  }
  // Upper-case hex digits are hex too.
  equal(decodeSizeHeader(encoder.encode("0000001F")), 31);
});

Deno.test("framing: readSized() reports a truncated header or body as UnexpectedEofError", async () => {
  for (const wire of ["0000", "0000000a", "0000000aabcdefghi"]) {
    for (const chunking of CHUNKINGS) {
      const bytes = encoder.encode(wire);
      const sizes = chunkSizes(bytes.byteLength, chunking, seededRandom(3));
      await rejects(readSized(new MemoryReader(bytes, sizes)), UnexpectedEofError, wire);
      await rejects(
        overSocket(bytes, sizes, (conn) => readSized(new BufferedReader(conn))),
        UnexpectedEofError,
        wire,
      );
    }
  }
  // A clean end before a header is the end of the messages, not an error.
  equal(await readSized(new MemoryReader(new Uint8Array())), null);
});

Deno.test("framing: encodeSizeHeader() pads to the width and refuses what does not fit", () => {
  deepEqual(new TextDecoder().decode(encodeSizeHeader(0)), "00000000");
  deepEqual(new TextDecoder().decode(encodeSizeHeader(MAX_NARROW_SIZE)), "ffffffff");
  deepEqual(
    new TextDecoder().decode(encodeSizeHeader(2 ** 32, { wide: true })),
    "0000000100000000",
  );
  throws(() => encodeSizeHeader(2 ** 32), RangeError);
  throws(() => encodeSizeHeader(-1), RangeError);
  throws(() => encodeSizeHeader(1.5), RangeError);
  throws(() => encodeSizeHeader(Number.MAX_SAFE_INTEGER + 1, { wide: true }), RangeError);
});

Deno.test("framing: encodeSizeHeader() writes every digit of a wide size as toString(16) does", () => {
  for (const size of [1, 0xf, 0x10, 0xdead_beef, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
    deepEqual(
      new TextDecoder().decode(encodeSizeHeader(size, { wide: true })),
      size.toString(16).padStart(16, "0"),
    );
  }
});

Deno.test("framing: encodeSizedText() announces the UTF-8 length, not the string's, and reads back", async () => {
  for (const text of ["", "{}", "Grüße", "名前", "\u{1f600} x", "a".repeat(70_000)]) {
    const frame = encodeSizedText(text);
    const bytes = new TextEncoder().encode(text);
    equal(decodeSizeHeader(frame.subarray(0, 8)), bytes.byteLength);
    deepEqual(frame, encodeSized(bytes));
    deepEqual(await readSized(new MemoryReader(frame.slice())), bytes);
  }
  deepEqual(new TextDecoder().decode(encodeSizedText("é", { wide: true })), "0000000000000002é");
});

Deno.test("framing: writeSized() survives partial writes", async () => {
  const rng = seededRandom(4);
  const msg = randomBytes(rng, 3000);
  const writer = new MemoryWriter(7, rng);
  await writeSized(writer, msg, { wide: true });
  deepEqual(writer.bytes, encodeSized(msg, { wide: true }));
  deepEqual(await readSized(new MemoryReader(writer.bytes), { wide: true }), msg);
});

Deno.test("framing: readSizedBuffered() takes a message only when it is buffered whole and within the limit", async () => {
  const first = encodeSized(encoder.encode("first"));
  const big = encodeSized(new Uint8Array(100));
  const wire = concat(encoder.encode("x"), first, big, encodeSized(encoder.encode("last")));
  // Everything arrives with the first byte, but for the last message's final byte.
  const reader = new BufferedReader(new MemoryReader(wire, [wire.byteLength - 1, 1]));
  equal(readSizedBuffered(reader), null);
  await reader.read(new Uint8Array(1));
  deepEqual(readSizedBuffered(reader), encoder.encode("first"));
  // Over the limit: left for readSized, which says so.
  const before = reader.buffered;
  equal(readSizedBuffered(reader, { maxBytes: 99 }), null);
  equal(reader.buffered, before);
  await rejects(readSized(reader, { maxBytes: 99 }), ProtocolError);
  // Lost its step after the refusal: a fresh reader for the cut message.
  const cut = new BufferedReader(new MemoryReader(concat(encoder.encode("x"), first), [5, 100]));
  await cut.read(new Uint8Array(1));
  equal(readSizedBuffered(cut), null);
  deepEqual(await readSized(cut), encoder.encode("first"));
  // A header that is not hex digits is refused at once.
  const garbage = new BufferedReader(new MemoryReader(encoder.encode("xzzzzzzzzhello")));
  await garbage.read(new Uint8Array(1));
  throws(() => readSizedBuffered(garbage), ProtocolError);
});
