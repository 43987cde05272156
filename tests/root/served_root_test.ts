import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { basename } from "node:path";
import { LocalIoError, RemoteError } from "../../lib/errors.ts";
import { Libc } from "../../lib/libc/libc.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { SETTLE_FINE_MS } from "../../lib/root/hash_cache.ts";
import { hashOpened } from "../../lib/root/reads.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import type { FileAttributes } from "../../lib/root/tree_backend.ts";
import { sha256, tempDir } from "../helpers.ts";
import { hostTree, writeLayout } from "../server/helpers.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("root: cleanTemporaries() removes leftover uploads everywhere under the root, and only those", async () => {
  await using tmp = await tempDir();
  const base = tmp.path;
  const root = `${base}/root`;
  const uuid = () => crypto.randomUUID();
  const [top, a, deep] = [`.bftp-tmp-${uuid()}.part`, `.bftp-tmp-${uuid()}.part`, uuid()];
  await writeLayout(root, {
    [top]: "left by a crash",
    [`a/${a}`]: "another",
    [`a/b/c/.bftp-tmp-${deep}.part`]: "deep",
    "a/keep.txt": "keep",
    [`a/.bftp-tmp-${uuid()}.part/`]: "", // a folder with the name is not an upload: left alone
    "x.bftp-tmp-y": "not a prefix",
    ".NAME.bftp-tmp-uuid": "a client's download temporary: not the server's",
    // A user's own files that merely start like the server's: not its names, never removed.
    ".bftp-tmp-mine.part": "mine",
    [`.bftp-tmp-${uuid().toUpperCase()}.part`]: "mine",
    [`.bftp-tmp-${uuid()}.part.bak`]: "mine",
    ".bftp-tmp-resume-mine.part": "mine",
  });
  // A symlinked folder outside the root holds a look-alike: it is not followed.
  await writeLayout(`${base}/outside`, { [`.bftp-tmp-${uuid()}.part`]: "outside" });
  await Deno.symlink(`${base}/outside`, `${root}/link`);
  const userFiles = (await hostTree(root)).filter((p) =>
    p.startsWith(".bftp-tmp-") && p !== top && !p.endsWith("/")
  );
  equal(userFiles.length, 4);
  const dayAgo = new Date(Date.now() - 25 * 3600_000);
  await Deno.utime(`${root}/.bftp-tmp-resume-mine.part`, dayAgo, dayAgo);
  const served = await ServedRoot.open(root);
  equal(await served.cleanTemporaries(), 3);
  const left = await hostTree(root);
  ok(!left.includes(top) && !left.includes(`a/${a}`), left.join(", "));
  ok(!left.some((p) => p.includes(deep)), left.join(", "));
  for (const p of userFiles) ok(left.includes(p), `${p} was removed`);
  ok(left.includes("x.bftp-tmp-y") && left.includes(".NAME.bftp-tmp-uuid"));
  ok(left.includes("a/keep.txt") && left.some((p) => p.startsWith("a/.bftp-tmp-")));
  equal((await hostTree(`${base}/outside`)).length, 1);
  equal(await served.cleanTemporaries(), 0);
});

Deno.test("root: cleanTemporaries() leaves a temporary held locked by an upload in progress", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  const held = `${root}/.bftp-tmp-${crypto.randomUUID()}.part`;
  const loose = `${root}/.bftp-tmp-${crypto.randomUUID()}.part`;
  const heldResume = `${root}/.bftp-tmp-resume-${"c".repeat(64)}.part`;
  for (const p of [held, loose, heldResume]) await Deno.writeTextFile(p, "partial");
  const dayAgo = new Date(Date.now() - 25 * 3600_000);
  await Deno.utime(heldResume, dayAgo, dayAgo);
  // The lock a server takes on the upload it writes (another open file: flock conflicts).
  using a = await Deno.open(held, { write: true });
  await a.lock(true);
  using b = await Deno.open(heldResume, { write: true });
  await b.lock(true);
  const served = await ServedRoot.open(root);
  equal(await served.cleanTemporaries(), 1);
  deepEqual(await hostTree(root), [basename(held), basename(heldResume)].sort());
});

Deno.test("root: an upload in progress survives another root's cleanTemporaries() on the same folder and lands", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  const first = await ServedRoot.open(root, { fsync: false });
  const upload = await first.beginUpload("/t.txt", true);
  await writeAll(upload.sink, new TextEncoder().encode("all of it"));
  const second = await ServedRoot.open(root);
  equal(await second.cleanTemporaries(), 0);
  equal((await hostTree(root)).length, 1);
  await upload.commit();
  deepEqual(await hostTree(root), ["t.txt"]);
  equal(await Deno.readTextFile(`${root}/t.txt`), "all of it");
  // Once it is over, nothing is left to lock.
  equal(await second.cleanTemporaries(), 0);
});

Deno.test("root: a resumable upload in progress survives a clean-up that finds it expired", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  const served = await ServedRoot.open(root, { fsync: false, resumeExpiryHours: 0 });
  const upload = await served.beginResumableUpload("/r.bin", 4, "a".repeat(64), true);
  await writeAll(upload.sink, new Uint8Array(2));
  await new Promise((resolve) => setTimeout(resolve, 5));
  equal(await served.cleanTemporaries(), 0);
  equal((await hostTree(root)).length, 1);
  await upload.keep();
  // Kept and no longer held: an expired one goes.
  await new Promise((resolve) => setTimeout(resolve, 5));
  equal(await served.cleanTemporaries(), 1);
  deepEqual(await hostTree(root), []);
});

Deno.test("root: a whole new file's upload is unnamed until it lands with its time and bits", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  const served = await ServedRoot.open(root, { fsync: true });
  for (const [path, end] of [["/new.txt", "commit"], ["/gone.txt", "abort"]] as const) {
    const upload = await served.beginUpload(path, false, undefined, true);
    await writeAll(upload.sink, new TextEncoder().encode("new"));
    // Where the system has unnamed files, nothing is seen before it lands.
    equal(
      (await hostTree(root)).filter((p) => p.startsWith(".bftp-tmp-")).length,
      Libc.load() ? 0 : 1,
    );
    if (end === "commit") await upload.commit({ mtime: 1_000_000_000_000, mode: 0o640 });
    else await upload.abort();
  }
  const info = await Deno.stat(`${root}/new.txt`);
  deepEqual(
    [await Deno.readTextFile(`${root}/new.txt`), info.mode! & 0o777, info.mtime?.getTime()],
    ["new", 0o640, 1_000_000_000_000],
  );
  deepEqual(await hostTree(root), ["new.txt"]);
  served.close();
});

Deno.test("root: a whole upload to a name made meanwhile replaces it only with leave to overwrite", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  const served = await ServedRoot.open(root, { fsync: false });
  for (const overwrite of [false, true]) {
    const late = await served.beginUpload(`/late-${overwrite}.txt`, overwrite, undefined, true);
    await writeAll(late.sink, new TextEncoder().encode("mine"));
    await Deno.writeTextFile(`${root}/late-${overwrite}.txt`, "theirs");
    if (overwrite) await late.commit();
    else await rejects(late.commit(), (e) => e instanceof RemoteError && e.code === "EXISTS");
  }
  equal(await Deno.readTextFile(`${root}/late-false.txt`), "theirs");
  equal(await Deno.readTextFile(`${root}/late-true.txt`), "mine");
  deepEqual(await hostTree(root), ["late-false.txt", "late-true.txt"]);
  served.close();
});

Deno.test("root: a whole upload onto a name already there is refused or replaces it keeping its bits, as a checked one", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  await Deno.writeTextFile(`${root}/private.txt`, "old", { mode: 0o600 });
  await Deno.chmod(`${root}/private.txt`, 0o600);
  await Deno.writeTextFile(`${root}/kept.txt`, "old");
  await Deno.mkdir(`${root}/folder`);
  const served = await ServedRoot.open(root, { fsync: false });
  const upload = async (path: string, overwrite: boolean, mode?: number) => {
    const up = await served.beginUpload(path, overwrite, undefined, true);
    await writeAll(up.sink, new TextEncoder().encode("new"));
    await up.commit(mode === undefined ? {} : { mode });
  };
  // Replaced: its bits stay, unless the upload gives its own.
  await upload("/private.txt", true);
  const bits = async (name: string) => (await Deno.stat(`${root}/${name}`)).mode! & 0o777;
  deepEqual([await Deno.readTextFile(`${root}/private.txt`), await bits("private.txt")], [
    "new",
    0o600,
  ]);
  await upload("/kept.txt", true, 0o640);
  equal(await bits("kept.txt"), 0o640);
  // Not to be replaced, or a folder: refused, as before any byte, and nothing left.
  await rejects(upload("/kept.txt", false), (e) => e instanceof RemoteError && e.code === "EXISTS");
  for (const overwrite of [false, true]) {
    await rejects(
      upload("/folder", overwrite),
      (e) => e instanceof RemoteError && e.code === "IS_DIR",
    );
  }
  equal(await Deno.readTextFile(`${root}/kept.txt`), "new");
  deepEqual(await hostTree(root), ["folder/", "kept.txt", "private.txt"]);
  served.close();
});

Deno.test("root: an aborted upload leaves the target as it was and no temporary", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
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

Deno.test("root: a committed upload replaces the target atomically", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  await Deno.writeTextFile(`${root}/t.txt`, "original");
  const served = await ServedRoot.open(root);
  const upload = await served.beginUpload("/t.txt", true);
  await writeAll(upload.sink, new TextEncoder().encode("replaced"));
  // Until the commit, readers still see the old file.
  equal(await Deno.readTextFile(`${root}/t.txt`), "original");
  await upload.commit();
  equal(await Deno.readTextFile(`${root}/t.txt`), "replaced");
  deepEqual(await hostTree(root), ["t.txt"]);
  // A file that new has not settled: its hash is made from its bytes, not remembered.
  const opened = await served.openRead("/t.txt");
  equal(opened.sha256, undefined);
  opened.close();
  deepEqual(await served.hash("/t.txt"), { size: 8, sha256: sha256("replaced") });
});

Deno.test("root: ServedRoot.open() refuses a missing folder or a file", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/f`, "");
  await rejects(
    ServedRoot.open(`${dir}/missing`),
    (e) => e instanceof LocalIoError && e.exitCode === 3,
  );
  await rejects(
    ServedRoot.open(`${dir}/f`),
    (e) => e instanceof LocalIoError && /not a folder/.test(e.message),
  );
});

/** The permission bits of a file. */
async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

Deno.test({
  name:
    "root: an upload that replaces a file keeps its permission bits; a new file gets the default",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    {
      await using tmp = await tempDir();
      const root = tmp.path;
      // What a new file got before: 0644 less the umask.
      await Deno.writeTextFile(`${root}/probe`, "", { mode: 0o644 });
      const defaultMode = await modeOf(`${root}/probe`);
      await Deno.remove(`${root}/probe`);
      const modes: [string, number][] = [["private.txt", 0o600], ["shared.sh", 0o750], [
        "odd",
        0o4604,
      ]];
      for (const [name, mode] of modes) {
        await Deno.writeTextFile(`${root}/${name}`, "old");
        await Deno.chmod(`${root}/${name}`, mode);
      }
      const served = await ServedRoot.open(root, { fsync: false });
      for (const name of ["private.txt", "shared.sh", "odd", "new.txt"]) {
        const upload = await served.beginUpload(`/${name}`, true);
        await writeAll(upload.sink, new TextEncoder().encode("new"));
        if (name === "private.txt") {
          // While it is written, the temporary gives others no more than the old file did.
          const temp = (await hostTree(root)).find((p) => p.startsWith(".bftp-tmp-"))!;
          equal((await modeOf(`${root}/${temp}`)) & 0o077, 0);
        }
        await upload.commit();
        equal(await Deno.readTextFile(`${root}/${name}`), "new");
      }
      equal(await modeOf(`${root}/private.txt`), 0o600);
      equal(await modeOf(`${root}/shared.sh`), 0o750);
      equal(await modeOf(`${root}/odd`), 0o604, "set-user-ID is not carried over");
      equal(await modeOf(`${root}/new.txt`), defaultMode);
    }
  },
});

Deno.test({
  name:
    "root: a new upload's temporary is its owner's alone; a new file gets newMode less the umask; one put there meanwhile keeps its bits",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    {
      await using tmp = await tempDir();
      const root = tmp.path;
      const umask = Deno.umask();
      const body = new TextEncoder().encode("new");
      const served = await ServedRoot.open(root, { fsync: false });
      const upload = await served.beginUpload("/new.txt", true);
      await writeAll(upload.sink, body);
      const temp = (await hostTree(root)).find((p) => p.startsWith(".bftp-tmp-"))!;
      equal(await modeOf(`${root}/${temp}`), 0o600, "no one else reads it on its way");
      await upload.commit({ newMode: 0o640 });
      equal(await modeOf(`${root}/new.txt`), 0o640 & ~umask);
      const raced = await served.beginUpload("/raced.txt", true);
      await writeAll(raced.sink, body);
      await Deno.writeTextFile(`${root}/raced.txt`, "someone's");
      await Deno.chmod(`${root}/raced.txt`, 0o600);
      await raced.commit({ newMode: 0o777 });
      equal(await modeOf(`${root}/raced.txt`), 0o600);
      // A cut resumable upload's kept part is its owner's alone too, for the day it is kept.
      const cut = await served.beginResumableUpload("/r.bin", 4, "b".repeat(64), true);
      await writeAll(cut.sink, new Uint8Array(2));
      await cut.keep();
      const part = (await hostTree(root)).find((p) => p.startsWith(".bftp-tmp-resume-"))!;
      equal(await modeOf(`${root}/${part}`), 0o600);
    }
  },
});

Deno.test({
  name:
    "root: a whole new file made with its bits at once lands with them less the umask; one put there meanwhile keeps its own; -p's bits still win",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using tmp = await tempDir();
    const root = tmp.path;
    const umask = Deno.umask();
    const served = await ServedRoot.open(root, { fsync: false });
    // A whole body to `name`, begun with `begun` (a new file's bits when no mode is asked for).
    const land = async (name: string, begun: number | null, attributes: FileAttributes) => {
      const upload = await served.beginUpload(`/${name}`, true, undefined, true, begun);
      await writeAll(upload.sink, new TextEncoder().encode("new"));
      // One put there meanwhile: made before the commit, so the link finds its name taken.
      if (name === "raced.txt") {
        await Deno.writeTextFile(`${root}/raced.txt`, "someone's");
        await Deno.chmod(`${root}/raced.txt`, 0o600);
      }
      await upload.commit(attributes);
      return await modeOf(`${root}/${name}`);
    };
    equal(await land("new.txt", 0o664, { newMode: 0o664 }), 0o664 & ~umask);
    // No bits sent: 0644 less the umask, as a commit without newMode gives.
    equal(await land("plain.txt", null, {}), 0o644 & ~umask);
    equal(await land("raced.txt", 0o777, { newMode: 0o777 }), 0o600);
    equal(await land("exact.txt", 0o644, { mode: 0o751, newMode: 0o644 }), 0o751);
    deepEqual((await hostTree(root)).sort(), ["exact.txt", "new.txt", "plain.txt", "raced.txt"]);
    served.close();
  },
});

Deno.test({
  name:
    "root: mkdir gives the folder it makes its bits less the umask (with parents, the last one; the others the default); one there already keeps its own",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using tmp = await tempDir();
    const root = tmp.path;
    const umask = Deno.umask();
    const served = await ServedRoot.open(root, { fsync: false });
    await served.mkdir("/one", false, 0o750);
    await served.mkdir("/a/b/c", true, 0o700);
    await Deno.mkdir(`${root}/there`, { mode: 0o755 });
    await served.mkdir("/there", true, 0o700);
    await served.mkdir("/plain", false);
    deepEqual(
      await Promise.all(
        ["one", "a", "a/b", "a/b/c", "there", "plain"].map((p) => modeOf(`${root}/${p}`)),
      ),
      [0o750, 0o777, 0o777, 0o700, 0o755, 0o777].map((m) => m & ~umask),
    );
  },
});

Deno.test({
  name: "root: a resumable upload that replaces a file keeps its permission bits",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    {
      await using tmp = await tempDir();
      const root = tmp.path;
      await Deno.writeTextFile(`${root}/r.bin`, "old");
      await Deno.chmod(`${root}/r.bin`, 0o640);
      const served = await ServedRoot.open(root, { fsync: false });
      const first = await served.beginResumableUpload("/r.bin", 4, "b".repeat(64), true);
      await writeAll(first.sink, new Uint8Array(2));
      await first.keep();
      const part = (await hostTree(root)).find((p) => p.startsWith(".bftp-tmp-resume-"))!;
      equal((await modeOf(`${root}/${part}`)) & 0o077, 0o040);
      const again = await served.beginResumableUpload("/r.bin", 4, "b".repeat(64), true);
      equal(again.offset, 2);
      await writeAll(again.sink, new Uint8Array(2));
      await again.commit();
      deepEqual(await hostTree(root), ["r.bin"]);
      equal(await modeOf(`${root}/r.bin`), 0o640);
    }
  },
});

Deno.test("root: the hash cache answers for a settled file, and never a stale hash after in-place rewrites with the time put back", async () => {
  await using tmp = await tempDir();
  const root = tmp.path;
  const served = await ServedRoot.open(root);
  const files = 120;
  const old = new Date("2024-05-01T12:00:00Z");
  // Each file: version A, settled past the margin, hashed (and remembered); then rewritten in
  // place at a random moment within the next second, to the same size, its time put back
  // (touch -r, cp -p, rsync --inplace -t do this), and hashed again.
  const stale = await Promise.all(Array.from({ length: files }, async (_, i) => {
    const path = `${root}/f${i}.bin`;
    const a = `version A of ${String(i).padStart(4, "0")}`;
    const b = `version B of ${String(i).padStart(4, "0")}`;
    await Deno.writeTextFile(path, a);
    await Deno.utime(path, old, old);
    await delay(SETTLE_FINE_MS * 2);
    equal((await served.hash(`/f${i}.bin`)).sha256, sha256(a));
    const cached = await served.openRead(`/f${i}.bin`);
    const remembered = cached.sha256;
    cached.close();
    await delay(Math.random() * 1000);
    using file = await Deno.open(path, { write: true });
    await file.write(new TextEncoder().encode(b));
    await Deno.utime(path, old, old);
    const after = await served.hash(`/f${i}.bin`);
    return { remembered, stale: after.sha256 !== sha256(b) };
  }));
  // Settled files were answered from the cache (else this test would prove nothing)...
  ok(stale.filter((s) => s.remembered !== undefined).length > files / 2);
  // ...and no answer after a rewrite was the old hash.
  deepEqual(stale.filter((s) => s.stale).length, 0);
});

Deno.test("root: a path whose host path would reach PATH_MAX is refused as BAD_PATH, counted in UTF-8 bytes", async () => {
  await using tmp = await tempDir();
  const root = await ServedRoot.open(tmp.path);
  try {
    const host = new TextEncoder().encode(await Deno.realPath(tmp.path)).byteLength;
    // Names of 80 units, three UTF-8 bytes each ("€"): 240 bytes a name (under NAME_MAX).
    const wide = (bytes: number) => {
      const names: string[] = [];
      for (let left = bytes; left > 0; left -= 241) {
        names.push("€".repeat(Math.min(80, Math.ceil((left - 1) / 3))));
      }
      return "/" + names.join("/");
    };
    const over = wide(4096 - host);
    ok(over.length * 3 >= 4096 - host, "long enough in bytes, not in UTF-16 units");
    await rejects(() => root.stat(over), (e) => e instanceof RemoteError && e.code === "BAD_PATH");
    // Short ones go on to the file system (nothing there), however wide their characters.
    const under = "/" + "€".repeat(80) + "/" + "€".repeat(80);
    await rejects(
      () => root.stat(under),
      (e) => e instanceof RemoteError && e.code === "NOT_FOUND",
    );
    // A long ASCII path over the limit too.
    await rejects(
      () => root.stat("/" + Array.from({ length: 30 }, () => "a".repeat(200)).join("/")),
      (e) => e instanceof RemoteError && e.code === "BAD_PATH",
    );
  } finally {
    root.close();
  }
});

Deno.test("root: LIST marks a link it shows as what it points to (link: true), and shows a link outside as a link", async () => {
  await using tmp = await tempDir();
  const root = `${tmp.path}/root`;
  await Deno.mkdir(`${root}/real`, { recursive: true });
  await Deno.writeTextFile(`${root}/a.txt`, "a");
  await Deno.symlink("real", `${root}/inside`);
  await Deno.symlink("a.txt", `${root}/file-link`);
  await Deno.symlink(tmp.path, `${root}/outside`);
  const served = await ServedRoot.open(root);
  const entries = (await served.list("/")).map((e) => [e.name, e.type, e.link ?? false]);
  deepEqual(entries, [
    ["a.txt", "file", false],
    ["file-link", "file", true],
    ["inside", "dir", true],
    ["outside", "link", false],
    ["real", "dir", false],
  ]);
  served.close();
});

Deno.test("root: a file written to in place while it is hashed is CHANGED, not given a hash of two versions", async () => {
  await using tmp = await tempDir();
  await Deno.writeFile(`${tmp.path}/f.bin`, new Uint8Array(1 << 20).fill(1));
  const root = await ServedRoot.open(tmp.path);
  const opened = await root.openRead("/f.bin");
  try {
    // As `dd conv=notrunc` writes: the same file, new bytes in its middle.
    using file = await Deno.open(`${tmp.path}/f.bin`, { write: true });
    await file.seek(1000, Deno.SeekMode.Start);
    await writeAll(file, new Uint8Array(10).fill(2));
    await rejects(
      hashOpened(opened, "/f.bin"),
      (e) =>
        e instanceof RemoteError && e.code === "CHANGED" &&
        /changed while it was hashed/.test(e.message),
    );
  } finally {
    opened.close();
  }
  try {
    // Left alone, it is hashed.
    equal((await root.hash("/f.bin")).size, 1 << 20);
  } finally {
    root.close();
  }
});

Deno.test("root: a file appended to while it is hashed (a log) is hashed as it was when opened", async () => {
  await using tmp = await tempDir();
  const first = new Uint8Array(1 << 20).fill(1);
  await Deno.writeFile(`${tmp.path}/log`, first);
  const root = await ServedRoot.open(tmp.path);
  try {
    const opened = await root.openRead("/log");
    try {
      await Deno.writeFile(`${tmp.path}/log`, new Uint8Array(100).fill(2), { append: true });
      deepEqual(await hashOpened(opened, "/log"), {
        size: first.byteLength,
        sha256: sha256(first),
      });
    } finally {
      opened.close();
    }
  } finally {
    root.close();
  }
});
