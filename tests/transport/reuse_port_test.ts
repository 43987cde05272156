import { equal, throws } from "node:assert/strict";
import { ConnectionError } from "../../lib/errors.ts";
import { reservePort } from "../../lib/transport/reuse_port.ts";

Deno.test("transport: a reserved port is held for the pool's workers until released", () => {
  const held = reservePort("127.0.0.1", 0);
  const port = held.addr.port;
  // A worker joins the group; anyone else (a plain listener, another pool) is refused.
  using worker = Deno.listen({ hostname: "127.0.0.1", port, reusePort: true });
  equal(worker.addr.port, port);
  throws(() => Deno.listen({ hostname: "127.0.0.1", port }), Deno.errors.AddrInUse);
  throws(() => reservePort("127.0.0.1", port), Deno.errors.AddrInUse);
  held.release();
  held.release();
});

Deno.test("transport: reserving a port on an unknown host says so", () => {
  throws(() => reservePort("nosuch.invalid", 0), (e) => {
    equal(
      e instanceof ConnectionError && e.message,
      'Cannot listen on "nosuch.invalid:0": unknown host',
    );
    return true;
  });
});
