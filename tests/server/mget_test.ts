/**
 * The server's side of MGET (feature "mget"): each path answered in order
 * as its GET would be, marked with its index and the request's id; one
 * path's refusal does not stop the others; a malformed MGET gets one error
 * frame without an index, and the session goes on.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { readBodyHeader, readTrailer } from "../../lib/protocol/body_format.ts";
import { readExact } from "../../lib/framing/read_exact.ts";
import type { Reply } from "../../lib/protocol/messages.ts";
import { MAX_MGET_PATHS } from "../../lib/protocol/limits.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { type RawSession, startTestServer } from "./helpers.ts";
import { sha256 } from "../helpers.ts";

const decoder = new TextDecoder();

/** Reads one answer of an MGET: its reply, and its body when it succeeded. */
async function answer(raw: RawSession): Promise<{ reply: Reply; text?: string }> {
  const reply = await raw.receive();
  if (!reply.ok) return { reply };
  const size = await readBodyHeader(raw.reader);
  equal(size, reply.size);
  const data = await readExact(raw.reader, size!);
  equal(await readTrailer(raw.reader, "sha256"), sha256(data));
  return { reply, text: decoder.decode(data) };
}

Deno.test("server: MGET answers each path in order, with its index and the id; a refused path does not stop the others", async () => {
  await using srv = await startTestServer({
    files: { "a.txt": "alpha", "d/b.txt": "beta", "d/e/": "", "empty": "" },
  });
  using raw = await srv.raw("BFTP/2 sha256");
  ok(raw.hello?.ok && (raw.hello.features as string[]).includes("mget"));
  await raw.send({
    op: "MGET",
    paths: ["a.txt", "missing", "d/b.txt", "d/e", "../../etc/passwd", "empty", "a.txt/"],
    id: 7,
  });
  const answers = [];
  for (let i = 0; i < 7; i++) answers.push(await answer(raw));
  deepEqual(answers.map((a) => a.reply.index), [0, 1, 2, 3, 4, 5, 6]);
  deepEqual(answers.map((a) => a.reply.id), [7, 7, 7, 7, 7, 7, 7]);
  deepEqual(answers.map((a) => a.reply.ok ? a.text : a.reply.code), [
    "alpha",
    "NOT_FOUND",
    "beta",
    "IS_DIR",
    "BAD_PATH",
    "",
    // A file named in a folder's form, as `cat a.txt/` is refused.
    "NOT_DIR",
  ]);
  // The reply fields are a GET's.
  equal(answers[0]!.reply.ok && answers[0]!.reply.size, 5);
  equal(typeof (answers[0]!.reply.ok && answers[0]!.reply.mtime), "number");
  // The session goes on.
  const pwd = await raw.request({ op: "PWD" });
  equal(pwd.ok && pwd.cwd, "/");
});

Deno.test("server: MGET refuses a FIFO by name without opening it, and goes on", {
  ignore: Deno.build.os === "windows",
}, async () => {
  await using srv = await startTestServer({ files: { "a.txt": "alpha" } });
  const mkfifo = new Deno.Command("mkfifo", { args: [`${srv.root}/fifo`] });
  equal((await mkfifo.output()).code, 0);
  using raw = await srv.raw("BFTP/2 sha256");
  await raw.send({ op: "MGET", paths: ["fifo", "a.txt"], id: 1 });
  const first = await answer(raw);
  equal(!first.reply.ok && first.reply.code, "NOT_REGULAR");
  equal(first.reply.index, 0);
  const second = await answer(raw);
  equal(second.text, "alpha");
});

Deno.test("server: a malformed MGET gets one error frame without an index, and the session goes on", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "alpha" } });
  using raw = await srv.raw("BFTP/2 sha256");
  const malformed = [
    {},
    { paths: [] },
    { paths: "a.txt" },
    { paths: ["a.txt", 3] },
    { paths: Array.from({ length: MAX_MGET_PATHS + 1 }, () => "a") },
  ];
  for (const [i, fields] of malformed.entries()) {
    const reply = await raw.request({ op: "MGET", ...fields, id: i } as never);
    equal(!reply.ok && reply.code, "BAD_REQUEST", JSON.stringify(fields).slice(0, 40));
    equal(reply.index, undefined);
    equal(reply.id, i);
  }
  await raw.send({ op: "MGET", paths: ["a.txt"], id: 99 });
  equal((await answer(raw)).text, "alpha");
});

Deno.test("server: MGET reads on a read-only server, and is refused before a token", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "alpha" }, readOnly: true });
  using raw = await srv.raw("BFTP/2 sha256");
  await raw.send({ op: "MGET", paths: ["a.txt"], id: 1 });
  equal((await answer(raw)).text, "alpha");

  await using locked = await startTestServer({
    files: { "a.txt": "alpha" },
    server: { tokens: TokenSet.parse("rw s3cret-token\n", "tokens.txt"), authDelay: 10 },
  });
  using other = await locked.raw("BFTP/2 sha256");
  const refused = await other.request({ op: "MGET", paths: ["a.txt"], id: 2 } as never);
  equal(!refused.ok && refused.code, "DENIED");
  equal(refused.index, undefined);
});
