import { deepEqual, ok, rejects } from "node:assert/strict";
import { ProtocolError } from "../../lib/errors.ts";
import {
  headerValue,
  headerValues,
  MAX_HEADER_BYTES,
  readResponseHead,
} from "../../lib/http/response.ts";
import { overWire } from "./wire.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("http: readResponseHead() parses a head split across many reads", async () => {
  const head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-Empty:\r\n\r\n";
  // Split everywhere that matters: inside the CRLF, inside a name, at the colon.
  const pieces = [
    "HTTP/1.1 200 OK\r",
    "\nContent-Ty",
    "pe: text/plain\r\nContent-Length:",
    " 5\r\n",
  ];
  pieces.push("X-Empty:\r\n\r", "\nhello");
  await overWire(pieces, async (reader) => {
    const parsed = await readResponseHead(reader);
    deepEqual(parsed.version, "1.1");
    deepEqual(parsed.status, 200);
    deepEqual(parsed.reason, "OK");
    deepEqual(parsed.headers, [["Content-Type", "text/plain"], ["Content-Length", "5"], [
      "X-Empty",
      "",
    ]]);
    deepEqual(text(parsed.raw), head);
    // The body is left for the next reader.
    const rest = new Uint8Array(16);
    const n = await reader.read(rest);
    deepEqual(text(rest.subarray(0, n!)), "hello");
  });
});

Deno.test("http: readResponseHead() accepts an empty reason and skips 1xx interim heads", async () => {
  await overWire(
    [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
      "HTTP/1.0 204\r\n\r\n",
    ],
    async (reader) => {
      const head = await readResponseHead(reader);
      deepEqual([head.status, head.reason, head.headers], [204, "", []]);
      deepEqual(text(head.raw), "HTTP/1.0 204\r\n\r\n");
    },
  );
});

Deno.test("http: readResponseHead() joins folded lines and finds fields in any case", async () => {
  await overWire(
    [
      "HTTP/1.0 302 Found\r\nLOCATION: /a\r\nX-Long: one\r\n  two\r\nset-cookie: a=1\r\n",
      "Set-Cookie: b=2\r\n\r\n",
    ],
    async (reader) => {
      const head = await readResponseHead(reader);
      deepEqual(headerValue(head, "location"), "/a");
      deepEqual(headerValue(head, "x-long"), "one two");
      deepEqual(headerValues(head, "Set-Cookie"), ["a=1", "b=2"]);
      deepEqual(headerValue(head, "Set-Cookie"), "a=1, b=2");
      deepEqual(headerValue(head, "Missing"), undefined);
    },
  );
});

Deno.test("http: readResponseHead() stops a header section over 64 KiB", async () => {
  // A hostile server: an endless stream of header lines (1 MiB here).
  const line = `X-Junk: ${"a".repeat(1000)}\r\n`;
  const pieces = ["HTTP/1.0 200 OK\r\n", ...Array.from({ length: 128 }, () => line.repeat(8))];
  await overWire(pieces, async (reader) => {
    try {
      await readResponseHead(reader);
      ok(false, "readResponseHead() should have failed");
    } catch (e) {
      ok(e instanceof ProtocolError);
      deepEqual(e.message, "The response header is longer than the limit of 65536 bytes");
    }
  });
});

Deno.test("http: readResponseHead() stops one endless header line at the limit", async () => {
  const pieces = [
    "HTTP/1.0 200 OK\r\nX-Endless: ",
    ...Array.from({ length: 64 }, () => "b".repeat(4096)),
  ];
  await overWire(pieces, async (reader) => {
    await rejects(readResponseHead(reader), /longer than the limit of 65536 bytes/);
    // It stopped reading at the limit: nothing near the 256 KiB sent is held.
    ok(reader.buffered <= MAX_HEADER_BYTES + 2, `${reader.buffered} bytes buffered`);
  });
});

Deno.test("http: readResponseHead() takes a head of exactly the limit and not one byte more", async () => {
  const make = (size: number) => {
    const start = "HTTP/1.0 200 OK\r\nX-Pad: ";
    const end = "\r\n\r\n";
    return start + "p".repeat(size - start.length - end.length) + end;
  };
  await overWire([make(MAX_HEADER_BYTES), "body"], async (reader) => {
    const head = await readResponseHead(reader);
    deepEqual(head.raw.byteLength, MAX_HEADER_BYTES);
  });
  await overWire([make(MAX_HEADER_BYTES + 1), "body"], async (reader) => {
    await rejects(readResponseHead(reader), /longer than the limit/);
  });
  await overWire([make(200)], async (reader) => {
    await rejects(readResponseHead(reader, { maxBytes: 199 }), /limit of 199 bytes/);
  });
});

Deno.test("http: readResponseHead() takes lines that end in a bare LF, as RFC 9112 lets a client", async () => {
  await overWire(["HTTP/1.0 200 OK\nContent-Length: 2\r\nX-B: b\n", "\nok"], async (reader) => {
    const parsed = await readResponseHead(reader);
    deepEqual([parsed.status, parsed.reason], [200, "OK"]);
    deepEqual(parsed.headers, [["Content-Length", "2"], ["X-B", "b"]]);
    deepEqual(text(parsed.raw), "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nX-B: b\r\n\r\n");
    const rest = new Uint8Array(8);
    deepEqual(text(rest.subarray(0, (await reader.read(rest))!)), "ok");
  });
});

Deno.test("http: readResponseHead() rejects malformed and missing responses", async () => {
  const cases: [string[], RegExp][] = [
    [[], /closed the connection without sending a response/],
    [
      ["<html>no status line</html>\r\n\r\n"],
      /Malformed HTTP status line "<html>no status line<\/html>"/,
    ],
    [["HTTP/1.0 20 OK\r\n\r\n"], /Malformed HTTP status line/],
    // Three digits, but no HTTP status (100 to 599): a bad answer, not an HTTP error.
    [["HTTP/1.0 999 Weird\r\n\r\nbody"], /Invalid HTTP status "HTTP\/1.0 999 Weird"/],
    [["HTTP/1.0 600 X\r\n\r\n"], /Invalid HTTP status/],
    [["HTTP/1.0 099 X\r\n\r\n"], /Invalid HTTP status/],
    [["HTTP/1.0 200 OK\r\nContent-Length: 5\r\n"], /closed inside the response header/],
    [["HTTP/1.0 200 OK\r\nContent-Le"], /closed inside the response header/],
    [["HTTP/1.0 200 OK\r\nNo colon here\r\n\r\n"], /Malformed HTTP header line "No colon here"/],
    [["HTTP/1.0 200 OK\r\n continued first\r\n\r\n"], /Malformed HTTP header line/],
    [["HTTP/1.0 200 OK\r\nX-Nul: a\x00b\r\n\r\n"], /Malformed HTTP header line "X-Nul: a\\x00b"/],
    // Escaped as every peer's text is (`\x1b`), not in JSON's way (`\u001b`).
    [["HTTP/1.0 200 OK\r\nX-Esc: \x1b[2J\r\n\r\n"], /header line "X-Esc: \\x1b\[2J"$/],
    [["HTTP/1.0 200 OK\r\nBad Name: x\r\n\r\n"], /Malformed HTTP header line/],
    [["HTTP/1.1 101 Switching Protocols\r\n\r\n"], /Unexpected 101/],
    // A CR alone is no line end, and no character of a field either.
    [["HTTP/1.0 200 OK\rContent-Length: 0\r\r"], /closed inside the response header/],
    [["HTTP/1.0 200 OK\r\nX-A: a\rb\r\n\r\n"], /Malformed HTTP header line/],
  ];
  for (const [pieces, expected] of cases) {
    await overWire(pieces, async (reader) => {
      await rejects(readResponseHead(reader), (e: unknown) => {
        ok(e instanceof ProtocolError, `${JSON.stringify(pieces)}: ${e}`);
        ok(expected.test(e.message), `${JSON.stringify(pieces)}: ${e.message}`);
        return true;
      });
    });
  }
});
