// Carrying out a sync plan (lib/sync/apply.ts) against a real server, in
// process: one failing file is reported while the others go on; a file
// written to while it is sent is reported and never lands (nothing mixed); the
// content check finds a change that keeps size and time.
import { deepEqual, equal, ok } from "node:assert/strict";
import type { BftpClient } from "../../lib/client/client.ts";
import { planUpload } from "../../lib/client/local_plan.ts";
import { planDownload } from "../../lib/client/remote_plan.ts";
import type { BftpError } from "../../lib/errors.ts";
import { type ApplyOptions, applySync } from "../../lib/sync/apply.ts";
import { settleByContent } from "../../lib/sync/content.ts";
import { compareTrees } from "../../lib/sync/plan.ts";
import { startTestServer, writeLayout } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

/** Plans a push of `local` to `remote` (the remote folder may be missing). */
async function pushPlan(client: BftpClient, local: string, remote: string, checksum = false) {
  const source = await planUpload(local, remote);
  const target = await planDownload(client, remote, local).catch(() => ({
    files: [],
    folders: [],
    totalBytes: 0,
    skipped: [],
  }));
  const plan = compareTrees(source, target, { targetSide: "remote", checksum, deleting: true });
  if (checksum) await settleByContent(client, plan, { sourceSide: "local" });
  return plan;
}

function collecting(options: Partial<ApplyOptions> = {}) {
  const errors: { relative: string; error: BftpError }[] = [];
  const done: string[] = [];
  return {
    errors,
    done,
    options: {
      direction: "push" as const,
      onError: (relative: string, error: BftpError) => errors.push({ relative, error }),
      onChange: (c: { kind: string; relative: string }) => done.push(`${c.kind} ${c.relative}`),
      ...options,
    },
  };
}

Deno.test("a file gone since the listing is reported; the others are sent", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  await writeLayout(dir.path, { "a": "a", "b": "b", "c": "c" });
  const client = await server.connect();
  try {
    const plan = await pushPlan(client, dir.path, "/t");
    await Deno.remove(`${dir.path}/b`);
    const run = collecting();
    const totals = await applySync(client, plan, run.options);
    deepEqual(run.done.sort(), ["new a", "new c"]);
    deepEqual(run.errors.map((e) => [e.relative, e.error.code]), [["b", "LOCAL_IO"]]);
    deepEqual([totals.sent, totals.failed], [2, 1]);
    deepEqual(await Deno.readTextFile(`${server.root}/t/c`), "c");
  } finally {
    await client.quit();
  }
});

Deno.test("a file written to while it is sent is reported, and sent again next time", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  const big = new Uint8Array(8 << 20).fill(1);
  await writeLayout(dir.path, { "big": big, "small": "s" });
  const client = await server.connect();
  try {
    const plan = await pushPlan(client, dir.path, "/t");
    let written = false;
    const run = collecting({
      window: 1,
      progress: (label) => ({
        onProgress: () => {
          if (label !== "big" || written) return;
          written = true;
          // The middle of the file changes while its start is on the wire.
          const f = Deno.openSync(`${dir.path}/big`, { write: true });
          f.seekSync(6 << 20, Deno.SeekMode.Start);
          f.writeSync(new Uint8Array(4096).fill(2));
          f.utimeSync(new Date(), new Date(Date.now() + 5000));
          f.close();
        },
      }),
    });
    await applySync(client, plan, run.options);
    ok(written);
    deepEqual(run.errors.map((e) => e.relative), ["big"]);
    ok(/changed while it was sent/.test(run.errors[0]!.error.message));
    // Nothing mixed landed: the client spoiled the trailer, the server refused the body whole.
    equal(await Deno.stat(`${server.root}/t/big`).then(() => true, () => false), false);
    equal(await Deno.readTextFile(`${server.root}/t/small`), "s");
    // The next run sees a newer time and sends it whole.
    const again = await pushPlan(client, dir.path, "/t");
    deepEqual(again.sends.map((s) => s.file.relative), ["big"]);
    const rerun = collecting();
    await applySync(client, again, rerun.options);
    deepEqual(rerun.errors, []);
    deepEqual(
      await Deno.readFile(`${server.root}/t/big`),
      await Deno.readFile(`${dir.path}/big`),
    );
  } finally {
    await client.quit();
  }
});

Deno.test("--checksum finds a change of content that keeps size and time", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  await writeLayout(dir.path, { "a": "one", "b": "two" });
  const client = await server.connect();
  try {
    await applySync(client, await pushPlan(client, dir.path, "/t"), collecting().options);
    const { mtime } = await Deno.stat(`${dir.path}/a`);
    await Deno.writeTextFile(`${dir.path}/a`, "ONE");
    await Deno.utime(`${dir.path}/a`, new Date(), mtime!);
    // The quick check sees nothing; the content check sees "a".
    deepEqual((await pushPlan(client, dir.path, "/t")).sends, []);
    const plan = await pushPlan(client, dir.path, "/t", true);
    deepEqual(plan.sends.map((s) => `${s.kind} ${s.file.relative}`), ["changed a"]);
    await applySync(client, plan, collecting().options);
    equal(await Deno.readTextFile(`${server.root}/t/a`), "ONE");
    deepEqual((await pushPlan(client, dir.path, "/t", true)).sends, []);
  } finally {
    await client.quit();
  }
});

Deno.test("a remote file written to while it is pulled is reported, and nothing lands", async () => {
  const big = new Uint8Array(8 << 20).fill(1);
  await using server = await startTestServer({ files: { "s/big": big, "s/small": "s" } });
  await using dir = await tempDir();
  const client = await server.connect();
  try {
    const source = await planDownload(client, "/s", dir.join("d"));
    const empty = { files: [], folders: [], totalBytes: 0, skipped: [] };
    const plan = compareTrees(source, empty, { targetSide: "local" });
    let written = false;
    const run = collecting({
      direction: "pull",
      window: 1,
      progress: (label) => ({
        onProgress: () => {
          if (label !== "big" || written) return;
          written = true;
          const f = Deno.openSync(`${server.root}/s/big`, { write: true });
          f.seekSync(7 << 20, Deno.SeekMode.Start);
          f.writeSync(new Uint8Array(4096).fill(2));
          f.close();
        },
      }),
    });
    await applySync(client, plan, run.options);
    ok(written);
    deepEqual(run.errors.map((e) => e.relative), ["big"]);
    deepEqual(run.done, ["new small"]);
    // Nothing under the final name: the file is old (absent) or new, never mixed.
    deepEqual(await Array.fromAsync(Deno.readDir(dir.join("d")), (e) => e.name), ["small"]);
  } finally {
    await client.quit();
  }
});

Deno.test("a pull's --delete removes nothing through a local folder swapped for a link after the plan", async () => {
  await using server = await startTestServer();
  await using dir = await tempDir();
  await writeLayout(server.root, { "src/keep.txt": "k" });
  const top = `${dir.path}/dst`;
  // The target holds x/, which the source lacks: --delete removes x/f, then x.
  await writeLayout(top, { "x/f": "old" });
  await writeLayout(`${dir.path}/outside`, { "f": "not yours" });
  const client = await server.connect();
  try {
    const source = await planDownload(client, "/src", top);
    const target = await planUpload(top, "/src", { followLinks: false, sending: false });
    const plan = compareTrees(source, target, { targetSide: "local", deleting: true });
    deepEqual(plan.deletes.map((d) => d.relative), ["x/f", "x"]);
    // Swapped between the listing and the removals, as another local user could.
    await Deno.rename(`${top}/x`, `${top}/x.moved`);
    await Deno.symlink(`${dir.path}/outside`, `${top}/x`);
    const run = collecting({ direction: "pull" });
    await applySync(client, plan, run.options);
    equal(await Deno.readTextFile(`${dir.path}/outside/f`), "not yours");
    deepEqual(run.errors.map((e) => [e.relative, e.error.code]), [["x/f", "LOCAL_IO"], [
      "x",
      "LOCAL_IO",
    ]]);
    equal(await Deno.readTextFile(`${top}/keep.txt`), "k");
  } finally {
    await client.quit();
  }
});

for (const lander of ["here", "thread"]) {
  Deno.test(`a pull lands no file through a local folder swapped for a link while it runs (landing ${lander})`, async () => {
    await using server = await startTestServer();
    await using dir = await tempDir();
    const files: Record<string, string | Uint8Array> = {};
    for (let i = 0; i < 210; i++) files[`src/a/f${String(i).padStart(3, "0")}`] = `a${i}`;
    for (let i = 0; i < 5; i++) files[`src/b/f${i}`] = `b${i}`;
    // Large enough to come by itself (not by MGET), and changed: as a delta over the old one,
    // which is read where the new one lands.
    files["src/b/large"] = new Uint8Array(2 << 20).fill(7);
    await writeLayout(server.root, files);
    const top = `${dir.path}/dst`;
    await writeLayout(top, { "b/large": new Uint8Array(2 << 20).fill(7).fill(8, 0, 100_000) });
    await Deno.utime(`${top}/b/large`, 1_000_000_000, 1_000_000_000);
    await Deno.mkdir(`${dir.path}/outside`);
    const client = await server.connect();
    Deno.env.set("BFTP_LANDER", lander);
    try {
      const source = await planDownload(client, "/src", top);
      const target = await planUpload(top, "/src", { followLinks: false, sending: false });
      const plan = compareTrees(source, target, { targetSide: "local", deleting: false });
      let swapped = false;
      const run = collecting({
        direction: "pull",
        onFile: () => {
          if (swapped) return;
          swapped = true;
          Deno.renameSync(`${top}/b`, `${top}/b.moved`);
          Deno.symlinkSync(`${dir.path}/outside`, `${top}/b`);
        },
      });
      await applySync(client, plan, run.options);
      ok(swapped);
      deepEqual(await Array.fromAsync(Deno.readDir(`${dir.path}/outside`)), []);
      // Each of b's files is in the folder that was held, or told: never lost unseen.
      const landed = (await Array.fromAsync(Deno.readDir(`${top}/b.moved`), (e) => `b/${e.name}`))
        .filter((n) => n !== "b/large" || Deno.readFileSync(`${top}/b.moved/large`)[0] === 7);
      const told = run.errors.map((e) => e.relative);
      deepEqual([...landed, ...told].sort(), ["b/f0", "b/f1", "b/f2", "b/f3", "b/f4", "b/large"]);
      ok(run.errors.every((e) => e.error.code === "LOCAL_IO"));
      ok(landed.includes("b/large"), JSON.stringify(run.errors));
      equal((await Array.fromAsync(Deno.readDir(`${top}/a`))).length, 210);
    } finally {
      Deno.env.delete("BFTP_LANDER");
      await client.quit();
    }
  });
}
