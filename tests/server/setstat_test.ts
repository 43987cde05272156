import { deepEqual, equal, ok } from "node:assert/strict";
import { expectRemoteError, startTestServer } from "./helpers.ts";

const T = 1_700_000_000_000;

Deno.test("server: SETSTAT sets a file's and a folder's time and bits; the hello offers it", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "a", "d/": "" } });
  using client = await srv.connect();
  ok(client.supports("setstat"));
  deepEqual(client.hello.features, ["setstat", "mget", "mput", "blocks"]);
  await client.setStat("/a.txt", { mtime: T, mode: 0o600 });
  await client.setStat("/d", { mtime: T + 1000 });
  const a = await Deno.stat(`${srv.root}/a.txt`);
  deepEqual([a.mtime?.getTime(), a.mode! & 0o777], [T, 0o600]);
  const d = await Deno.stat(`${srv.root}/d`);
  equal(d.mtime?.getTime(), T + 1000);
  // What LIST says afterwards is what was set.
  const listed = await client.list("/");
  deepEqual(listed.map((e) => [e.name, e.mtime]), [["a.txt", T], ["d", T + 1000]]);
  await client.setStat("/d", { mode: 0o750 });
  equal((await Deno.stat(`${srv.root}/d`)).mode! & 0o777, 0o750);
});

Deno.test("server: SETSTAT never follows a link, leaves the root alone, and says why", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "a" } });
  const outside = `${srv.base}/outside.txt`;
  await Deno.writeTextFile(outside, "outside");
  await Deno.chmod(outside, 0o644);
  const before = await Deno.stat(outside);
  await Deno.symlink(outside, `${srv.root}/out-link`);
  await Deno.symlink("a.txt", `${srv.root}/in-link`);
  using client = await srv.connect();
  const set = (path: string) => () => client.setStat(path, { mtime: T, mode: 0o777 });
  await expectRemoteError(client, set("/out-link"), "NOT_REGULAR", srv.root);
  await expectRemoteError(client, set("/in-link"), "NOT_REGULAR", srv.root);
  await expectRemoteError(client, set("/out-link/x"), "BAD_PATH", srv.root);
  await expectRemoteError(client, set("/"), "DENIED", srv.root);
  await expectRemoteError(client, set("/missing"), "NOT_FOUND", srv.root);
  await expectRemoteError(client, set("/../outside.txt"), "BAD_PATH", srv.root);
  const after = await Deno.stat(outside);
  deepEqual([after.mode, after.mtime?.getTime()], [before.mode, before.mtime?.getTime()]);
  const a = await Deno.stat(`${srv.root}/a.txt`);
  ok(a.mtime?.getTime() !== T && (a.mode! & 0o777) !== 0o777, "the link's target was changed");
});

Deno.test("server: SETSTAT on a read-only server is DENIED; without mtime and mode it is BAD_REQUEST", async () => {
  await using ro = await startTestServer({ readOnly: true, files: { "a.txt": "a" } });
  using client = await ro.connect();
  await expectRemoteError(
    client,
    () => client.setStat("/a.txt", { mtime: T }),
    "DENIED",
    ro.root,
  );
  await expectRemoteError(client, () => client.setStat("/a.txt", {}), "BAD_REQUEST", ro.root);
  await expectRemoteError(
    client,
    () => client.setStat("/a.txt", { mode: 0o1777 }),
    "BAD_REQUEST",
    ro.root,
  );
  ok((await Deno.stat(`${ro.root}/a.txt`)).mtime?.getTime() !== T);
});
