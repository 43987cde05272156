import { deepEqual, throws } from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { parsePipeAddress } from "../../lib/pipe/address.ts";

Deno.test("pipe: parsePipeAddress() reads names, IPv4 and bracketed IPv6", () => {
  deepEqual(parsePipeAddress("localhost:1"), { hostname: "localhost", port: 1 });
  deepEqual(parsePipeAddress("192.0.2.7:65535"), { hostname: "192.0.2.7", port: 65535 });
  deepEqual(parsePipeAddress("[fe80::1%eth0]:9000"), { hostname: "fe80::1%eth0", port: 9000 });
});

Deno.test("pipe: parsePipeAddress() refuses what is not HOST:PORT", () => {
  for (const text of ["9000", "host", "host:", ":9000", "::1:9000", "a b:1", "bftp://h:1"]) {
    throws(() => parsePipeAddress(text), UsageError, text);
  }
  throws(() => parsePipeAddress("host:0"), /1 to 65535/);
  throws(() => parsePipeAddress("host:65536"), /1 to 65535/);
});
