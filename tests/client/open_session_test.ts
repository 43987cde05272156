import { equal, rejects } from "node:assert/strict";
import { RemoteError, TimeoutError } from "../../lib/errors.ts";
import { openSession } from "../../lib/client/open_session.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { startServer } from "../../lib/server/server.ts";
import { tempDir } from "../helpers.ts";

Deno.test("client/open_session: a server that accepts and says nothing is given up on within the connect timeout", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const started = performance.now();
  await rejects(
    openSession({ hostname: "127.0.0.1", port: listener.addr.port, connectTimeout: 0.3 }),
    (e) => e instanceof TimeoutError && /no BFTP hello within 0.3 s/.test(e.message),
  );
  equal(performance.now() - started < 5_000, true);
  for (const conn of held) conn.close();
  listener.close();
  await accepting.catch(() => {});
});

Deno.test("client/open_session: a server that requires a token is refused at once without one, and opened with it", async () => {
  await using tmp = await tempDir();
  const server = startServer({
    root: await ServedRoot.open(tmp.path),
    port: 0,
    tokens: TokenSet.parse("ro look", "tokens.txt"),
  });
  try {
    const address = { hostname: "127.0.0.1", port: server.addr.port };
    await rejects(
      openSession(address),
      (e) => e instanceof RemoteError && e.code === "DENIED" && /--token/.test(e.message),
    );
    const session = await openSession({ ...address, token: "look" });
    equal(session.readOnly, true);
    equal(session.hello.auth, "token");
    session.watch.close();
    session.conn.close();
  } finally {
    await server.close();
  }
});
