import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import {
  ConnectionError,
  IntegrityError,
  ProtocolError,
  TimeoutError,
  UnexpectedEofError,
} from "../../lib/errors.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import type { ByteReader, ByteWriter } from "../../lib/framing/types.ts";
import { acceptOne } from "../../lib/pipe/listen_once.ts";
import { PIPE_PREAMBLE, receivePipe, sendPipe } from "../../lib/pipe/pipe.ts";
import type { TransportConn } from "../../lib/transport/types.ts";
import { sha256 } from "../helpers.ts";
import { type ChecksumName, createChecksum } from "../../lib/checksum.ts";

/** Two ends of a real TCP connection on 127.0.0.1. */
async function tcpPair(): Promise<{ sender: Deno.TcpConn; receiver: TransportConn }> {
  let port = 0;
  const accepted = acceptOne({ port: 0, onListening: (addr) => void (port = addr.port) });
  const sender = await Deno.connect({ hostname: "127.0.0.1", port });
  return { sender, receiver: await accepted };
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** A source that hands out `data` in pieces of the given sizes, in turn. */
function pieces(data: Uint8Array, sizes: number[]): ByteReader {
  let offset = 0;
  let turn = 0;
  return {
    read(p) {
      if (offset >= data.byteLength) return Promise.resolve(null);
      const n = Math.min(p.byteLength, sizes[turn++ % sizes.length]!, data.byteLength - offset);
      p.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

/** A sink that keeps everything. */
function collector(): ByteWriter & { bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    write(p) {
      chunks.push(p.slice());
      return Promise.resolve(p.byteLength);
    },
    bytes() {
      const total = chunks.reduce((n, c) => n + c.byteLength, 0);
      const out = new Uint8Array(total);
      let offset = 0;
      for (const c of chunks) {
        out.set(c, offset);
        offset += c.byteLength;
      }
      return out;
    },
  };
}

/** The bytes a real sender puts on the wire for `data` (under SHA-256 unless told). */
async function capture(
  data: Uint8Array,
  size: number | null,
  checksum: ChecksumName = "sha256",
): Promise<Uint8Array> {
  const wire = collector();
  await sendPipe(wire, pieces(data, [65536]), { size, checksum });
  return wire.bytes();
}

/** Sends raw bytes on one end and receives them with receivePipe on the other. */
async function receiveRaw(wire: Uint8Array, sink: ByteWriter = collector()) {
  const { sender, receiver } = await tcpPair();
  const sending = (async () => {
    try {
      await writeAll(sender, wire);
    } finally {
      sender.close();
    }
  })();
  try {
    return await receivePipe(receiver, sink);
  } finally {
    receiver.close();
    await sending.catch(() => {});
  }
}

Deno.test("pipe: sendPipe()/receivePipe() move a sized file over TCP, verified", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, data);
    const { sender, receiver } = await tcpPair();
    const sink = collector();
    const [sent, received] = await Promise.all([
      (async () => {
        using file = await Deno.open(path);
        try {
          return await sendPipe(sender, file, { size: data.byteLength, checksum: "sha256" });
        } finally {
          sender.close();
        }
      })(),
      (async () => {
        try {
          return await receivePipe(receiver, sink);
        } finally {
          receiver.close();
        }
      })(),
    ]);
    deepEqual(sent, { size: data.byteLength, checksum: "sha256", hash: sha256(data) });
    deepEqual(received, sent);
    ok(sha256(sink.bytes()) === sha256(data));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("pipe: sendPipe()/receivePipe() move a stream of unknown size in chunks", async () => {
  const data = randomBytes(2 * 1024 * 1024 + 5);
  const { sender, receiver } = await tcpPair();
  const sink = collector();
  let progressed = 0;
  const [sent, received] = await Promise.all([
    sendPipe(sender, pieces(data, [1, 70000, 4096, 1 << 20]), { size: null, checksum: "sha256" })
      .finally(() => sender.close()),
    receivePipe(receiver, sink, { onProgress: (n) => void (progressed += n) })
      .finally(() => receiver.close()),
  ]);
  equal(sent.size, data.byteLength);
  deepEqual(received, sent);
  equal(progressed, data.byteLength);
  deepEqual(sink.bytes(), data);
  // The stream really was chunked: the chunked marker follows the preamble.
  const wire = await capture(data.subarray(0, 10), null);
  equal(
    new TextDecoder().decode(wire.subarray(0, PIPE_PREAMBLE.length + 17)),
    `${PIPE_PREAMBLE}\nffffffffffffffff`,
  );
});

Deno.test("pipe: receivePipe() accepts an empty body", async () => {
  const wire = await capture(new Uint8Array(0), 0);
  const sink = collector();
  const result = await receiveRaw(wire, sink);
  deepEqual(result, { size: 0, checksum: "sha256", hash: sha256(new Uint8Array(0)) });
  equal(sink.bytes().byteLength, 0);
});

Deno.test("pipe: receivePipe() fails with UnexpectedEofError when a sized stream is cut", async () => {
  const wire = await capture(randomBytes(200_000), 200_000);
  await rejects(receiveRaw(wire.subarray(0, 150_000)), UnexpectedEofError);
  // Cut inside the hash trailer.
  await rejects(receiveRaw(wire.subarray(0, wire.byteLength - 10)), UnexpectedEofError);
});

Deno.test("pipe: receivePipe() fails when a chunked stream is cut, even between chunks", async () => {
  const data = randomBytes(300_000);
  const wire = await capture(data, null);
  // Inside a chunk, and just before the final zero-length chunk and hash.
  await rejects(receiveRaw(wire.subarray(0, 100_000)), UnexpectedEofError);
  await rejects(receiveRaw(wire.subarray(0, wire.byteLength - 64 - 8)), ConnectionError);
  // Only the hash trailer is missing.
  await rejects(receiveRaw(wire.subarray(0, wire.byteLength - 64)), ConnectionError);
});

Deno.test("pipe: receivePipe() throws IntegrityError for one corrupted byte", async () => {
  const data = randomBytes(500_000);
  for (const size of [data.byteLength, null]) {
    const wire = await capture(data, size);
    const bad = wire.slice();
    bad[250_000] = bad[250_000]! ^ 0x01;
    await rejects(receiveRaw(bad), IntegrityError);
    // The same stream, uncorrupted, goes through.
    const sink = collector();
    equal((await receiveRaw(wire, sink)).hash, sha256(data));
  }
});

Deno.test("pipe: receivePipe() throws IntegrityError for a wrong hash trailer", async () => {
  const wire = await capture(new TextEncoder().encode("hello"), 5);
  const bad = wire.slice();
  bad.set(new TextEncoder().encode("0".repeat(64)), bad.byteLength - 64);
  await rejects(receiveRaw(bad), IntegrityError);
});

Deno.test("pipe: receivePipe() throws ProtocolError for a wrong preamble", async () => {
  const good = await capture(new TextEncoder().encode("hello"), 5);
  const wrongVersion = new Uint8Array([
    ...new TextEncoder().encode("BFTP-PIPE/3"),
    ...good.slice(11),
  ]);
  await rejects(
    receiveRaw(wrongVersion),
    /speaks pipe version 3; this bftp knows versions 1 and 2/,
  );
  await rejects(receiveRaw(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")), /Not a bftp pipe/);
  // A peer that never sends a newline is given up on after a short line.
  await rejects(receiveRaw(new Uint8Array(4096).fill(0x41)), ProtocolError);
  // The body header itself malformed after a good preamble.
  await rejects(
    receiveRaw(new TextEncoder().encode(`${PIPE_PREAMBLE}\nzzzzzzzzzzzzzzzz`)),
    ProtocolError,
  );
});

Deno.test("pipe: receivePipe() reports a peer that sends nothing as a connection error", async () => {
  await rejects(receiveRaw(new Uint8Array(0)), /before sending anything/);
});

Deno.test("pipe: sendPipe() turns a receiver that went away into a ConnectionError", async () => {
  const { sender, receiver } = await tcpPair();
  receiver.close();
  // Enough bytes that the kernel's buffers cannot hide the reset.
  const data = randomBytes(16 * 1024 * 1024);
  try {
    await rejects(
      sendPipe(sender, pieces(data, [1 << 20]), { size: data.byteLength }),
      ConnectionError,
    );
  } finally {
    sender.close();
  }
});

Deno.test("pipe: receivePipe() gives up on a peer that connects and never sends its first line", async () => {
  for (const start of ["", "BFTP-PIPE/2 xx"]) await silentPeer(start);
});

/** A peer that sends `start` (no whole line) and then nothing. */
async function silentPeer(start: string): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const silent = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const conn = await listener.accept();
  await silent.write(new TextEncoder().encode(start));
  try {
    const started = performance.now();
    const sink = { write: (p: Uint8Array) => Promise.resolve(p.byteLength) };
    await rejects(receivePipe(conn, sink, { preambleTimeout: 0.3 }), (e: unknown) => {
      ok(e instanceof TimeoutError, String(e));
      ok(/sent no whole first line in 0.3 s: it is not a bftp sender/.test(e.message), e.message);
      return true;
    });
    ok(performance.now() - started >= 250);
  } finally {
    conn.close();
    silent.close();
  }
}

Deno.test("pipe: a sender uses XXH3-128 unless told, naming it in version 2's first line; a receiver takes either", async () => {
  const data = randomBytes(300_000);
  const xxh3 = await createChecksum("xxh3-128");
  xxh3.update(data);
  const expected = xxh3.digest();
  for (const size of [data.byteLength, null]) {
    const wire = collector();
    const sent = await sendPipe(wire, pieces(data, [65536]), { size });
    deepEqual(sent, { size: data.byteLength, checksum: "xxh3-128", hash: expected });
    const bytes = wire.bytes();
    ok(new TextDecoder().decode(bytes.subarray(0, 21)) === "BFTP-PIPE/2 xxh3-128\n");
    const sink = collector();
    deepEqual(await receiveRaw(bytes, sink), sent);
    deepEqual(sink.bytes(), data);
    // One flipped byte is caught under XXH3 too.
    const bad = bytes.slice();
    bad[100_000] = bad[100_000]! ^ 0x40;
    await rejects(receiveRaw(bad), IntegrityError);
  }
  // SHA-256 opens with version 1's line, which a bftp from before version 2 takes.
  const v1 = await capture(data, data.byteLength, "sha256");
  equal(new TextDecoder().decode(v1.subarray(0, 12)), `${PIPE_PREAMBLE}\n`);
});

Deno.test("pipe: a receiver told to take one checksum refuses the other before any byte reaches its sink", async () => {
  const data = new TextEncoder().encode("hello");
  const written: number[] = [];
  const sink: ByteWriter = {
    write: (p) => (written.push(p.byteLength), Promise.resolve(p.byteLength)),
  };
  const { sender, receiver } = await tcpPair();
  const sending = writeAll(sender, await capture(data, 5, "xxh3-128")).finally(() =>
    sender.close()
  );
  await rejects(
    receivePipe(receiver, sink, { checksums: ["sha256"] }).finally(() => receiver.close()),
    /checksum is "xxh3-128"; this receiver takes only "sha256"/,
  );
  await sending.catch(() => {});
  deepEqual(written, []);
  await rejects(receiveRaw(new TextEncoder().encode("BFTP-PIPE/2 md5\n")), /checksum is "md5"/);
  await rejects(receiveRaw(new TextEncoder().encode("BFTP-PIPE/2\n")), /version 2/);
});
