import { deepEqual, equal, throws } from "node:assert/strict";
import { DEFAULT_PORT, parseBftpUrl } from "../../lib/client/url.ts";
import { formatHostPort } from "../../lib/transport/address.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("client: parseBftpUrl() reads host, port and path", () => {
  deepEqual(parseBftpUrl("bftp://127.0.0.1:9000/a/b.txt"), {
    hostname: "127.0.0.1",
    port: 9000,
    path: "/a/b.txt",
    secure: false,
  });
  deepEqual(parseBftpUrl("bftp://files.example.org"), {
    hostname: "files.example.org",
    port: DEFAULT_PORT,
    path: "/",
    secure: false,
  });
  equal(DEFAULT_PORT, 2121);
  deepEqual(parseBftpUrl("bftp://[::1]/x"), {
    hostname: "::1",
    port: 2121,
    path: "/x",
    secure: false,
  });
  deepEqual(parseBftpUrl("bftps://[::1]:9/x"), {
    hostname: "::1",
    port: 9,
    path: "/x",
    secure: true,
  });
  deepEqual(parseBftpUrl("bftp://[fe80::1%eth0]:1/").hostname, "fe80::1%eth0");
  equal(parseBftpUrl("bftp://h:65535/").port, 65535);
  equal(parseBftpUrl("bftp://h/folder/").path, "/folder/");
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
