import { deepEqual, throws } from "node:assert/strict";
import { parseHttpUrl, resolveLocation } from "../../lib/http/url.ts";

Deno.test("http: parseHttpUrl() takes the seed's deep path and query examples", () => {
  const search = parseHttpUrl("http://www.google.co.il/search?q=python+socket+programming");
  deepEqual(search.hostname, "www.google.co.il");
  deepEqual(search.port, 80);
  deepEqual(search.path, "/search?q=python+socket+programming");
  deepEqual(search.host, "www.google.co.il");
  const deep = parseHttpUrl("http://www.cs.uic.edu/~jbell/CourseNotes/OperatingSystems/index.html");
  deepEqual(deep.path, "/~jbell/CourseNotes/OperatingSystems/index.html");
});

Deno.test("http: parseHttpUrl() uses default and explicit ports", () => {
  deepEqual(parseHttpUrl("https://example.com/").port, 443);
  deepEqual(parseHttpUrl("https://example.com/").authority, "example.com:443");
  const explicit = parseHttpUrl("http://example.com:8080/x");
  deepEqual([explicit.port, explicit.host], [8080, "example.com:8080"]);
  // An explicit default port is not repeated in the Host header.
  deepEqual(parseHttpUrl("http://example.com:80/").host, "example.com");
});

Deno.test("http: parseHttpUrl() unbrackets IPv6 literals for connecting only", () => {
  const t = parseHttpUrl("http://[::1]:8080/");
  deepEqual(t.hostname, "::1");
  deepEqual(t.host, "[::1]:8080");
  deepEqual(t.authority, "[::1]:8080");
  deepEqual(parseHttpUrl("https://[2001:db8::1]/").authority, "[2001:db8::1]:443");
});

Deno.test("http: parseHttpUrl() drops the fragment and defaults the scheme to http", () => {
  const t = parseHttpUrl("example.com/a b?x=1#frag");
  deepEqual(t.scheme, "http");
  deepEqual(t.path, "/a%20b?x=1");
  deepEqual(t.href, "http://example.com/a%20b?x=1");
});

Deno.test("http: parseHttpUrl() rejects what it cannot fetch", () => {
  throws(() => parseHttpUrl("ftp://example.com/"), /Unsupported URL scheme "ftp"/);
  throws(() => parseHttpUrl("http://user:pw@example.com/"), /Credentials/);
  throws(() => parseHttpUrl("http://example.com:0/"), /Invalid port 0/);
  throws(() => parseHttpUrl("http://exa mple.com/"), /Invalid URL/);
  throws(() => parseHttpUrl("http://[::1/"), /Invalid URL/);
});

Deno.test("http: resolveLocation() follows relative and absolute locations", () => {
  const base = parseHttpUrl("http://127.0.0.1:8000/a/b/c?x=1");
  deepEqual(resolveLocation(base, "d").href, "http://127.0.0.1:8000/a/b/d");
  deepEqual(resolveLocation(base, "../e?y=2").path, "/a/e?y=2");
  deepEqual(resolveLocation(base, "/f").href, "http://127.0.0.1:8000/f");
  deepEqual(resolveLocation(base, "//[::1]:9000/g").authority, "[::1]:9000");
  const abs = resolveLocation(base, "https://localhost/h");
  deepEqual([abs.scheme, abs.port, abs.path], ["https", 443, "/h"]);
  throws(() => resolveLocation(base, "mailto:a@b"), /Unsupported URL scheme "mailto"/);
});
