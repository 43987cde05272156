import { deepEqual, throws } from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { formatHostPort, parseHostPort } from "../../lib/echo/host_port.ts";

Deno.test("echo: parseHostPort() reads names, IPv4 and bracketed IPv6", () => {
  deepEqual(parseHostPort("localhost:2525"), { hostname: "localhost", port: 2525 });
  deepEqual(parseHostPort("10.0.0.1:0"), { hostname: "10.0.0.1", port: 0 });
  deepEqual(parseHostPort("[fe80::1]:65535"), { hostname: "fe80::1", port: 65535 });
  deepEqual(formatHostPort(parseHostPort("[::1]:7")), "[::1]:7");
});

Deno.test("echo: parseHostPort() refuses what is not HOST:PORT", () => {
  for (const bad of ["localhost", ":2525", "::1:2525", "host:65536", "host:-1", "host:", "[::1]"]) {
    throws(() => parseHostPort(bad), UsageError, bad);
  }
});
