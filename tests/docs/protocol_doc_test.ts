/**
 * Keeps docs/PROTOCOL.md true: its worked example is replayed byte for byte
 * against a real server, and its error-code and limits tables are compared
 * with the code that defines them.
 *
 * @module
 */

import { concatBytes } from "../../lib/framing/concat.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { EXIT_CODES, isRemoteErrorCode } from "../../lib/errors.ts";
import { readFull } from "../../lib/framing/read_exact.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import * as limits from "../../lib/protocol/limits.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { startServer } from "../../lib/server/server.ts";
import { sha256, tempDir } from "../helpers.ts";

const DOC = new URL("../../docs/PROTOCOL.md", import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One message of the example: who sends it and its bytes. */
interface Message {
  from: "C" | "S";
  bytes: Uint8Array;
}

/** The lines of the fenced block whose info string is "text MARKER". */
function fencedBlock(doc: string, marker: string): string[] {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => l.trim() === "```text " + marker);
  ok(start >= 0, `docs/PROTOCOL.md has no "text ${marker}" block`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "```");
  ok(end > start, `the "${marker}" block is not closed`);
  return lines.slice(start + 1, end);
}

/** Shows bytes the way both blocks do, for readable failures. */
function show(bytes: Uint8Array): string {
  return decoder.decode(bytes).replace(/\n/g, "\\n");
}

/**
 * The hex block: "# label" starts a message; "C  hex... |ascii|" lines add
 * to it. The ASCII column must agree with the hex.
 */
function parseHexBlock(lines: string[]): Message[] {
  const messages: { from: "C" | "S"; parts: number[] }[] = [];
  let current: { from: "C" | "S"; parts: number[] } | null = null;
  for (const line of lines) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      current = null;
      continue;
    }
    const m = /^([CS]) +([0-9a-f ]+?) +\|(.*)\|$/.exec(line);
    ok(m, `Unreadable line in the hex block: "${line}"`);
    const from = m[1] as "C" | "S";
    const bytes = m[2]!.split(" ").map((h) => {
      ok(/^[0-9a-f]{2}$/.test(h), `Bad hex byte "${h}" in "${line}"`);
      return parseInt(h, 16);
    });
    ok(bytes.length <= 16, `More than 16 bytes on "${line}"`);
    const ascii = bytes.map((b) => b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".").join("");
    equal(m[3], ascii, `The ASCII column disagrees with the hex on "${line}"`);
    if (current === null) {
      current = { from, parts: [] };
      messages.push(current);
    }
    equal(from, current.from, `A message changes direction on "${line}"`);
    current.parts.push(...bytes);
  }
  return messages.map((m) => ({ from: m.from, bytes: new Uint8Array(m.parts) }));
}

/** The text block: "C: text" per message, with \n for a line feed. */
function parseTranscript(lines: string[]): Message[] {
  return lines.filter((l) => l.trim() !== "").map((line) => {
    const m = /^([CS]): (.*)$/.exec(line);
    ok(m, `Unreadable line in the transcript: "${line}"`);
    return { from: m[1] as "C" | "S", bytes: encoder.encode(m[2]!.replace(/\\n/g, "\n")) };
  });
}

/** Rows of a markdown table whose first cell is a `code`-quoted name: name -> cells. */
function tableRows(doc: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of doc.split("\n")) {
    const m = /^\|\s*`([A-Z_]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.split("|").map((c) => c.trim()));
  }
  return rows;
}

Deno.test("protocol doc: the two renderings of the worked example are the same bytes", async () => {
  const doc = await Deno.readTextFile(DOC);
  const hex = parseHexBlock(fencedBlock(doc, "bftp-example"));
  const transcript = parseTranscript(fencedBlock(doc, "bftp-transcript"));
  deepEqual(hex.map((m) => m.from), transcript.map((m) => m.from));
  hex.forEach((m, i) => equal(show(m.bytes), show(transcript[i]!.bytes), `message ${i + 1}`));
  // The example opens with the version 1 hello line and GETs a 5-byte file whose real hash it shows.
  equal(show(hex[0]!.bytes), "BFTP/1\\n");
  const body = hex.find((m) => m.from === "S" && m.bytes.byteLength === 16 + 5 + 64);
  ok(body, "no 5-byte body in the example");
  const text = decoder.decode(body.bytes);
  equal(text.slice(0, 16), "0000000000000005");
  equal(text.slice(21), sha256(text.slice(16, 21)));
});

Deno.test("protocol doc: the worked example replays byte for byte against a real server", async () => {
  const doc = await Deno.readTextFile(DOC);
  await replay(parseHexBlock(fencedBlock(doc, "bftp-example")));
});

Deno.test("protocol doc: the pipelined version 2 example replays byte for byte against a real server", async () => {
  const doc = await Deno.readTextFile(DOC);
  const messages = parseTranscript(fencedBlock(doc, "bftp-transcript-2"));
  equal(show(messages[0]!.bytes), `${limits.HELLO_LINE} sha256\\n`);
  await replay(messages);
});

/**
 * Plays the client's side of `messages` against a real server serving the example's folder:
 * consecutive messages of one side form one turn (the client's sent in one write), then
 * exactly the server's next bytes are read and compared.
 */
async function replay(messages: Message[]): Promise<void> {
  await using tmp = await tempDir();
  const dir = tmp.path;
  // The example's folder: hello.txt, "hello", mode 0644, modified 2026-01-01T00:00:00Z.
  await Deno.writeTextFile(`${dir}/hello.txt`, "hello");
  await Deno.chmod(`${dir}/hello.txt`, 0o644);
  await Deno.utime(`${dir}/hello.txt`, 1767225600, 1767225600);
  const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    try {
      for (let i = 0; i < messages.length;) {
        const from = messages[i]!.from;
        const turn: Uint8Array[] = [];
        for (; i < messages.length && messages[i]!.from === from; i++) {
          turn.push(messages[i]!.bytes);
        }
        const expected = concatBytes(turn);
        if (from === "C") {
          await writeAll(conn, expected);
        } else {
          const got = await readFull(conn, new Uint8Array(expected.byteLength), "server's turn");
          equal(show(got), show(expected));
        }
      }
      // After QUIT's reply the server hangs up: nothing more arrives.
      equal(await conn.read(new Uint8Array(1)), null);
    } finally {
      conn.close();
    }
  } finally {
    await server.close();
  }
}

Deno.test("protocol doc: the error codes table matches EXIT_CODES", async () => {
  const rows = tableRows(await Deno.readTextFile(DOC));
  const codes = Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[];
  for (const code of codes.filter(isRemoteErrorCode)) {
    ok(rows.has(code), `docs/PROTOCOL.md does not list the wire code "${code}"`);
  }
  let checked = 0;
  for (const [code, cells] of rows) {
    if (!(code in EXIT_CODES)) continue;
    const [where, , exit] = cells;
    equal(where, isRemoteErrorCode(code) ? "wire" : "client", `where "${code}" is used`);
    equal(Number(exit), EXIT_CODES[code as keyof typeof EXIT_CODES], `exit code of "${code}"`);
    checked++;
  }
  ok(checked >= 13, `only ${checked} error codes checked`);
});

Deno.test("protocol doc: the limits table matches lib/protocol/limits.ts", async () => {
  const rows = tableRows(await Deno.readTextFile(DOC));
  const entries = Object.entries(limits);
  ok(entries.length > 0);
  for (const [name, value] of entries) {
    const cells = rows.get(name);
    ok(cells, `docs/PROTOCOL.md does not list the limit "${name}"`);
    const shown = cells[0]!;
    if (typeof value === "number") {
      equal(Number(/^\d+/.exec(shown)?.[0]), value, `the value of "${name}"`);
    } else {
      equal(shown, `\`${value}\``, `the value of "${name}"`);
    }
  }
});
