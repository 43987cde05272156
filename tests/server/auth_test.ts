import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { RemoteError, UsageError } from "../../lib/errors.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { MAX_AUTH_FAILURES } from "../../lib/server/limits.ts";
import { startTestServer } from "./helpers.ts";

const TOKEN = "rw-7f3a9c1e5b";
const RO_TOKEN = "ro-2d8e4a6c0f";

function tokens(): TokenSet {
  return TokenSet.parse(`# test tokens\nrw ${TOKEN}\n\n  ro ${RO_TOKEN}  \n`, "tokens.txt");
}

Deno.test("server: TokenSet reads rw and ro lines and checks tokens", () => {
  const set = tokens();
  equal(set.size, 2);
  equal(set.check(TOKEN), "rw");
  equal(set.check(RO_TOKEN), "ro");
  equal(set.check(""), null);
  equal(set.check(TOKEN + "x"), null);
  equal(set.check(TOKEN.slice(0, -1)), null);
  // A token listed both ways grants read-write.
  const both = TokenSet.parse(`ro same\nrw same\n`, "f");
  equal(both.check("same"), "rw");
  // Digests survive the trip to a worker; the tokens themselves are not in them.
  const copy = TokenSet.fromDigests(set.toDigests());
  equal(copy.check(RO_TOKEN), "ro");
  ok(!JSON.stringify(set.toDigests().map((d) => [...d.digest])).includes(TOKEN));
});

Deno.test("server: a malformed token file is refused without showing a token", () => {
  for (const text of ["rw\n", "xx secret-1\n", "rw two words\n", "# only a comment\n", ""]) {
    let caught: unknown;
    try {
      TokenSet.parse(text, "t.txt");
    } catch (e) {
      caught = e;
    }
    ok(caught instanceof UsageError, JSON.stringify(text));
    ok(!caught.message.includes("secret-1"), caught.message);
  }
  throws(() => new TokenSet().add("with space", "rw"), UsageError);
  throws(() => new TokenSet().add("", "rw"), UsageError);
});

Deno.test("server: without a token a client gets nothing beyond the handshake", async () => {
  await using srv = await startTestServer({
    files: { "secret.txt": "classified" },
    server: { tokens: tokens(), authDelay: 10 },
  });
  using raw = await srv.raw();
  deepEqual(raw.hello?.ok && raw.hello.auth, "token");
  for (
    const req of [
      { op: "PWD" },
      { op: "LIST", path: "/" },
      { op: "GET", path: "secret.txt" },
      { op: "STAT", path: "secret.txt" },
      { op: "HASH", path: "secret.txt" },
      { op: "PUT", path: "x", size: 1, overwrite: true },
      { op: "DELETE", path: "secret.txt" },
    ] as const
  ) {
    const reply = await raw.request(req);
    equal(reply.ok, false, req.op);
    if (!reply.ok) {
      equal(reply.code, "DENIED");
      ok(!reply.message.includes("classified"));
    }
  }
  // Refused requests are not wrong tokens: the session is still open, and a good AUTH opens it.
  deepEqual(await raw.request({ op: "AUTH", token: TOKEN }), { ok: true, readOnly: false });
  deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
  // The real client refuses to go on without a token, before sending any request.
  await rejects(srv.connect(), (e) => e instanceof RemoteError && e.code === "DENIED");
  equal(await Deno.readTextFile(`${srv.root}/secret.txt`), "classified");
});

Deno.test("server: an eager PUT before a token is refused and the connection closed, its body never read as requests", async () => {
  await using srv = await startTestServer({ server: { tokens: tokens(), authDelay: 10 } });
  using raw = await srv.raw("BFTP/2");
  await raw.send({ op: "PUT", path: "x", size: 5, overwrite: true, eager: true, id: 2 });
  // The body and trailer, then a request that a server out of step would answer.
  await raw.write(new TextEncoder().encode("0000000000000005hello" + "0".repeat(32)));
  await raw.send({ op: "PWD", id: 3 });
  const reply = await raw.receive();
  equal(reply.ok, false);
  if (!reply.ok) deepEqual([reply.code, reply.id], ["DENIED", 2]);
  await rejects(raw.receive(), /closed the connection/);
  await rejects(Deno.stat(`${srv.root}/x`), Deno.errors.NotFound);
});

Deno.test("server: a wrong token is answered after the delay, and 3 of them close the connection", async () => {
  const DELAY = 300;
  await using srv = await startTestServer({ server: { tokens: tokens(), authDelay: DELAY } });
  using raw = await srv.raw();
  for (let i = 1; i <= MAX_AUTH_FAILURES; i++) {
    const started = performance.now();
    const reply = await raw.request({ op: "AUTH", token: `guess-${i}` });
    const waited = performance.now() - started;
    ok(waited >= DELAY - 20, `answered after ${waited.toFixed(0)} ms`);
    equal(reply.ok, false);
    if (!reply.ok) equal(reply.code, "DENIED");
  }
  // The third wrong token ended the session: the connection is closed.
  equal(await raw.reader.read(new Uint8Array(1)), null);
  ok(srv.log.some((l) => l.includes(`closed after ${MAX_AUTH_FAILURES} wrong tokens`)));
  // A right token is answered at once.
  const started = performance.now();
  using client = await srv.connect({ token: TOKEN });
  ok(performance.now() - started < DELAY, "no delay for the right token");
  equal(await client.pwd(), "/");
});

Deno.test("server: a read-only token reads but every change is DENIED", async () => {
  await using srv = await startTestServer({
    files: { "a.txt": "A", "d/": "" },
    server: { tokens: tokens(), authDelay: 10 },
  });
  using ro = await srv.connect({ token: RO_TOKEN });
  equal(ro.readOnly, true);
  const sink = {
    bytes: 0,
    write: (p: Uint8Array) => Promise.resolve((sink.bytes += p.length, p.length)),
  };
  await ro.get("a.txt", sink);
  equal(sink.bytes, 1);
  const denied = async (action: () => Promise<unknown>) =>
    await rejects(
      action,
      (e) => e instanceof RemoteError && e.code === "DENIED" && /read-only/.test(e.message),
    );
  await denied(() => ro.put("new.txt", { read: () => Promise.resolve(null) }, { size: 0 }));
  await denied(() => ro.delete("a.txt"));
  await denied(() => ro.mkdir("e"));
  await denied(() => ro.rmdir("d"));
  await denied(() => ro.rename("a.txt", "b.txt"));
  equal(await ro.pwd(), "/", "the session goes on");
  using rw = await srv.connect({ token: TOKEN });
  equal(rw.readOnly, false);
  await rw.mkdir("e");
  deepEqual((await rw.list("/")).map((e) => e.name), ["a.txt", "d", "e"]);
});

Deno.test("server: tokens never appear in the log", async () => {
  await using srv = await startTestServer({ server: { tokens: tokens(), authDelay: 10 } });
  using raw = await srv.raw();
  await raw.request({ op: "AUTH", token: "wrong-token-0451" });
  await raw.request({ op: "AUTH", token: TOKEN });
  await raw.request({ op: "PWD" });
  using ro = await srv.connect({ token: RO_TOKEN });
  await ro.pwd();
  const log = srv.log.join("\n");
  ok(
    /AUTH DENIED/.test(log) && /AUTH ok \(read-write\)/.test(log) &&
      /AUTH ok \(read-only\)/.test(log),
    log,
  );
  for (const secret of [TOKEN, RO_TOKEN, "wrong-token-0451"]) ok(!log.includes(secret), secret);
});

Deno.test("server: a server without tokens says no auth, and accepts a needless AUTH", async () => {
  await using srv = await startTestServer();
  using raw = await srv.raw();
  equal(raw.hello?.ok && raw.hello.auth, undefined);
  deepEqual(await raw.request({ op: "AUTH", token: "anything" }), { ok: true, readOnly: false });
  using client = await srv.connect({ token: "anything" });
  equal(await client.pwd(), "/");
});

Deno.test("server: a second AUTH is BAD_REQUEST, and a read-only session stays read-only", async () => {
  await using srv = await startTestServer({ server: { tokens: tokens(), authDelay: 10 } });
  using raw = await srv.raw();
  deepEqual(await raw.request({ op: "AUTH", token: RO_TOKEN }), { ok: true, readOnly: true });
  for (const token of [TOKEN, RO_TOKEN, "not-a-token"]) {
    const again = await raw.request({ op: "AUTH", token });
    equal(!again.ok && again.code, "BAD_REQUEST", token);
    ok(!again.ok && /Already authenticated/.test(again.message));
  }
  const put = await raw.request({ op: "PUT", path: "x.txt", size: 0, overwrite: true });
  equal(!put.ok && put.code, "DENIED", "still read-only");
  deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
});
