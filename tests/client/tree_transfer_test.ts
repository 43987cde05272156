// A tree download (lib/client/tree_transfer.ts) against a local user who
// swaps a folder of DEST for a link while it runs: every file lands in the
// folder the download holds, or fails; none where the link leads.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { planUpload } from "../../lib/client/local_plan.ts";
import { downloadTree, uploadPlan } from "../../lib/client/tree_transfer.ts";
import { MANY_FILE_MAX } from "../../lib/client/many_transfers.ts";
import type { BftpError } from "../../lib/errors.ts";
import { hostTree, startTestServer } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

/** `a/` first, then `b/` with small files and one too large for MGET; enough for a landing thread. */
function layout(): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = {};
  for (let i = 0; i < 210; i++) files[`t/a/f${String(i).padStart(3, "0")}`] = `a${i}`;
  for (let i = 0; i < 5; i++) files[`t/b/f${i}`] = `b${i}`;
  files["t/b/large"] = new Uint8Array(MANY_FILE_MAX + 1).fill(7);
  return files;
}

for (const way of ["here", "thread", "resume"]) {
  Deno.test(`tree transfer: a DEST folder swapped for a link mid-download leads no file outside (${way})`, async () => {
    await using srv = await startTestServer({ files: layout() });
    await using tmp = await tempDir();
    const dest = `${tmp.path}/dest`;
    await Deno.mkdir(`${tmp.path}/outside`);
    using client = await srv.connect();
    const failed: string[] = [];
    let swapped = false;
    // Small files land here or on the landing thread; resumable ones through their partial files.
    Deno.env.set("BFTP_LANDER", way === "thread" ? "thread" : "here");
    try {
      await downloadTree(client, "/t", dest, {
        resume: way === "resume",
        // Once the first file is in (every folder made and read by then), b/ is swapped.
        onFile: () => {
          if (swapped) return;
          swapped = true;
          Deno.renameSync(`${dest}/b`, `${dest}/b.moved`);
          Deno.symlinkSync(`${tmp.path}/outside`, `${dest}/b`);
        },
        onFailure: (path: string, e: BftpError) => failed.push(`${path} ${e.code}`),
      });
    } finally {
      Deno.env.delete("BFTP_LANDER");
    }
    ok(swapped);
    deepEqual(await hostTree(`${tmp.path}/outside`), []);
    // Each of b's files is in the folder that was held, or told as failed: never lost unseen.
    const landed = (await hostTree(`${dest}/b.moved`)).map((n) => `b/${n}`);
    deepEqual([...landed, ...failed.map((f) => f.split(" ")[0]!)].sort(), [
      "b/f0",
      "b/f1",
      "b/f2",
      "b/f3",
      "b/f4",
      "b/large",
    ]);
    ok(failed.every((f) => f.endsWith(" LOCAL_IO")), failed.join());
    equal((await hostTree(`${dest}/a`)).length, 210);
  });
}

Deno.test({
  name:
    "client: put -r reads a file listed as a plain file only as one: a link put in its place since is refused, small (MPUT) or large; one listed through a link is followed",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using srv = await startTestServer({ files: { "up/": "" } });
    await using tmp = await tempDir();
    const src = `${tmp.path}/src`;
    await Deno.mkdir(src);
    await Deno.writeTextFile(`${tmp.path}/secret`, "not to be sent");
    const large = "x".repeat(300 << 10);
    await Deno.writeTextFile(`${src}/small.txt`, "small");
    await Deno.writeTextFile(`${src}/large.bin`, large);
    await Deno.writeTextFile(`${tmp.path}/linked-to`, "through a link");
    await Deno.symlink(`${tmp.path}/linked-to`, `${src}/via-link.txt`);
    const plan = await planUpload(src, "/up/t");
    deepEqual(plan.files.map((f) => [f.relative, f.link === true]), [
      ["large.bin", false],
      ["small.txt", false],
      ["via-link.txt", true],
    ]);
    // After the walk: both plain files become links to a file the user did not list.
    for (const name of ["small.txt", "large.bin"]) {
      await Deno.remove(`${src}/${name}`);
      await Deno.symlink(`${tmp.path}/secret`, `${src}/${name}`);
    }
    const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
    const failed: string[] = [];
    try {
      await uploadPlan(client, plan, {
        onFailure: (path: string, e: BftpError) => failed.push(`${path} ${e.code} ${e.message}`),
      });
    } finally {
      await client.quit();
    }
    deepEqual(failed.length, 2, failed.join("\n"));
    ok(failed.every((f) => f.includes("LOCAL_IO") && f.endsWith("it is a symbolic link now")));
    deepEqual([...Deno.readDirSync(`${srv.root}/up/t`)].map((e) => e.name), ["via-link.txt"]);
    equal(await Deno.readTextFile(`${srv.root}/up/t/via-link.txt`), "through a link");
  },
});

Deno.test({
  name:
    "tree transfer: put -r -p leaves a refused folder's place alone (a file there keeps its bits and time) and tells each refusal once",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using srv = await startTestServer({ files: { "up/x": "a file where folder x goes" } });
    await using tmp = await tempDir();
    const src = `${tmp.path}/src`;
    await Deno.mkdir(`${src}/x/y`, { recursive: true });
    await Deno.mkdir(`${src}/a`);
    await Deno.writeTextFile(`${src}/x/y/c`, "c");
    await Deno.writeTextFile(`${src}/a/f`, "f");
    await Deno.chmod(`${src}/x`, 0o750);
    await Deno.utime(`${src}/x`, 1_000_000_000, 1_000_000_000);
    await Deno.chmod(`${srv.root}/up/x`, 0o644);
    const before = await Deno.stat(`${srv.root}/up/x`);
    using client = await srv.connect();
    const failed: string[] = [];
    await uploadPlan(client, await planUpload(src, "/up"), {
      preserve: true,
      onFailure: (path: string) => failed.push(path),
    });
    deepEqual(failed, ["x", "x/y"]);
    const after = await Deno.stat(`${srv.root}/up/x`);
    deepEqual([after.mode! & 0o777, after.mtime?.getTime()], [0o644, before.mtime?.getTime()]);
    equal(await Deno.readTextFile(`${srv.root}/up/a/f`), "f");
  },
});

Deno.test("tree transfer: a top the server refuses stops put -r with no other folder tried", async () => {
  await using srv = await startTestServer({ files: { up: "a file where the top goes" } });
  await using tmp = await tempDir();
  for (const name of ["a", "b", "c"]) await Deno.mkdir(`${tmp.path}/${name}`);
  using client = await srv.connect();
  const failed: string[] = [];
  await rejects(
    uploadPlan(client, await planUpload(tmp.path, "/up"), {
      onFailure: (path: string) => failed.push(path),
    }),
    (e: BftpError) => e.code === "EXISTS",
  );
  deepEqual(failed, []);
});
