// One HTTP/1 line (lib/http/line.ts): CRLF or a bare LF ends it, split anywhere across reads;
// its length on the wire; the limit with and without a CR; the end of the stream before and
// inside a line.

import { deepEqual, equal, rejects } from "node:assert/strict";
import { ProtocolError, UnexpectedEofError } from "../../lib/errors.ts";
import { readHttpLine } from "../../lib/http/line.ts";
import { overWire } from "./wire.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("http: readHttpLine() takes CRLF and a bare LF as a line's end, however the reads split them", async () => {
  await overWire(["ab\r", "\ncd", "\n\r", "\n"], async (reader) => {
    const lines = [];
    for (let read; (read = await readHttpLine(reader, 8)) !== null;) {
      lines.push([text(read.line), read.length]);
    }
    deepEqual(lines, [["ab", 4], ["cd", 3], ["", 2]]);
  });
});

Deno.test("http: readHttpLine() takes at most `max` bytes before the end, a CR aside", async () => {
  await overWire(["abcd\r\nabcd\nabcde\n"], async (reader) => {
    equal(text((await readHttpLine(reader, 4))!.line), "abcd");
    equal(text((await readHttpLine(reader, 4))!.line), "abcd");
    await rejects(readHttpLine(reader, 4), ProtocolError);
  });
});

Deno.test("http: readHttpLine() gives null at the end of the stream, and refuses a line cut by it", async () => {
  await overWire(["done\n"], async (reader) => {
    equal(text((await readHttpLine(reader, 8))!.line), "done");
    equal(await readHttpLine(reader, 8), null);
  });
  await overWire(["no end"], async (reader) => {
    await rejects(readHttpLine(reader, 8), UnexpectedEofError);
  });
});
