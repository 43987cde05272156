import { deepEqual, equal, throws } from "node:assert/strict";
import { remoteTarget } from "../../lib/check/target.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("check: remoteTarget() gives a bftps:// URL TLS options, so it is never checked in the clear", () => {
  const bare = remoteTarget("bftps://127.0.0.1:2121/tmp");
  deepEqual(bare.connection, { tls: {} });
  equal(bare.description, "bftps://127.0.0.1:2121/tmp");
  const pinned = remoteTarget("bftps://127.0.0.1/", {
    tls: { fingerprint: "AB:CD" },
    token: "t",
  });
  deepEqual(pinned.connection, { tls: { fingerprint: "AB:CD" }, token: "t" });
  equal(pinned.port, 2121);
});

Deno.test("check: remoteTarget() keeps a bftp:// URL plain and refuses TLS options for it", () => {
  deepEqual(remoteTarget("bftp://127.0.0.1/", { token: "t" }).connection, { token: "t" });
  throws(() => remoteTarget("bftp://127.0.0.1/", { tls: {} }), UsageError);
  throws(() => remoteTarget("http://127.0.0.1/"), UsageError);
});
