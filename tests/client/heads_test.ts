import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { connectHeads, headList, isHeadDown } from "../../lib/client/heads.ts";
import { parseBftpUrl, parseHostList } from "../../lib/client/url.ts";
import { headsFor } from "../../lib/cli/session.ts";
import {
  BftpError,
  ConnectionError,
  RemoteError,
  TimeoutError,
  TlsError,
  UsageError,
} from "../../lib/errors.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { startServer } from "../../lib/server/server.ts";
import { silentListener } from "../helpers.ts";

const names = (heads: { hostname: string; port: number }[]) =>
  heads.map((h) => `${h.hostname}:${h.port}`);

Deno.test("heads: the URL's heads first, then --head, then BFTP_HEADS for a URL naming one of them", () => {
  const group = parseHostList("g1:1,g2:2,u:9");
  const extra = parseHostList("x:5,u:9");
  deepEqual(
    names(headList(parseBftpUrl("bftp://u:9,g2:2/p"), { extra, group })),
    ["u:9", "g2:2", "x:5", "g1:1"],
  );
  // BFTP_HEADS is one volume's list: a URL on another server is left alone.
  deepEqual(names(headList(parseBftpUrl("bftp://other:9/p"), { group })), ["other:9"]);
  // Host names compare in any case.
  deepEqual(names(headList(parseBftpUrl("bftp://G1:1/p"), { group })), ["G1:1", "g2:2", "u:9"]);
});

Deno.test("heads: headsFor() reads --head (repeatable, lists too) and BFTP_HEADS, bad forms in one line", () => {
  const io = (env?: string) => ({ env: (n: string) => n === "BFTP_HEADS" ? env : undefined });
  const url = parseBftpUrl("bftp://a:1/x");
  deepEqual(names(headsFor(url, { head: ["b:2,c:3", "[::1]:4"] }, io())), [
    "a:1",
    "b:2",
    "c:3",
    "::1:4",
  ]);
  deepEqual(names(headsFor(url, {}, io("z:9,a:1"))), ["a:1", "z:9"]);
  deepEqual(names(headsFor(url, {}, io(""))), ["a:1"]);
  const cases: [string[], string | undefined, RegExp][] = [
    [["b:x"], undefined, /^Invalid value "b:x" for --head: "b:x" is not HOST\[:PORT\]/],
    [["::1"], undefined, /--head: "::1" is not HOST/],
    [[], "a:1,,b", /^Invalid BFTP_HEADS: "" is not HOST\[:PORT\]/],
    [[], "a:0", /^Invalid BFTP_HEADS: "a:0"/],
  ];
  for (const [head, env, pattern] of cases) {
    throws(
      () => headsFor(url, { head }, io(env)),
      (e: unknown) => e instanceof UsageError && pattern.test(e.message) && !/\n/.test(e.message),
    );
  }
});

Deno.test("heads: a head is down when it cannot be reached or is busy, not when it refuses trust or the token", () => {
  ok(isHeadDown(new ConnectionError("Cannot connect")));
  ok(isHeadDown(new RemoteError("BUSY", "Too many connections")));
  ok(!isHeadDown(new TlsError("Cannot verify the certificate")));
  // A TLS handshake the server hung up on: Deno's TLS, and node:tls.
  const reset = Object.assign(new Error("socket disconnected"), { code: "ECONNRESET" });
  ok(isHeadDown(new TlsError("TLS handshake failed", { cause: reset })));
  ok(isHeadDown(new TlsError("TLS handshake failed", { cause: new Deno.errors.UnexpectedEof() })));
  const untrusted = Object.assign(new Error("self-signed"), { code: "SELF_SIGNED_CERT_IN_CHAIN" });
  ok(!isHeadDown(new TlsError("Cannot verify the certificate", { cause: untrusted })));
  ok(!isHeadDown(new RemoteError("DENIED", "Wrong token")));
  ok(!isHeadDown(new Error("bug")));
});

/** A port where nothing listens any more. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return listener.addr.port;
}

Deno.test("heads: connectHeads() goes past refused and hung-up heads, from `start`, coming round", async () => {
  const dir = await Deno.makeTempDir();
  const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
  // A head that accepts and hangs up at once.
  const hangUp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const hangingUp = (async () => {
    for await (const conn of hangUp) conn.close();
  })();
  const refused = { hostname: "127.0.0.1", port: closedPort() };
  const closing = { hostname: "127.0.0.1", port: hangUp.addr.port };
  const up = { hostname: "127.0.0.1", port: server.addr.port };
  try {
    const down: string[] = [];
    const first = await connectHeads([refused, closing, up], {
      onHeadDown: (head, _e, next) => down.push(`${head.port}>${next?.port}`),
    });
    await first.client.quit();
    equal(first.index, 2);
    deepEqual(down, [`${refused.port}>${closing.port}`, `${closing.port}>${up.port}`]);
    // From the last head on, the list comes round to the first.
    const second = await connectHeads([up, refused], { start: 1 });
    await second.client.quit();
    equal(second.index, 0);
  } finally {
    hangUp.close();
    await hangingUp;
    await server.close();
    await Deno.remove(dir);
  }
});

Deno.test("heads: every head down is one line naming each head and why, with the connection's exit code", async () => {
  const hangUp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const hangingUp = (async () => {
    for await (const conn of hangUp) conn.close();
  })();
  const a = closedPort();
  try {
    await rejects(
      connectHeads([{ hostname: "127.0.0.1", port: a }, {
        hostname: "127.0.0.1",
        port: hangUp.addr.port,
      }]),
      (e: unknown) => {
        ok(e instanceof BftpError);
        equal(e.exitCode, 4);
        equal(
          e.message,
          `Cannot connect to any of the 2 heads: "127.0.0.1:${a}": connection refused; ` +
            `"127.0.0.1:${hangUp.addr.port}": the server closed the connection without ` +
            `answering the BFTP hello (it may be full, speak TLS (a bftps:// URL), or not be a BFTP server)`,
        );
        return true;
      },
    );
    // One head: its own error, as before.
    await rejects(
      connectHeads([{ hostname: "127.0.0.1", port: a }]),
      new RegExp(`^ConnectionError: Cannot connect to "127.0.0.1:${a}": connection refused$`),
    );
  } finally {
    hangUp.close();
    await hangingUp;
  }
});

Deno.test("heads: a head that accepts and never answers the hello is given up within the connect timeout, whatever the stall timeout", async () => {
  const dir = await Deno.makeTempDir();
  const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
  await using silent = silentListener();
  try {
    const started = performance.now();
    const { client, index } = await connectHeads([
      { hostname: "127.0.0.1", port: silent.port },
      { hostname: "127.0.0.1", port: server.addr.port },
    ], {
      connectTimeout: 1,
      stallTimeout: 300,
      onHeadDown: (_head, e) => {
        ok(e instanceof TimeoutError);
        equal(e.message, "The server sent no BFTP hello within 1 s: giving up (see --timeout)");
      },
    });
    await client.quit();
    equal(index, 1);
    const took = performance.now() - started;
    ok(took >= 900 && took < 5000, `${took} ms`);
  } finally {
    await server.close();
    await Deno.remove(dir);
  }
});
