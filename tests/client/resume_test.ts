import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import type { BftpClient } from "../../lib/client/client.ts";
import { downloadFile, uploadFile } from "../../lib/client/local.ts";
import { downloadResumable, partialPaths } from "../../lib/client/resume.ts";
import { BftpError, IntegrityError } from "../../lib/errors.ts";
import { CHECKSUMS } from "../../lib/protocol/limits.ts";
import { RESUME_PREFIX } from "../../lib/root/paths.ts";
import { randomBytes, seededRandom } from "../framing/helpers.ts";
import { hostTree, startTestServer } from "../server/helpers.ts";
import { hashIn, sha256 } from "../helpers.ts";

const SIZE = 3_000_000;

/** Progress callbacks that cut the connection once `after` bytes have moved. */
function cutAfter(client: BftpClient, after: number) {
  let moved = 0;
  return () => ({
    onProgress: (n: number) => {
      moved += n;
      if (moved >= after) client.close();
    },
  });
}

for (const checksum of CHECKSUMS) {
  Deno.test(`client: a cut resumable download continues where it stopped and checks the whole file (${checksum})`, async () => {
    const data = randomBytes(seededRandom(71), SIZE);
    await using srv = await startTestServer({ files: { "big.bin": data } });
    const dest = `${srv.base}/big.bin`;
    const { partial, state } = partialPaths(dest);
    const cut = await srv.connect({ checksums: [checksum] });
    await rejects(downloadFile(cut, "/big.bin", dest, {
      resume: true,
      progress: cutAfter(cut, 1_000_000),
    }));
    // What arrived is kept, with the version it belongs to; no DEST yet.
    const kept = (await Deno.stat(partial)).size;
    ok(kept >= 1_000_000 && kept < SIZE, `kept ${kept} bytes`);
    const saved = JSON.parse(await Deno.readTextFile(state));
    equal(saved.path, "/big.bin");
    equal(saved.version.size, SIZE);
    await rejects(Deno.stat(dest), Deno.errors.NotFound);
    using client = await srv.connect({ checksums: [checksum] });
    const result = await downloadFile(client, "/big.bin", dest, { resume: true });
    deepEqual(result, { size: SIZE, checksum, hash: await hashIn(checksum, data) });
    equal(sha256(await Deno.readFile(dest)), sha256(data));
    await rejects(Deno.stat(partial), Deno.errors.NotFound);
    await rejects(Deno.stat(state), Deno.errors.NotFound);
    // Only the rest crossed the wire the second time.
    ok(
      srv.log.some((l) => l.includes(`GET "/big.bin" from ${kept} ok ${SIZE - kept}B`)),
      srv.log.join("\n"),
    );
  });
}

Deno.test("client: resuming a download whose remote file changed is refused, and starts afresh next time", async () => {
  const data = randomBytes(seededRandom(72), SIZE);
  await using srv = await startTestServer({ files: { "f.bin": data } });
  const dest = `${srv.base}/f.bin`;
  const cut = await srv.connect();
  await rejects(downloadResumable(cut, "/f.bin", dest, { progress: cutAfter(cut, 500_000) }));
  const changed = randomBytes(seededRandom(73), SIZE + 10);
  await Deno.writeFile(`${srv.root}/f.bin`, changed);
  using client = await srv.connect();
  await rejects(
    downloadResumable(client, "/f.bin", dest),
    (e) => e instanceof BftpError && e.code === "CHANGED" && e.exitCode === 9,
  );
  const { partial, state } = partialPaths(dest);
  await rejects(Deno.stat(partial), Deno.errors.NotFound);
  await rejects(Deno.stat(state), Deno.errors.NotFound);
  await rejects(Deno.stat(dest), Deno.errors.NotFound);
  const result = await downloadResumable(client, "/f.bin", dest);
  equal(result.hash, await hashIn(result.checksum, changed));
  equal(sha256(await Deno.readFile(dest)), sha256(changed));
});

Deno.test("client: a file changed in place, same size and time, is never glued to the old part", async () => {
  const data = randomBytes(seededRandom(74), SIZE);
  await using srv = await startTestServer({ files: { "g.bin": data } });
  const remote = `${srv.root}/g.bin`;
  const { mtime } = await Deno.stat(remote);
  const dest = `${srv.base}/g.bin`;
  const cut = await srv.connect();
  await rejects(downloadResumable(cut, "/g.bin", dest, { progress: cutAfter(cut, 500_000) }));
  // Same size, same modification time, other bytes before and after the cut. (Changes on
  // one side only could leave either version whole: never a mix of the two.)
  const changed = data.slice();
  changed.fill(0x55, 0, 200_000);
  changed.fill(0x55, SIZE - 200_000);
  await Deno.writeFile(remote, changed);
  await Deno.utime(remote, mtime!, mtime!);
  using client = await srv.connect();
  await rejects(downloadResumable(client, "/g.bin", dest), IntegrityError);
  await rejects(Deno.stat(dest), Deno.errors.NotFound);
  await rejects(Deno.stat(partialPaths(dest).partial), Deno.errors.NotFound);
});

Deno.test("client: a plain download removes a stale partial file, and a partial of another path is not used", async () => {
  const data = randomBytes(seededRandom(75), 100_000);
  await using srv = await startTestServer({ files: { "a.bin": data, "b.bin": data.slice(1) } });
  const dest = `${srv.base}/x.bin`;
  const { partial, state } = partialPaths(dest);
  // A partial download of /b.bin sits where /a.bin would resume.
  await Deno.writeFile(partial, data.slice(1, 50_001));
  await Deno.writeTextFile(
    state,
    JSON.stringify({ path: "/b.bin", version: { size: 99_999, mtime: null } }),
  );
  using client = await srv.connect();
  const result = await downloadResumable(client, "/a.bin", dest);
  equal(result.hash, await hashIn("xxh3-128", data));
  ok(!srv.log.some((l) => / from /.test(l)), "no resumed GET");
  await Deno.writeFile(partial, data.slice(0, 10));
  await downloadFile(client, "/a.bin", dest);
  await rejects(Deno.stat(partial), Deno.errors.NotFound);
});

for (const checksum of CHECKSUMS) {
  Deno.test(`client: a cut resumable upload continues from what the server kept (${checksum})`, async () => {
    const data = randomBytes(seededRandom(76), SIZE);
    await using srv = await startTestServer();
    const source = `${srv.base}/src.bin`;
    await Deno.writeFile(source, data);
    const cut = await srv.connect({ checksums: [checksum] });
    await rejects(uploadFile(cut, source, "/up.bin", {
      resume: true,
      progress: cutAfter(cut, 1_000_000),
    }));
    await srv.waitForConnections(0);
    const tree = await hostTree(srv.root);
    equal(tree.length, 1);
    ok(tree[0]!.startsWith(RESUME_PREFIX), tree[0]);
    using client = await srv.connect({ checksums: [checksum] });
    const result = await uploadFile(client, source, "/up.bin", { resume: true });
    deepEqual(result, { size: SIZE, checksum, hash: await hashIn(checksum, data) });
    equal(sha256(await Deno.readFile(`${srv.root}/up.bin`)), sha256(data));
    deepEqual(await hostTree(srv.root), ["up.bin"]);
    ok(
      srv.log.some((l) => /PUT "\/up.bin" resuming at \d+ of 3000000 bytes/.test(l)),
      srv.log.join("\n"),
    );
  });
}
