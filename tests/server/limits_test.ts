import { equal, ok, rejects } from "node:assert/strict";
import { ConnectionError, RemoteError } from "../../lib/errors.ts";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { startTestServer } from "./helpers.ts";

Deno.test("server: one address over the per-client limit gets BUSY, others do not", async () => {
  // Listening on "::" takes IPv4 too: 127.0.0.1 arrives as ::ffff:127.0.0.1 and counts
  // as 127.0.0.1, while ::1 is another address.
  await using srv = await startTestServer({ server: { hostname: "::", maxPerClient: 2 } });
  using one = await srv.connect();
  using two = await srv.connect();
  await srv.waitForConnections(2);
  await rejects(
    srv.connect(),
    (e) => e instanceof RemoteError && e.code === "BUSY" && /from one address/.test(e.message),
  );
  ok(srv.log.some((l) => /refused: BUSY \(limit of 2 per client address\)/.test(l)));
  using other = await srv.connect({ hostname: "::1" });
  equal(await other.pwd(), "/");
  await two.quit();
  await srv.waitForConnections(2);
  using three = await srv.connect();
  equal(await three.pwd(), "/");
  equal(await one.pwd(), "/");
});

Deno.test("server: a client that never sends the hello is dropped after the handshake timeout", async () => {
  await using srv = await startTestServer({ server: { handshakeTimeout: 0.3 } });
  using silent = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
  const started = performance.now();
  equal(await silent.read(new Uint8Array(16)), null);
  const waited = performance.now() - started;
  ok(waited >= 250 && waited < 3000, `dropped after ${waited.toFixed(0)} ms`);
  ok(srv.log.some((l) => /dropped: no complete handshake within 0.3s/.test(l)), srv.log.join("\n"));
  await srv.waitForConnections(0);
  // A client that does its handshake is not dropped.
  using client = await srv.connect();
  await new Promise((r) => setTimeout(r, 500));
  equal(await client.pwd(), "/");
});

Deno.test("server: the handshake timeout covers AUTH when tokens are required", async () => {
  const tokens = new TokenSet();
  tokens.add("t0k3n", "rw");
  await using srv = await startTestServer({
    server: { handshakeTimeout: 0.4, tokens, authDelay: 10 },
  });
  // Says hello but never sends a token: dropped.
  using raw = await srv.raw();
  const started = performance.now();
  equal(await raw.reader.read(new Uint8Array(16)), null);
  ok(performance.now() - started < 3000);
  // With the token in time, the session outlives the timeout.
  using client = await srv.connect({ token: "t0k3n" });
  await new Promise((r) => setTimeout(r, 600));
  equal(await client.pwd(), "/");
});

Deno.test("server: a hello dripped byte by byte is still bound by the handshake timeout", async () => {
  await using srv = await startTestServer({ server: { handshakeTimeout: 0.5 } });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
  const hello = encodeDelimited("BFTP/1");
  let cut: unknown = null;
  try {
    for (const byte of hello.subarray(0, -1)) {
      await writeAll(conn, new Uint8Array([byte]));
      await new Promise((r) => setTimeout(r, 150));
    }
  } catch (e) {
    cut = e;
  }
  const n = await conn.read(new Uint8Array(16)).catch((e) => (cut = e, null));
  equal(n, null);
  ok(cut === null || cut instanceof Error);
  ok(srv.log.some((l) => /no complete handshake/.test(l)));
});

Deno.test("server: the connection limit and BUSY still hold with a token server", async () => {
  const tokens = new TokenSet();
  tokens.add("k", "rw");
  await using srv = await startTestServer({ maxConnections: 1, server: { tokens } });
  using first = await srv.connect({ token: "k" });
  await srv.waitForConnections(1);
  await rejects(
    srv.connect({ token: "k" }),
    (e) => e instanceof RemoteError && e.code === "BUSY",
  );
  equal(await first.pwd(), "/");
  ok(!(new ConnectionError("x") instanceof RemoteError));
});
