import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { formatHostPort, parseHostPort } from "../../lib/transport/address.ts";

Deno.test("transport: parseHostPort() reads names, IPv4 and bracketed IPv6", () => {
  deepEqual(parseHostPort("localhost:1"), { hostname: "localhost", port: 1 });
  deepEqual(parseHostPort("192.0.2.7:65535"), { hostname: "192.0.2.7", port: 65535 });
  deepEqual(parseHostPort("[fe80::1%eth0]:9000"), { hostname: "fe80::1%eth0", port: 9000 });
});

Deno.test("transport: parseHostPort() refuses what is not HOST:PORT, and ports outside 1 to 65535", () => {
  for (
    const text of ["9000", "host", "host:", ":9000", "::1:9000", "a b:1", "bftp://h:1", "[::1]"]
  ) {
    throws(() => parseHostPort(text), UsageError, text);
  }
  for (const text of ["host:0", "host:65536", "[::1]:0"]) {
    throws(() => parseHostPort(text), /1 to 65535/, text);
  }
});

Deno.test("transport: formatHostPort() brackets IPv6 hosts, and reads back through parseHostPort()", () => {
  equal(formatHostPort("::1", 7), "[::1]:7");
  equal(formatHostPort("127.0.0.1", 7), "127.0.0.1:7");
  for (const text of ["[::1]:7", "example.org:2525", "10.0.0.1:1"]) {
    const { hostname, port } = parseHostPort(text);
    equal(formatHostPort(hostname, port), text);
  }
});
