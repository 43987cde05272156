// A download's local tree (lib/local_file/local_tree.ts): folders below the
// top reached without following a link, and every writer of a tree (a small
// file landed whole, an atomic file, a sweep, the attributes of a folder)
// working relative to the folder it holds, so a folder swapped for a link
// meanwhile leads nothing outside.

import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { LocalIoError } from "../../lib/errors.ts";
import {
  applyAttributesHere,
  AtomicFile,
  landWhole,
  landWholeNow,
  LocalTree,
  MAX_HELD_FOLDERS,
  sweepFolder,
} from "../../lib/local_file/mod.ts";
import { hostTree } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** A top with `sub/` in it, `outside/` beside it, and the tree held. */
async function heldTree() {
  const tmp = await tempDir();
  await Deno.mkdir(`${tmp.path}/top/sub/deeper`, { recursive: true });
  await Deno.mkdir(`${tmp.path}/outside/deeper`, { recursive: true });
  const tree = LocalTree.open(`${tmp.path}/top`)!;
  ok(tree !== undefined, "libc is there on this machine");
  return {
    tmp,
    tree,
    top: `${tmp.path}/top`,
    /** Swaps `top/sub` for a link to `outside`, as another local user could. */
    swap: async () => {
      await Deno.rename(`${tmp.path}/top/sub`, `${tmp.path}/top/sub.moved`);
      await Deno.symlink(`${tmp.path}/outside`, `${tmp.path}/top/sub`);
    },
    [Symbol.asyncDispose]: async () => {
      tree[Symbol.dispose]();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

Deno.test("local_file: a tree refuses a folder that is a link, or has one on its way, at any depth", async () => {
  await using t = await heldTree();
  await t.swap();
  for (const path of [`${t.top}/sub/a`, `${t.top}/sub/deeper/a`]) {
    throws(
      () => t.tree.at(path),
      (e) => e instanceof LocalIoError && /symbolic link/.test(e.message),
    );
  }
  throws(() => t.tree.makeFolder(`${t.top}/sub/new`), LocalIoError);
  deepEqual(await hostTree(`${t.tmp.path}/outside`), ["deeper/"]);
  // Its top may be a link: the user named it.
  await Deno.symlink(`${t.top}/sub.moved`, `${t.tmp.path}/named`);
  using named = LocalTree.open(`${t.tmp.path}/named`)!;
  equal(named.at(`${t.tmp.path}/named/deeper/a`).name, "a");
});

Deno.test("local_file: a folder gone before the tree reaches it is a local I/O error that names it", async () => {
  await using t = await heldTree();
  await Deno.remove(`${t.top}/sub`, { recursive: true });
  throws(
    () => t.tree.at(`${t.top}/sub/a.txt`),
    (e) => e instanceof LocalIoError && e.message === `Cannot write into "${t.top}/sub": not found`,
  );
  // And one emptied folder it made goes relative to its parent.
  t.tree.makeFolder(`${t.top}/made`);
  t.tree.folder(`${t.top}/made`);
  t.tree.removeFolder(`${t.top}/made`);
  deepEqual(await hostTree(t.top), []);
});

Deno.test("local_file: a small file lands in the folder the tree holds, not where a link put there since leads", async () => {
  await using t = await heldTree();
  const tree = t.tree;
  // Held from here on (a download holds each folder once it is made or swept).
  tree.folder(`${t.top}/sub`);
  tree.folder(`${t.top}/sub/deeper`);
  await t.swap();
  ok(
    landWholeNow(`${t.top}/sub/new.txt`, bytes("a"), {
      absent: true,
      mtime: null,
      mode: null,
      tree,
    }),
  );
  await landWhole(`${t.top}/sub/deeper/temp.txt`, bytes("b"), { mtime: 1e12, mode: 0o600, tree });
  deepEqual(await hostTree(`${t.tmp.path}/outside`), ["deeper/"]);
  equal(await Deno.readTextFile(`${t.top}/sub.moved/new.txt`), "a");
  equal(await Deno.readTextFile(`${t.top}/sub.moved/deeper/temp.txt`), "b");
  equal((await Deno.stat(`${t.top}/sub.moved/deeper/temp.txt`)).mode! & 0o777, 0o600);
  // Not held any more (evicted, or never opened): the link is refused.
  tree.forget(`${t.top}/sub`);
  await rejects(
    landWhole(`${t.top}/sub/late.txt`, bytes("c"), { mtime: null, mode: null, tree }),
    /symbolic link/,
  );
  deepEqual(await hostTree(`${t.tmp.path}/outside`), ["deeper/"]);
});

Deno.test("local_file: an atomic file of a tree holds its folder until it lands, and is removed there when discarded", async () => {
  await using t = await heldTree();
  const out = await AtomicFile.create(`${t.top}/sub/big.bin`, { tree: t.tree });
  const dropped = await AtomicFile.create(`${t.top}/sub/dropped.bin`, { tree: t.tree });
  await out.write(bytes("written across awaits"));
  // Swapped, and the tree's own descriptor closed: the file keeps its own.
  await t.swap();
  t.tree.forget(`${t.top}/sub`);
  await out.commit({ mtime: 1e12, mode: 0o640 });
  await dropped.discard();
  await dropped.discard();
  deepEqual(await hostTree(`${t.tmp.path}/outside`), ["deeper/"]);
  deepEqual(await hostTree(`${t.top}/sub.moved`), ["big.bin", "deeper/"]);
  const info = await Deno.stat(`${t.top}/sub.moved/big.bin`);
  deepEqual([info.mode! & 0o777, info.mtime?.getTime()], [0o640, 1e12]);
  await rejects(AtomicFile.create(`${t.top}/sub/late.bin`, { tree: t.tree }), /symbolic link/);
});

Deno.test("local_file: a held folder is swept and given its attributes through its descriptor", async () => {
  await using t = await heldTree();
  const stale = `.a.bftp-tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${t.top}/sub/${stale}`, "left by a killed get");
  await Deno.writeTextFile(`${t.tmp.path}/outside/${stale}`, "not ours to sweep");
  await Deno.writeTextFile(`${t.top}/sub/kept`, "");
  const fd = t.tree.folder(`${t.top}/sub`);
  await t.swap();
  deepEqual([...sweepFolder(`${t.top}/sub`, fd)].sort(), ["deeper", "kept"]);
  ok((await Deno.lstat(`${t.tmp.path}/outside/${stale}`)).isFile);
  ok(applyAttributesHere(t.tree.at(`${t.top}/sub/deeper`), { mtime: 1e12, mode: 0o700 }, "folder"));
  equal((await Deno.stat(`${t.top}/sub.moved/deeper`)).mtime?.getTime(), 1e12);
  const outside = await Deno.stat(`${t.tmp.path}/outside/deeper`);
  ok(outside.mtime?.getTime() !== 1e12 && (outside.mode! & 0o777) !== 0o700);
});

Deno.test("local_file: a tree holds a bounded number of folders, and opens an evicted one again", async () => {
  await using t = await heldTree();
  for (let i = 0; i <= MAX_HELD_FOLDERS; i++) Deno.mkdirSync(`${t.top}/f${i}`);
  // This tree's descriptors: those that name a folder of the test's (other tests of the process
  // open and close their own meanwhile).
  const open = () =>
    [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
      try {
        return Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(t.top);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return false; // closed meanwhile
        throw e;
      }
    }).length;
  const before = open();
  for (let i = 0; i <= MAX_HELD_FOLDERS; i++) t.tree.folder(`${t.top}/f${i}`);
  equal(open() - before, MAX_HELD_FOLDERS);
  ok(
    landWholeNow(`${t.top}/f0/a`, bytes("x"), {
      absent: true,
      mtime: null,
      mode: null,
      tree: t.tree,
    }),
  );
  equal(await Deno.readTextFile(`${t.top}/f0/a`), "x");
  t.tree[Symbol.dispose]();
  equal(open(), before - 1, "every folder and the top closed");
});

Deno.test("local_file: a tree removes an entry below it following no link on the way, a link itself, a folder once empty", async () => {
  await using tmp = await tempDir();
  const top = `${tmp.path}/top`;
  await Deno.mkdir(`${top}/a/b`, { recursive: true });
  await Deno.mkdir(`${tmp.path}/outside/b`, { recursive: true });
  await Deno.writeTextFile(`${tmp.path}/outside/f`, "keep");
  await Deno.writeTextFile(`${tmp.path}/outside/b/g`, "keep");
  await Deno.symlink(`${tmp.path}/outside`, `${top}/a/link`);
  await Deno.symlink(`${tmp.path}/outside`, `${top}/link`);
  using tree = LocalTree.open(top)!;
  // A link on the way, at the top's level or deeper: refused, nothing removed where it leads.
  throws(() => tree.removeFile(`${top}/link/f`), LocalIoError);
  throws(() => tree.removeFile(`${top}/a/link/f`), LocalIoError);
  throws(() => tree.removeFolder(`${top}/link/b`), LocalIoError);
  equal(await Deno.readTextFile(`${tmp.path}/outside/f`), "keep");
  equal(await Deno.readTextFile(`${tmp.path}/outside/b/g`), "keep");
  // A link as the entry is removed itself.
  tree.removeFile(`${top}/a/link`);
  ok((await Deno.stat(`${tmp.path}/outside/f`)).isFile);
  throws(() => Deno.lstatSync(`${top}/a/link`), Deno.errors.NotFound);
  // A folder only once empty; then it goes.
  throws(() => tree.removeFolder(`${top}/a`));
  tree.removeFolder(`${top}/a/b`);
  tree.removeFolder(`${top}/a`);
  throws(() => Deno.statSync(`${top}/a`), Deno.errors.NotFound);
  throws(() => tree.removeFile(`${top}/missing`), Deno.errors.NotFound);
});
