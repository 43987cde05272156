import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { readDelimited } from "../../lib/framing/delimited.ts";
import { CHUNKED_MARKER, receiveBody, sendBody } from "../../lib/transfer/body.ts";
import {
  IntegrityError,
  LocalIoError,
  ProtocolError,
  UnexpectedEofError,
} from "../../lib/errors.ts";
import {
  CHUNKINGS,
  chunkSizes,
  concat,
  MemoryReader,
  MemoryWriter,
  overSocket,
  randomBytes,
  seededRandom,
} from "../framing/helpers.ts";
import { hashIn, sha256 } from "../helpers.ts";

const encoder = new TextEncoder();

/** The wire form of `data` as sendBody writes it (reads split by `readSizes`). */
async function encodeBody(
  data: Uint8Array,
  sized: boolean,
  readSizes?: number[],
): Promise<Uint8Array> {
  const writer = new MemoryWriter();
  const result = await sendBody(writer, new MemoryReader(data, readSizes), {
    size: sized ? data.byteLength : null,
    bufferSize: 4096,
  });
  equal(result.size, data.byteLength);
  equal(result.hash, sha256(data));
  return writer.bytes;
}

for (const sized of [true, false]) {
  const kind = sized ? "sized" : "chunked";
  Deno.test(`transfer: a ${kind} body round-trips under every chunking over a socket`, async () => {
    for (const [i, chunking] of CHUNKINGS.entries()) {
      const seed = 0xb0d1 + i + (sized ? 0 : 50);
      const rng = seededRandom(seed);
      for (
        const length of [0, 1, 4095, 4096, 4097, chunking === "one byte at a time" ? 2000 : 70_000]
      ) {
        const data = randomBytes(rng, length);
        // For a chunked body, the source's reads decide the chunks: make them uneven.
        const wire = await encodeBody(data, sized, chunkSizes(length, "random chunks", rng, 3000));
        const trailer = encoder.encode("AFTER");
        const sizes = chunkSizes(wire.byteLength + trailer.byteLength, chunking, rng, 5000);
        const sink = new MemoryWriter(1500, rng);
        const [result, after] = await overSocket(concat(wire, trailer), sizes, async (conn) => {
          const reader = new BufferedReader(conn, { bufferSize: 1024 });
          const result = await receiveBody(reader, sink, {
            expectedSize: sized ? length : null,
            bufferSize: 777,
          });
          return [result, await readDelimited(reader, { delimiter: "R", maxBytes: 10 })] as const;
        });
        const where = `${chunking}, ${length} bytes, seed ${seed}`;
        deepEqual(result, { size: length, checksum: "sha256", hash: sha256(data) }, where);
        deepEqual(sink.bytes, data, where);
        // The body was consumed exactly: what follows it is still there.
        deepEqual(after, encoder.encode("AFTE"), where);
      }
    }
  });
}

Deno.test("transfer: the body wire format is the documented one", async () => {
  const data = encoder.encode("hello");
  deepEqual(
    new TextDecoder().decode(await encodeBody(data, true)),
    `0000000000000005hello${sha256(data)}`,
  );
  deepEqual(
    new TextDecoder().decode(await encodeBody(data, false, [2, 3])),
    `${CHUNKED_MARKER}00000002he00000003llo00000000${sha256(data)}`,
  );
});

Deno.test("transfer: a lent buffer carries bodies that fit it, one after another; a larger body gets its own", async () => {
  const lent = new Uint8Array(8);
  for (const text of ["hello", "bye", "a longer body"]) {
    const data = encoder.encode(text);
    const writer = new MemoryWriter();
    const result = await sendBody(writer, new MemoryReader(data), {
      size: data.byteLength,
      buffer: lent,
    });
    equal(result.hash, sha256(data));
    deepEqual(
      new TextDecoder().decode(writer.bytes),
      `${data.byteLength.toString(16).padStart(16, "0")}${text}${sha256(data)}`,
    );
  }
  // The last body that fitted went through it; the longer one did not.
  equal(new TextDecoder().decode(lent.subarray(0, 3)), "bye");
});

Deno.test("transfer: a flipped byte anywhere in the body is an IntegrityError", async () => {
  const rng = seededRandom(0xf11b);
  const data = randomBytes(rng, 3000);
  for (const sized of [true, false]) {
    const wire = await encodeBody(data, sized, [1000, 1000, 1000]);
    // Positions inside the data (not headers): flip a bit in each in turn.
    const starts = sized ? [16] : [16 + 8, 16 + 8 + 1000 + 8, 16 + 8 + 2 * (1000 + 8)];
    for (const start of starts) {
      for (const offset of [0, 500, 999]) {
        const bad = wire.slice();
        bad[start + offset]! ^= 0x01;
        const sink = new MemoryWriter();
        await rejects(
          receiveBody(new BufferedReader(new MemoryReader(bad)), sink, {
            expectedSize: sized ? data.byteLength : null,
          }),
          (e) => e instanceof IntegrityError && /Checksum mismatch/.test(e.message),
          `${sized ? "sized" : "chunked"} at ${start + offset}`,
        );
      }
    }
    // A wrong trailer is just as bad.
    const badTrailer = wire.slice();
    badTrailer[badTrailer.byteLength - 1] = badTrailer[badTrailer.byteLength - 1] === 0x30
      ? 0x31
      : 0x30;
    await rejects(
      receiveBody(new BufferedReader(new MemoryReader(badTrailer)), new MemoryWriter()),
      IntegrityError,
    );
  }
});

Deno.test("transfer: a short body is an UnexpectedEofError", async () => {
  const data = randomBytes(seededRandom(9), 5000);
  for (const sized of [true, false]) {
    const wire = await encodeBody(data, sized, [2500, 2500]);
    // Cut in the header, in the data, in a chunk header, in the trailer, and before the end marker.
    for (const cut of [0, 10, 16, 20, 2000, 2530, wire.byteLength - 64, wire.byteLength - 1]) {
      for (const chunking of CHUNKINGS) {
        const part = wire.subarray(0, cut);
        const sizes = chunkSizes(part.byteLength, chunking, seededRandom(cut), 900);
        await rejects(
          receiveBody(new BufferedReader(new MemoryReader(part, sizes)), new MemoryWriter()),
          UnexpectedEofError,
          `${sized ? "sized" : "chunked"} cut at ${cut}, ${chunking}`,
        );
      }
    }
  }
  // Over a real socket too.
  const wire = await encodeBody(data, true);
  await rejects(
    overSocket(
      wire.subarray(0, 3000),
      [1000, 2000],
      (conn) => receiveBody(new BufferedReader(conn), new MemoryWriter()),
    ),
    UnexpectedEofError,
  );
});

Deno.test("transfer: a sink that fails midway still drains the body, then throws its error", async () => {
  const data = randomBytes(seededRandom(10), 50_000);
  for (const sized of [true, false]) {
    const wire = await encodeBody(data, sized, [20_000, 30_000]);
    let written = 0;
    const diskFull = new LocalIoError('Cannot write "x": no space left');
    const sink = {
      write(p: Uint8Array) {
        if (written >= 10_000) return Promise.reject(diskFull);
        written += p.byteLength;
        return Promise.resolve(p.byteLength);
      },
    };
    let progress = 0;
    const next = encoder.encode("NEXT\n");
    const reader = new BufferedReader(new MemoryReader(concat(wire, next), [7000]));
    await rejects(
      receiveBody(reader, sink, {
        expectedSize: sized ? data.byteLength : null,
        bufferSize: 4096,
        onProgress: (n) => progress += n,
      }),
      (e) => e === diskFull,
    );
    ok(written >= 10_000 && written < data.byteLength);
    equal(progress, data.byteLength);
    // Drained: the stream is in step for the next message.
    deepEqual(await readDelimited(reader), encoder.encode("NEXT"));
  }
});

Deno.test("transfer: receiveBody() enforces the expected size and the limit", async () => {
  const data = randomBytes(seededRandom(11), 100);
  const sizedWire = await encodeBody(data, true);
  await rejects(
    receiveBody(new BufferedReader(new MemoryReader(sizedWire)), new MemoryWriter(), {
      expectedSize: 99,
    }),
    (e) => e instanceof ProtocolError && /Size mismatch/.test(e.message),
  );
  await rejects(
    receiveBody(new BufferedReader(new MemoryReader(sizedWire)), new MemoryWriter(), {
      maxSize: 99,
    }),
    ProtocolError,
  );
  // A chunked body whose total passes the limit is stopped at the chunk that passes it.
  const chunkedWire = await encodeBody(data, false, [60, 40]);
  const sink = new MemoryWriter();
  await rejects(
    receiveBody(new BufferedReader(new MemoryReader(chunkedWire)), sink, { maxSize: 99 }),
    ProtocolError,
  );
  equal(sink.bytes.byteLength, 60);
  // A chunked body that arrives with a different total than expected.
  await rejects(
    receiveBody(new BufferedReader(new MemoryReader(chunkedWire)), new MemoryWriter(), {
      expectedSize: 101,
    }),
    IntegrityError,
  );
});

Deno.test("transfer: receiveBody() rejects an oversize chunk header without reading it", async () => {
  const wire = encoder.encode(`${CHUNKED_MARKER}ffffffff`);
  await rejects(
    receiveBody(new BufferedReader(new MemoryReader(wire)), new MemoryWriter()),
    ProtocolError,
  );
  await rejects(
    receiveBody(
      new BufferedReader(new MemoryReader(encoder.encode("zzzzzzzzzzzzzzzz"))),
      new MemoryWriter(),
    ),
    ProtocolError,
  );
});

Deno.test("transfer: sendBody() refuses a sized source that ends early", async () => {
  await rejects(
    sendBody(new MemoryWriter(), new MemoryReader(new Uint8Array(10)), {
      size: 11,
      label: "a.txt",
    }),
    (e) =>
      e instanceof LocalIoError &&
      e.message === 'Cannot send "a.txt": it ended after 10 of 11 bytes',
  );
});

Deno.test("transfer: a sized body longer than its buffer is read one buffer ahead of its writes", async () => {
  const data = randomBytes(seededRandom(0x5e), 10_000);
  const events: string[] = [];
  let at = 0;
  const source = {
    read: async (p: Uint8Array) => {
      const n = Math.min(p.byteLength, data.byteLength - at);
      events.push(`read ${at}`);
      p.set(data.subarray(at, at + n));
      at += n;
      await Promise.resolve();
      return n === 0 ? null : n;
    },
  };
  const out = new MemoryWriter();
  const writer = {
    write: async (p: Uint8Array) => {
      events.push("write starts");
      // A slow connection: the next read must not wait for this write.
      await new Promise((resolve) => setTimeout(resolve, 1));
      const n = await out.write(p);
      events.push("write ends");
      return n;
    },
  };
  const sent = await sendBody(writer, source, { size: data.byteLength, bufferSize: 4096 });
  equal(sent.hash, sha256(data));
  // The size header, then 4096 + 4096 + 1808 bytes: the read of each next buffer is asked for
  // before this buffer's write starts (read in turn, "read 4096" would follow the first "write ends").
  deepEqual(events.slice(0, 8), [
    "write starts",
    "write ends",
    "read 0",
    "read 4096",
    "write starts",
    "write ends",
    "read 8192",
    "write starts",
  ]);
  deepEqual(
    out.bytes.subarray(out.bytes.byteLength - 10_000 - 64, out.bytes.byteLength - 64),
    data,
  );
});

Deno.test("transfer: a source that lends its buffers is sent view by view, as chunks, uncopied", async () => {
  const views = [encoder.encode("abc"), randomBytes(seededRandom(0x71), 100_000)];
  const lent: Uint8Array[] = [];
  const source = {
    read: () => Promise.reject(new Error("read() is not used when readView() is there")),
    readView: () => {
      const view = views.shift() ?? null;
      if (view !== null) lent.push(view);
      return Promise.resolve(view);
    },
  };
  const written: Uint8Array[] = [];
  const writer = { write: (p: Uint8Array) => (written.push(p), Promise.resolve(p.byteLength)) };
  const sent = await sendBody(writer, source, { size: null, checksum: "xxh3-128" });
  const whole = concat(encoder.encode("abc"), lent[1]!);
  equal(sent.size, 100_003);
  equal(sent.hash, await hashIn("xxh3-128", whole));
  // The lent bytes themselves went to the connection (their own memory, not a copy).
  for (const view of lent) {
    ok(written.some((w) => w.buffer === view.buffer && w.byteLength === view.byteLength));
  }
  const got = await receiveBody(
    new BufferedReader(new MemoryReader(concat(...written))),
    new MemoryWriter(),
    { checksum: "xxh3-128" },
  );
  deepEqual(got, sent);
});

Deno.test("transfer: sendBody() sends a known hash without hashing, and the receiver checks it", async () => {
  const data = encoder.encode("known");
  const writer = new MemoryWriter();
  const wrong = "0".repeat(64);
  const sent = await sendBody(writer, new MemoryReader(data), { size: 5, known: wrong });
  equal(sent.hash, wrong);
  await rejects(
    receiveBody(new BufferedReader(new MemoryReader(writer.bytes)), new MemoryWriter()),
    IntegrityError,
  );
});

Deno.test("transfer: an XXH3-128 body ends with 32 hex digits, and a wrong one is INTEGRITY", async () => {
  const data = randomBytes(seededRandom(0x33), 100_000);
  for (const size of [data.byteLength, null]) {
    const writer = new MemoryWriter();
    const sent = await sendBody(writer, new MemoryReader(data, [4096]), {
      size,
      checksum: "xxh3-128",
    });
    const xxh3 = await hashIn("xxh3-128", data);
    deepEqual(sent, { size: data.byteLength, checksum: "xxh3-128", hash: xxh3 });
    const wire = writer.bytes;
    equal(new TextDecoder().decode(wire.subarray(wire.byteLength - 32)), xxh3);
    // What follows the 32 digits is the next message, read in step.
    const reader = new BufferedReader(new MemoryReader(concat(wire, encoder.encode("NEXT"))));
    const got = await receiveBody(reader, new MemoryWriter(), { checksum: "xxh3-128" });
    deepEqual(got, sent);
    equal(new TextDecoder().decode((await readDelimited(reader, { delimiter: "T" }))!), "NEX");
    // One flipped digit of the trailer.
    const bad = wire.slice();
    bad[bad.byteLength - 1] = bad[bad.byteLength - 1] === 0x30 ? 0x31 : 0x30;
    await rejects(
      receiveBody(new BufferedReader(new MemoryReader(bad)), new MemoryWriter(), {
        checksum: "xxh3-128",
      }),
      (e) => e instanceof IntegrityError && /\(xxh3-128\)/.test(e.message),
    );
  }
});

Deno.test("transfer: a small body is sent and received through a buffer of its size, not 1 MiB", async () => {
  const data = new Uint8Array(1024).fill(7);
  let readBuffer = 0;
  let given = false;
  const source = {
    read(p: Uint8Array) {
      readBuffer = Math.max(readBuffer, p.buffer.byteLength);
      if (given) return Promise.resolve(null);
      given = true;
      p.set(data);
      return Promise.resolve(data.byteLength);
    },
  };
  const wire: Uint8Array[] = [];
  const writer = {
    write: (p: Uint8Array) => (wire.push(p.slice()), Promise.resolve(p.byteLength)),
  };
  await sendBody(writer, source, { size: data.byteLength });
  ok(readBuffer <= data.byteLength, `the sender read into a buffer of ${readBuffer} bytes`);

  const bytes = new Uint8Array(wire.reduce((n, p) => n + p.byteLength, 0));
  wire.reduce((at, p) => (bytes.set(p, at), at + p.byteLength), 0);
  let sent = false;
  const reader = new BufferedReader(
    {
      read: (p: Uint8Array) =>
        sent ? Promise.resolve(null) : (sent = true, p.set(bytes), Promise.resolve(bytes.length)),
    },
    { bufferSize: bytes.byteLength },
  );
  let writeBuffer = 0;
  const sink = {
    write: (p: Uint8Array) => {
      writeBuffer = Math.max(writeBuffer, p.buffer.byteLength);
      return Promise.resolve(p.byteLength);
    },
  };
  const got = await receiveBody(reader, sink, { expectedSize: data.byteLength });
  equal(got.size, data.byteLength);
  ok(writeBuffer <= data.byteLength, `the receiver wrote from a buffer of ${writeBuffer} bytes`);
});

Deno.test("transfer: a source that changed while it was read gets a trailer no bytes match, so nothing is taken", async () => {
  const data = encoder.encode("some bytes that will be said to have changed");
  for (const intact of [true, false]) {
    const out = new MemoryWriter();
    let asked = 0;
    await sendBody(out, new MemoryReader(data), {
      size: data.byteLength,
      checksum: "xxh3-128",
      sourceIntact: () => (asked++, intact),
    });
    equal(asked, 1, "asked once, after the last byte");
    const received = receiveBody(
      new BufferedReader(new MemoryReader(out.bytes)),
      new MemoryWriter(),
      {
        checksum: "xxh3-128",
      },
    );
    if (intact) equal((await received).size, data.byteLength);
    else {
      // Told as withdrawn by its sender, not as damage on the way; the stream is in step.
      await rejects(received, (e) =>
        e instanceof IntegrityError && e.bodyRead &&
        /changed while it was sent \(the sender says so\)/.test(e.message));
    }
  }
});
