import { deepEqual, equal, throws } from "node:assert/strict";
import { DEFAULT_PORT, isBftpUrl, parseBftpUrl } from "../../lib/client/url.ts";
import { formatHostPort } from "../../lib/transport/address.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("client: parseBftpUrl() reads host, port and path", () => {
  deepEqual(parseBftpUrl("bftp://127.0.0.1:9000/a/b.txt"), {
    hostname: "127.0.0.1",
    port: 9000,
    heads: [{ hostname: "127.0.0.1", port: 9000 }],
    path: "/a/b.txt",
    secure: false,
  });
  deepEqual(parseBftpUrl("bftp://files.example.org"), {
    hostname: "files.example.org",
    port: DEFAULT_PORT,
    heads: [{ hostname: "files.example.org", port: DEFAULT_PORT }],
    path: "/",
    secure: false,
  });
  equal(DEFAULT_PORT, 2121);
  deepEqual(parseBftpUrl("bftp://[::1]/x"), {
    hostname: "::1",
    port: 2121,
    heads: [{ hostname: "::1", port: 2121 }],
    path: "/x",
    secure: false,
  });
  deepEqual(parseBftpUrl("bftps://[::1]:9/x"), {
    hostname: "::1",
    port: 9,
    heads: [{ hostname: "::1", port: 9 }],
    path: "/x",
    secure: true,
  });
  deepEqual(parseBftpUrl("bftp://[fe80::1%eth0]:1/").hostname, "fe80::1%eth0");
  equal(parseBftpUrl("bftp://h:65535/").port, 65535);
  equal(parseBftpUrl("bftp://h/folder/").path, "/folder/");
});

Deno.test("client: the scheme is read in any case (RFC 3986), the rest as written", () => {
  deepEqual(parseBftpUrl("BFTP://h/A"), parseBftpUrl("bftp://h/A"));
  equal(parseBftpUrl("BfTpS://h/a").secure, true);
  equal(parseBftpUrl("BFTP://h/a").secure, false);
  deepEqual([isBftpUrl("BFTPS://h/a"), isBftpUrl("bftp:/h"), isBftpUrl("./bftp://x")], [
    true,
    false,
    false,
  ]);
});

Deno.test("client: parseBftpUrl() takes the path literally", () => {
  equal(parseBftpUrl("bftp://h/a%20b/%2e%2e").path, "/a%20b/%2e%2e");
  equal(parseBftpUrl("bftp://h/a b?c#d").path, "/a b?c#d");
  // Dots are left to the server, which resolves them inside its root.
  equal(parseBftpUrl("bftp://h/../../etc/passwd").path, "/../../etc/passwd");
  equal(parseBftpUrl("bftp://h/line\nbreak").path, "/line\nbreak");
});

Deno.test("client: parseBftpUrl() rejects what is not a bftp URL", () => {
  for (
    const bad of [
      "http://h/x",
      "bftp:/h/x",
      "bftp://",
      "bftp:///x",
      "bftp://h:0/",
      "bftp://h:65536/",
      "bftp://h:123456/",
      "bftp://h:/x",
      "bftp://h:port/x",
      "bftp://user@h/x",
      "bftp://[::1/x",
      "bftp://::1/x",
      "h/x",
      "",
    ]
  ) {
    throws(() => parseBftpUrl(bad), UsageError, bad);
  }
});

Deno.test("client: formatHostPort() brackets IPv6 addresses only", () => {
  equal(formatHostPort("127.0.0.1", 2121), "127.0.0.1:2121");
  equal(formatHostPort("example.org", 1), "example.org:1");
  equal(formatHostPort("::1", 2121), "[::1]:2121");
});

Deno.test("client: parseBftpUrl() reads a list of heads, each with its own port", () => {
  const url = parseBftpUrl("bftp://h1:9000,[::1],[fe80::1%eth0]:7,H2.example.org:9001/a/b");
  deepEqual(url.heads, [
    { hostname: "h1", port: 9000 },
    { hostname: "::1", port: DEFAULT_PORT },
    { hostname: "fe80::1%eth0", port: 7 },
    { hostname: "H2.example.org", port: 9001 },
  ]);
  deepEqual([url.hostname, url.port, url.path], ["h1", 9000, "/a/b"]);
  // A head given twice (in any case) counts once.
  deepEqual(parseBftpUrl("bftps://h:1,H:1,h:2").heads, [
    { hostname: "h", port: 1 },
    { hostname: "h", port: 2 },
  ]);
  equal(parseBftpUrl("bftps://a,b/").secure, true);
});

Deno.test("client: parseBftpUrl() refuses a bad head list in one line naming the item", () => {
  for (
    const [bad, item] of [
      ["bftp://h1,,h2/x", '""'],
      ["bftp://h1,/x", '""'],
      ["bftp://,h1/x", '""'],
      ["bftp://h1,h2:0/x", '"h2:0"'],
      ["bftp://h1,h2:70000/x", '"h2:70000"'],
      ["bftp://h1,::1/x", '"::1"'],
      ["bftp://h1,[::1/x", '"\\[::1"'],
      ["bftp://h1,u@h2/x", '"u@h2"'],
      ["bftp://h1,h 2/x", '"h 2"'],
    ] as const
  ) {
    throws(
      () => parseBftpUrl(bad),
      (e: unknown) =>
        e instanceof UsageError && !e.message.includes("\n") &&
        new RegExp(`^Invalid URL ".*": ${item} is not HOST\\[:PORT\\]`).test(e.message),
      bad,
    );
  }
});
