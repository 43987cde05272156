import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { hostTree, writeLayout } from "../server/helpers.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "bftp-root-" }));
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("root: cleanTemporaries() removes leftover uploads everywhere under the root, and only those", async () => {
  await withTempDir(async (base) => {
    const root = `${base}/root`;
    await writeLayout(root, {
      ".bftp-tmp-1234.part": "left by a crash",
      "a/.bftp-tmp-5678.part": "another",
      "a/b/c/.bftp-tmp-deep.part": "deep",
      "a/keep.txt": "keep",
      "a/.bftp-tmp-dir/": "", // a folder with the prefix is not an upload: left alone
      "x.bftp-tmp-y": "not a prefix",
      ".NAME.bftp-tmp-uuid": "a client's download temporary: not the server's",
    });
    // A symlinked folder outside the root holds a look-alike: it is not followed.
    await writeLayout(`${base}/outside`, { ".bftp-tmp-out.part": "outside" });
    await Deno.symlink(`${base}/outside`, `${root}/link`);
    const served = await ServedRoot.open(root);
    equal(await served.cleanTemporaries(), 3);
    deepEqual(await hostTree(root), [
      ".NAME.bftp-tmp-uuid",
      "a/",
      "a/.bftp-tmp-dir/",
      "a/b/",
      "a/b/c/",
      "a/keep.txt",
      "link",
      "x.bftp-tmp-y",
    ]);
    deepEqual(await hostTree(`${base}/outside`), [".bftp-tmp-out.part"]);
    equal(await served.cleanTemporaries(), 0);
  });
});

Deno.test("root: an aborted upload leaves the target as it was and no temporary", async () => {
  await withTempDir(async (root) => {
    await Deno.writeTextFile(`${root}/t.txt`, "original");
    const served = await ServedRoot.open(root, { fsync: false });
    for (const path of ["/t.txt", "/new.txt"]) {
      const upload = await served.beginUpload(path, true);
      await writeAll(upload.sink, new TextEncoder().encode("partial"));
      // The bytes go to a temporary beside the target, hidden from LIST.
      ok((await hostTree(root)).some((p) => p.startsWith(".bftp-tmp-")));
      deepEqual((await served.list("/")).map((e) => e.name), ["t.txt"]);
      await upload.abort();
      await upload.abort(); // twice is harmless
    }
    deepEqual(await hostTree(root), ["t.txt"]);
    equal(await Deno.readTextFile(`${root}/t.txt`), "original");
  });
});

Deno.test("root: a committed upload replaces the target atomically and remembers its hash", async () => {
  await withTempDir(async (root) => {
    await Deno.writeTextFile(`${root}/t.txt`, "original");
    const served = await ServedRoot.open(root);
    const upload = await served.beginUpload("/t.txt", true);
    await writeAll(upload.sink, new TextEncoder().encode("replaced"));
    // Until the commit, readers still see the old file.
    equal(await Deno.readTextFile(`${root}/t.txt`), "original");
    await upload.commit("f".repeat(64));
    equal(await Deno.readTextFile(`${root}/t.txt`), "replaced");
    deepEqual(await hostTree(root), ["t.txt"]);
    // The hash given at commit is the one served from then on (no re-read).
    deepEqual(await served.hash("/t.txt"), { size: 8, sha256: "f".repeat(64) });
  });
});

Deno.test("root: ServedRoot.open() refuses a missing folder or a file", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/f`, "");
    await rejects(
      ServedRoot.open(`${dir}/missing`),
      (e) => e instanceof RemoteError && e.code === "NOT_FOUND",
    );
    await rejects(
      ServedRoot.open(`${dir}/f`),
      (e) => e instanceof RemoteError && e.code === "NOT_DIR",
    );
  });
});
