import { deepEqual, ok, rejects } from "node:assert/strict";
import { ConnectionError, IntegrityError, ProtocolError, TimeoutError } from "../../lib/errors.ts";
import { httpGet, type HttpResponseInfo } from "../../lib/http/get.ts";
import { HttpStatusError } from "../../lib/http/status_error.ts";
import { drippingHeader, ScriptedServer } from "./scripted_server.ts";
import { startPythonServer } from "./real_servers.ts";
import { tempDir } from "../helpers.ts";

/** A sink that keeps everything written to it. */
function memorySink() {
  const parts: Uint8Array[] = [];
  return {
    write: (p: Uint8Array) => (parts.push(p.slice()), Promise.resolve(p.byteLength)),
    text: () => parts.map((p) => new TextDecoder().decode(p)).join(""),
    size: () => parts.reduce((n, p) => n + p.byteLength, 0),
  };
}

/** A temp folder served by Python's http.server, removed afterwards. */
async function withPython(
  files: Record<string, string>,
  fn: (base: string, dir: string) => Promise<void>,
  bind = "127.0.0.1",
): Promise<void> {
  await using tmp = await tempDir();
  const dir = tmp.path;
  for (const [path, text] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  await using server = await startPythonServer(dir, bind);
  const host = bind.includes(":") ? `[${bind}]` : bind;
  await fn(server.url("http", "", host), dir);
}

Deno.test("http: httpGet() fetches a deep path with a query string from http.server", async () => {
  const body = "deep file\n".repeat(1000);
  await withPython({ "CourseNotes/OperatingSystems/index.html": body }, async (base) => {
    const sink = memorySink();
    const result = await httpGet(
      `${base}/CourseNotes/OperatingSystems/index.html?q=python+socket+programming`,
      sink,
    );
    deepEqual(result.head.status, 200);
    deepEqual(result.bytes, body.length);
    deepEqual(result.redirects, 0);
    deepEqual(sink.text(), body);
  });
});

Deno.test("http: httpGet() fails with HttpStatusError on 404 and writes nothing", async () => {
  await withPython({}, async (base) => {
    const sink = memorySink();
    await rejects(httpGet(`${base}/missing.txt`, sink), (e: unknown) => {
      ok(e instanceof HttpStatusError);
      deepEqual(e.status, 404);
      deepEqual(e.exitCode, 22);
      deepEqual(e.message, `Server returned HTTP 404 "File not found" for "${base}/missing.txt"`);
      return true;
    });
    deepEqual(sink.size(), 0);
  });
});

Deno.test("http: httpGet() follows http.server's relative folder redirect only when asked", async () => {
  await withPython({ "a/b/index.html": "index of b" }, async (base) => {
    const plain = memorySink();
    const first = await httpGet(`${base}/a/b?x=1`, plain);
    deepEqual(first.head.status, 301);
    deepEqual(first.bytes, 0);

    const seen: HttpResponseInfo[] = [];
    const followed = memorySink();
    const result = await httpGet(`${base}/a/b?x=1`, followed, {
      followRedirects: true,
      onResponse: (r) => void seen.push(r),
    });
    deepEqual(result.head.status, 200);
    deepEqual(result.redirects, 1);
    deepEqual(result.target.href, `${base}/a/b/?x=1`);
    deepEqual(followed.text(), "index of b");
    deepEqual(seen.map((r) => [r.head.status, r.final]), [[301, false], [200, true]]);
  });
});

Deno.test("http: httpGet() reaches an IPv6 literal URL", async () => {
  await withPython({ "six.txt": "over ::1" }, async (base) => {
    ok(base.startsWith("http://[::1]:"), base);
    const sink = memorySink();
    await httpGet(`${base}/six.txt`, sink);
    deepEqual(sink.text(), "over ::1");
  }, "::1");
});

Deno.test("http: httpGet() sends the request line and headers the issue asks for", async () => {
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.send("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const sink = memorySink();
  await httpGet(server.url("/search?q=python+socket+programming"), sink, {
    headers: [["Accept", "text/html"], ["User-Agent", "probe/1"]],
  });
  deepEqual(sink.text(), "ok");
  deepEqual(server.requests.length, 1);
  deepEqual(server.requests[0]!.line, "GET /search?q=python+socket+programming HTTP/1.0");
  deepEqual(server.requests[0]!.headers, [
    `Host: 127.0.0.1:${server.port}`,
    "User-Agent: probe/1",
    "Connection: close",
    "Accept: text/html",
  ]);
  deepEqual(server.errors, []);
});

Deno.test("http: httpGet() follows an absolute redirect to another server, without the credentials given for the first", async () => {
  await using target = new ScriptedServer(async (_req, ctx) => {
    await ctx.send("HTTP/1.0 200 OK\r\n\r\nmoved here");
  });
  await using origin = new ScriptedServer(async (_req, ctx) => {
    await ctx.send(`HTTP/1.0 302 Found\r\nLocation: ${target.url("/new?y=2")}\r\n\r\nignored`);
  });
  const sink = memorySink();
  const result = await httpGet(origin.url("/old"), sink, {
    followRedirects: true,
    headers: [
      ["Host", "custom.example"],
      ["X-Token", "t"],
      ["Authorization", "Bearer SECRET"],
      ["Cookie", "s=1"],
      ["proxy-authorization", "Basic x"],
    ],
  });
  deepEqual(sink.text(), "moved here");
  deepEqual(result.target.href, target.url("/new?y=2"));
  deepEqual(origin.requests[0]!.headers.slice(0, 1), ["Host: custom.example"]);
  ok(origin.requests[0]!.headers.includes("Authorization: Bearer SECRET"));
  // The custom Host and the credentials stay with their own origin, as curl keeps them (found by
  // an audit: another server was given the token); other headers follow the redirect.
  deepEqual(target.requests[0]!.line, "GET /new?y=2 HTTP/1.0");
  ok(target.requests[0]!.headers.includes(`Host: 127.0.0.1:${target.port}`));
  ok(target.requests[0]!.headers.includes("X-Token: t"));
  deepEqual(
    target.requests[0]!.headers.filter((h) =>
      /^(authorization|cookie|proxy-authorization):/i.test(h)
    ),
    [],
  );
});

Deno.test("http: httpGet() stops a redirect loop beyond maxRedirects", async () => {
  await using server = new ScriptedServer(async (req, ctx) => {
    const n = Number(new URL(req.path, "http://x").searchParams.get("n") ?? 0);
    await ctx.send(`HTTP/1.0 307 Temporary Redirect\r\nLocation: loop?n=${n + 1}\r\n\r\n`);
  });
  await rejects(
    httpGet(server.url("/loop"), memorySink(), { followRedirects: true, maxRedirects: 3 }),
    (e: unknown) => {
      ok(e instanceof ProtocolError);
      deepEqual(
        e.message,
        `Too many redirects: more than 3, the last to "${server.url("/loop?n=4")}"`,
      );
      return true;
    },
  );
  deepEqual(server.requests.map((r) => r.path), ["/loop", "/loop?n=1", "/loop?n=2", "/loop?n=3"]);
});

Deno.test("http: httpGet() rejects a redirect to a location it cannot fetch", async () => {
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.send("HTTP/1.0 301 Moved\r\nLocation: ftp://example.com/file\r\n\r\n");
  });
  await rejects(
    httpGet(server.url("/"), memorySink(), { followRedirects: true }),
    /Unsupported URL scheme "ftp"/,
  );
});

Deno.test("http: httpGet() decodes a chunked body a server sends anyway", async () => {
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    await ctx.send("4\r\nWiki\r\n");
    await ctx.send("6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n");
  });
  const sink = memorySink();
  const result = await httpGet(server.url("/"), sink);
  deepEqual(sink.text(), "Wikipedia in \r\n\r\nchunks.");
  deepEqual(result.bytes, 24);
});

Deno.test("http: httpGet() fails on a body cut short and a 5xx status", async () => {
  await using short = new ScriptedServer(async (_req, ctx) => {
    await ctx.send("HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(600));
  });
  await rejects(httpGet(short.url("/"), memorySink()), IntegrityError);
  await using failing = new ScriptedServer(async (_req, ctx) => {
    await ctx.send("HTTP/1.0 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
  });
  await rejects(httpGet(failing.url("/"), memorySink()), (e: unknown) => {
    ok(e instanceof HttpStatusError);
    deepEqual(e.status, 503);
    return true;
  });
});

Deno.test("http: httpGet() times out on a server that never answers", async () => {
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.closing;
  });
  await rejects(httpGet(server.url("/"), memorySink(), { timeout: 300 }), TimeoutError);
  deepEqual(server.requests.length, 1);
});

Deno.test("http: httpGet() gives up at maxTime on a server that sends a byte at a time, which the timeout never stops", async () => {
  // 4 s at most; the client hangs up long before (a send then fails, and the script ends).
  await using server = new ScriptedServer(drippingHeader(200, 20));
  const started = performance.now();
  await rejects(
    httpGet(server.url("/"), memorySink(), { timeout: 300, maxTime: 400 }),
    (e: unknown) => e instanceof TimeoutError && /took more than 0.4 s/.test(e.message),
  );
  const took = performance.now() - started;
  ok(took >= 350 && took < 3000, `${took} ms`);
});

Deno.test("http: httpGet() refuses a header section over the limit", async () => {
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.send("HTTP/1.0 200 OK\r\n");
    for (let i = 0; i < 100; i++) await ctx.send(`X-Junk-${i}: ${"j".repeat(1000)}\r\n`);
    await ctx.send("\r\nbody");
  });
  await rejects(httpGet(server.url("/"), memorySink()), /longer than the limit of 65536 bytes/);
});

Deno.test("http: httpGet() reports a server that closes without answering", async () => {
  await using server = new ScriptedServer(async () => {});
  await rejects(httpGet(server.url("/"), memorySink()), (e: unknown) => {
    ok(e instanceof ProtocolError && !(e instanceof ConnectionError));
    deepEqual(e.message, "The server closed the connection without sending a response");
    return true;
  });
});
