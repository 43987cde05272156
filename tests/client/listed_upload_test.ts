// put -r sent while its tree is walked (lib/client/listed_upload.ts) against the same tree sent
// once it is listed (uploadPlan): the same files land, the same failures and skips are told.

import { deepEqual, equal, rejects } from "node:assert/strict";
import { uploadTree } from "../../lib/client/tree_transfer.ts";
import { whileListing } from "../../lib/client/listed_upload.ts";
import { FEED_FILE_MAX } from "../../lib/client/many_uploads.ts";
import { MANY_FILE_MAX } from "../../lib/client/many_transfers.ts";
import type { LocalTransferOptions } from "../../lib/client/local_options.ts";
import { hostTree, startTestServer } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

/** Folders of small files, two files too large for a feed (one too for MPUT), a FIFO. */
async function sourceTree(dir: string): Promise<void> {
  for (const folder of ["a", "b", "c/d"]) {
    await Deno.mkdir(`${dir}/${folder}`, { recursive: true });
    for (let i = 0; i < 70; i++) {
      await Deno.writeTextFile(`${dir}/${folder}/f${i}`, `${folder}${i}`);
    }
  }
  await Deno.writeFile(`${dir}/a/mid`, new Uint8Array(FEED_FILE_MAX + 1).fill(1));
  await Deno.writeFile(`${dir}/c/large`, new Uint8Array(MANY_FILE_MAX + 1).fill(2));
  await new Deno.Command("mkfifo", { args: [`${dir}/c/pipe`] }).output();
}

/** One upload of the tree at `src` to `/up` on a server where `/up/b` is a file. */
async function upload(src: string, walking: boolean) {
  await using srv = await startTestServer({ files: { "up/b": "a file where a folder goes" } });
  using client = await srv.connect();
  const failures: string[] = [];
  const skips: string[] = [];
  const options: LocalTransferOptions = {
    onFailure: (path, e) => failures.push(`${path}: ${e.code}`),
    onSkip: (path) => skips.push(path.slice(src.length)),
  };
  // A listing pass told (as a progress line is) keeps the upload to the listed plan.
  if (!walking) options.onListed = () => {};
  equal(whileListing(client, options), walking);
  const totals = await uploadTree(client, src, "/up", options);
  return { totals, failures, skips, tree: await hostTree(srv.root) };
}

Deno.test({
  name: "listed upload: sent while walked, a tree lands as when sent once listed",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using tmp = await tempDir();
    await sourceTree(tmp.path);
    const walking = await upload(tmp.path, true);
    const listed = await upload(tmp.path, false);
    deepEqual(walking, listed);
    // b/ is refused once (its files are not tried); the FIFO is left out; the rest is there.
    deepEqual(walking.failures, ["b: EXISTS"]);
    deepEqual(walking.skips, ["/c/pipe"]);
    deepEqual(walking.totals.files, 70 * 2 + 2);
    // a/ itself, its 70 small files and the one too large for a feed.
    equal(walking.tree.filter((p) => p.startsWith("up/a/")).length, 72);
  },
});

Deno.test("listed upload: a top the server refuses stops the tree, and no file is tried", async () => {
  await using srv = await startTestServer({ files: { up: "a file where the top goes" } });
  await using tmp = await tempDir();
  await sourceTree(tmp.path);
  using client = await srv.connect();
  const failures: string[] = [];
  await rejects(
    uploadTree(client, tmp.path, "/up", { onFailure: (path) => failures.push(path) }),
    (e: Error & { code?: string }) => e.code === "EXISTS",
  );
  deepEqual(failures, []);
  deepEqual(await hostTree(srv.root), ["up"]);
  deepEqual(srv.log.filter((line) => line.includes("MPUT") || line.includes("PUT ")), []);
});
