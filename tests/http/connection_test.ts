import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ConnectionError, TimeoutError, TlsError } from "../../lib/errors.ts";
import { HttpConnection } from "../../lib/http/connection.ts";
import { parseHttpUrl } from "../../lib/http/url.ts";
import { makeSelfSigned, startOpensslServer } from "./real_servers.ts";
import { tempDir } from "../helpers.ts";

/** A port with nothing listening: bound, then released. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

Deno.test("http: HttpConnection.open() reports a refused connection", async () => {
  const target = parseHttpUrl(`http://127.0.0.1:${closedPort()}/`);
  await rejects(HttpConnection.open(target), (e: unknown) => {
    ok(e instanceof ConnectionError);
    deepEqual(e.message, `Cannot connect to "127.0.0.1:${target.port}": connection refused`);
    return true;
  });
});

Deno.test("http: HttpConnection.open() reports a name that does not resolve", async () => {
  // .invalid is reserved (RFC 2606): it never resolves.
  const target = parseHttpUrl("http://no-such-host.invalid/");
  await rejects(HttpConnection.open(target), (e: unknown) => {
    ok(e instanceof ConnectionError);
    deepEqual(e.message, 'Cannot connect to "no-such-host.invalid:80": unknown host');
    return true;
  });
});

Deno.test("http: HttpConnection read() times out on a server that never answers", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const target = parseHttpUrl(`http://127.0.0.1:${listener.addr.port}/`);
  using conn = await HttpConnection.open(target, { timeout: 200 });
  using _silent = await accepted;
  const started = performance.now();
  await rejects(conn.read(new Uint8Array(10)), (e: unknown) => {
    ok(e instanceof TimeoutError);
    deepEqual(e.message, `No progress from "127.0.0.1:${target.port}" for 0.2 s`);
    return true;
  });
  const waited = performance.now() - started;
  ok(waited >= 190 && waited < 3000, `waited ${waited} ms`);
});

Deno.test("http: HttpConnection keeps a slow but steady server alive past the timeout", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  using conn = await HttpConnection.open(
    parseHttpUrl(`http://127.0.0.1:${listener.addr.port}/`),
    { timeout: 300 },
  );
  const peer = await accepted;
  const sending = (async () => {
    try {
      // Six bytes, 80 ms apart: 480 ms in all, never 300 ms idle.
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 80));
        await peer.write(new Uint8Array([i]));
      }
    } finally {
      peer.close();
    }
  })();
  let total = 0;
  for (
    let n = await conn.read(new Uint8Array(10));
    n !== null;
    n = await conn.read(new Uint8Array(10))
  ) {
    total += n;
  }
  await sending;
  deepEqual(total, 6);
});

Deno.test("http: HttpConnection is closed by its abort signal", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const controller = new AbortController();
  using conn = await HttpConnection.open(
    parseHttpUrl(`http://127.0.0.1:${listener.addr.port}/`),
    { signal: controller.signal, timeout: 0 },
  );
  using _silent = await accepted;
  setTimeout(() => controller.abort(), 50);
  await rejects(conn.read(new Uint8Array(10)), (e: unknown) => {
    ok(e instanceof ConnectionError);
    ok(e.message.startsWith("Interrupted"), e.message);
    return true;
  });
});

Deno.test("http: HttpConnection.open() verifies TLS against --cacert, fails without it", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const cert = await makeSelfSigned(dir);
  await using server = await startOpensslServer(dir, cert);
  const target = parseHttpUrl(server.url("https", "/"));
  await rejects(HttpConnection.open(target, { timeout: 10000 }), (e: unknown) => {
    ok(e instanceof TlsError, String(e));
    // In words, as a BFTP connection's: not the TLS library's code.
    equal(
      e.message,
      `Cannot verify the certificate of "127.0.0.1:${server.port}": it is not signed by a trusted authority; ` +
        "give --cacert FILE with the certificate that signed it",
    );
    return true;
  });
  const pem = await Deno.readTextFile(cert.certFile);
  for (const host of ["127.0.0.1", "[::1]", "localhost"]) {
    using conn = await HttpConnection.open(parseHttpUrl(server.url("https", "/", host)), {
      caCerts: [pem],
      timeout: 10000,
    });
    ok(conn instanceof HttpConnection);
  }
});
