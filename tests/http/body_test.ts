import { deepEqual, ok, rejects, throws } from "node:assert/strict";
import { IntegrityError, ProtocolError } from "../../lib/errors.ts";
import { bodyFraming, copyBody } from "../../lib/http/body.ts";
import type { BodyFraming } from "../../lib/http/body.ts";
import type { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { overWire } from "./wire.ts";

/** Copies a body into memory, counting the callback's view too. */
async function collect(
  reader: BufferedReader,
  framing: BodyFraming,
  bufferSize?: number,
): Promise<{ text: string; n: number; seen: number }> {
  const parts: Uint8Array[] = [];
  let seen = 0;
  const sink = { write: (p: Uint8Array) => (parts.push(p.slice()), Promise.resolve(p.byteLength)) };
  const n = await copyBody(reader, framing, sink, {
    onChunk: (c) => seen += c.byteLength,
    ...(bufferSize === undefined ? {} : { bufferSize }),
  });
  const text = parts.map((p) => new TextDecoder().decode(p)).join("");
  return { text, n, seen };
}

Deno.test("http: bodyFraming() picks none, length, chunked or close", () => {
  const f = (status: number, headers: [string, string][]) => bodyFraming({ status, headers });
  deepEqual(f(204, [["Content-Length", "10"]]), { kind: "none" });
  deepEqual(f(304, []), { kind: "none" });
  deepEqual(f(200, [["content-length", "0"]]), { kind: "length", length: 0 });
  deepEqual(f(200, [["Content-Length", "7, 7"]]), { kind: "length", length: 7 });
  deepEqual(f(200, [["Content-Length", "7"], ["Content-Length", "7"]]), {
    kind: "length",
    length: 7,
  });
  deepEqual(f(200, [["Transfer-Encoding", "gzip, Chunked"], ["Content-Length", "3"]]), {
    kind: "chunked",
  });
  deepEqual(f(200, [["Transfer-Encoding", "gzip"]]), { kind: "close" });
  deepEqual(f(301, []), { kind: "close" });
  throws(() => f(200, [["Content-Length", "7"], ["Content-Length", "8"]]), ProtocolError);
  throws(() => f(200, [["Content-Length", "-1"]]), /Malformed Content-Length "-1"/);
  throws(() => f(200, [["Content-Length", "0x10"]]), ProtocolError);
  throws(() => f(200, [["Content-Length", "9".repeat(16)]]), ProtocolError);
});

Deno.test("http: copyBody() copies exactly Content-Length bytes through a small buffer", async () => {
  await overWire(["abc", "defg", "hij-and-garbage-after"], async (reader) => {
    const got = await collect(reader, { kind: "length", length: 10 }, 4);
    deepEqual(got, { text: "abcdefghij", n: 10, seen: 10 });
  });
});

Deno.test("http: copyBody() fails with IntegrityError on a Content-Length body cut short", async () => {
  await overWire(["abc", "de"], async (reader) => {
    await rejects(collect(reader, { kind: "length", length: 10 }), (e: unknown) => {
      ok(e instanceof IntegrityError);
      deepEqual(e.message, "The response body was cut short: 5 of 10 bytes arrived");
      return true;
    });
  });
});

Deno.test("http: copyBody() reads a body ended by close", async () => {
  await overWire(["first ", "second ", "third"], async (reader) => {
    deepEqual(await collect(reader, { kind: "close" }), {
      text: "first second third",
      n: 18,
      seen: 18,
    });
  });
  await overWire([], async (reader) => {
    deepEqual((await collect(reader, { kind: "close" })).n, 0);
  });
});

Deno.test("http: copyBody() writes nothing for a body-less response", async () => {
  await overWire(["not a body"], async (reader) => {
    deepEqual(await collect(reader, { kind: "none" }), { text: "", n: 0, seen: 0 });
  });
});

Deno.test("http: copyBody() decodes chunks split anywhere, with extensions and trailers", async () => {
  const wire = "5\r\nhello\r\n1;name=value\r\n,\r\n00A \r\n world!!!!\r\n0\r\nX-Trailer: 1\r\n\r\n";
  // Every split point, two pieces at a time, through a 3-byte buffer.
  for (let cut = 1; cut < wire.length; cut++) {
    await overWire([wire.slice(0, cut), wire.slice(cut)], async (reader) => {
      deepEqual(await collect(reader, { kind: "chunked" }, 3), {
        text: "hello, world!!!!",
        n: 16,
        seen: 16,
      });
    });
  }
});

Deno.test("http: copyBody() takes chunk lines that end in a bare LF, as the head's", async () => {
  await overWire(["5\nhello\n1;x=y\r\n,\n6\n world\n0\nX-T: 1\n\n"], async (reader) => {
    deepEqual((await collect(reader, { kind: "chunked" })).text, "hello, world");
  });
});

Deno.test("http: copyBody() leaves what follows the last chunk unread", async () => {
  await overWire(["3\r\nabc\r\n0\r\n\r\nNEXT"], async (reader) => {
    deepEqual((await collect(reader, { kind: "chunked" })).text, "abc");
    const rest = new Uint8Array(8);
    deepEqual(new TextDecoder().decode(rest.subarray(0, (await reader.read(rest))!)), "NEXT");
  });
});

Deno.test("http: copyBody() fails on a chunked body cut short anywhere", async () => {
  const cases = [
    "5\r\nhel", // inside a chunk's data
    "5\r\nhello", // before a chunk's CRLF
    "5\r\nhello\r\n", // before the next size line
    "5\r\nhello\r\n0", // inside the last size line
    "5\r\nhello\r\n0\r\n", // before the end of the trailers
    "5\r\nhello\r\n0\r\nX-T: 1\r\n", // inside the trailers
  ];
  for (const wire of cases) {
    await overWire([wire], async (reader) => {
      await rejects(collect(reader, { kind: "chunked" }), (e: unknown) => {
        ok(e instanceof IntegrityError, `${JSON.stringify(wire)}: ${e}`);
        ok(/chunked response body was cut short/.test(e.message));
        return true;
      });
    });
  }
});

Deno.test("http: copyBody() rejects broken chunk framing", async () => {
  const cases: [string, RegExp][] = [
    ["zz\r\nab\r\n0\r\n\r\n", /Malformed chunk size line "zz"/],
    ["-1\r\n", /Malformed chunk size line/],
    ["\r\n", /Malformed chunk size line ""/],
    ["3\r\nabcX\r\n0\r\n\r\n", /not followed by CRLF/],
    ["3\nabcX\n0\n\n", /not followed by CRLF/],
    // A CR alone ends no line: the size line runs on to the LF.
    ["3\rabc\n0\n\n", /Malformed chunk size line "3\\rabc"/],
    [`${"1".repeat(5000)}\r\n`, /chunk size line is too long/],
    [`FFFFFFFFFFFFFF\r\n`, /Malformed chunk size line/],
  ];
  for (const [wire, expected] of cases) {
    await overWire([wire], async (reader) => {
      await rejects(collect(reader, { kind: "chunked" }), (e: unknown) => {
        ok(e instanceof ProtocolError, `${JSON.stringify(wire.slice(0, 20))}: ${e}`);
        ok(expected.test(e.message), e.message);
        return true;
      });
    });
  }
});

Deno.test("http: copyBody() bounds a chunked body's trailer section", async () => {
  const trailers = Array.from({ length: 100 }, (_, i) => `X-T${i}: ${"t".repeat(1000)}\r\n`);
  await overWire(["1\r\na\r\n0\r\n", ...trailers, "\r\n"], async (reader) => {
    const sink = { write: (p: Uint8Array) => Promise.resolve(p.byteLength) };
    await rejects(
      copyBody(reader, { kind: "chunked" }, sink, { maxTrailerBytes: 65536 }),
      /trailer is longer than the limit of 65536 bytes/,
    );
  });
});
