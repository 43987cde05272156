// The local walk of an upload (lib/client/local_plan.ts) without lookups: regular files planned
// from their folder's listing alone (unsized), described when read, and sent as a looked-up
// plan's are, whatever their sizes.

import { deepEqual, equal } from "node:assert/strict";
import { planUpload } from "../../lib/client/local_plan.ts";
import { uploadPlan, uploadTree } from "../../lib/client/tree_transfer.ts";
import { hostTree, startTestServer, writeLayout } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

/** `size` bytes that differ from file to file (`seed`). */
const bytes = (size: number, seed: number) =>
  new Uint8Array(size).map((_, i) => (i * 7 + seed) & 0xff);

Deno.test("local plan: without lookups, regular files are planned unsized; a link and a FIFO are looked up still", async () => {
  await using tmp = await tempDir();
  const src = `${tmp.path}/src`;
  await writeLayout(tmp.path, { "src/a.txt": "alpha", "src/b/c.bin": new Uint8Array(1000) });
  await Deno.symlink(`${src}/a.txt`, `${src}/to-file`);
  const fifo = await new Deno.Command("mkfifo", { args: [`${src}/fifo`] }).output();
  equal(fifo.success, true);
  const plan = await planUpload(src, "/up", { lookUp: false });
  deepEqual(plan.files.map((f) => [f.relative, f.size, f.unsized ?? false, f.link ?? false]), [
    ["a.txt", 0, true, false],
    ["b/c.bin", 0, true, false],
    ["to-file", 5, false, true],
  ]);
  deepEqual(plan.skipped.map((s) => [s.relative, s.why]), [["fifo", "not a regular file"]]);
  // Looked up (the default), the same tree has every size.
  deepEqual((await planUpload(src, "/up")).files.map((f) => [f.size, f.unsized]), [
    [5, undefined],
    [1000, undefined],
    [5, undefined],
  ]);
});

Deno.test("local plan: an unsized plan's files of every size land intact, the large ones sent alone", async () => {
  await using srv = await startTestServer();
  await using tmp = await tempDir();
  const src = `${tmp.path}/src`;
  // Around the largest unsized file a batch takes (64 KiB) and the largest MPUT file (256 KiB).
  const sizes = [0, 5, 65535, 65536, 65537, 100_000, 262144, 300_000, 4096];
  await Deno.mkdir(`${src}/d`, { recursive: true });
  for (const [i, size] of sizes.entries()) Deno.writeFileSync(`${src}/d/f${i}`, bytes(size, i));
  using client = await srv.connect();
  const plan = await planUpload(src, "/up", { lookUp: false });
  equal(plan.files.every((f) => f.unsized), true);
  const done: string[] = [];
  const totals = await uploadPlan(client, plan, { onFile: (remote) => done.push(remote) });
  deepEqual(totals, { files: sizes.length, bytes: sizes.reduce((a, b) => a + b) });
  equal(done.length, sizes.length);
  for (const [i, size] of sizes.entries()) {
    deepEqual(Deno.readFileSync(`${srv.root}/up/d/f${i}`), bytes(size, i), `f${i}`);
  }
  // Up to 64 KiB in the MPUT; the four larger each by a PUT of its own.
  deepEqual(srv.log.filter((l) => / MPUT /.test(l)).map((l) => / (MPUT \d+ paths)/.exec(l)?.[1]), [
    "MPUT 5 paths",
  ]);
  deepEqual(
    srv.log.flatMap((l) => / PUT "\/up\/d\/(f\d)" ok \d+B [\d.]+ms$/.exec(l)?.[1] ?? []).sort(),
    ["f4", "f5", "f6", "f7"],
  );
});

Deno.test("local plan: uploadTree walks without lookups only when nothing is shown, and lands the same tree", async () => {
  await using srv = await startTestServer();
  await using tmp = await tempDir();
  await writeLayout(tmp.path, { "src/a.txt": "alpha", "src/b/c.bin": bytes(70_000, 3) });
  using client = await srv.connect();
  const listed: number[] = [];
  // With a progress listing: sizes are known before the first byte (and the same files land).
  await uploadTree(client, `${tmp.path}/src`, "/shown", { onListed: (c) => listed.push(c.bytes) });
  equal(listed.at(-1), 70_005);
  // And with a whole tree's progress line started from the plan alone.
  const planned: number[] = [];
  await uploadTree(client, `${tmp.path}/src`, "/planned", {
    onPlan: (plan) => planned.push(plan.totalBytes),
  });
  deepEqual(planned, [70_005]);
  deepEqual(await uploadTree(client, `${tmp.path}/src`, "/quiet"), { files: 2, bytes: 70_005 });
  deepEqual(await hostTree(`${srv.root}/quiet`), await hostTree(`${srv.root}/shown`));
  deepEqual(Deno.readFileSync(`${srv.root}/quiet/b/c.bin`), bytes(70_000, 3));
});
