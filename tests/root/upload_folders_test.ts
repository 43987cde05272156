import { equal, notEqual, throws } from "node:assert/strict";
import { OutsideRoot } from "../../lib/root/beneath.ts";
import { Confined } from "../../lib/root/confined.ts";
import { MAX_UPLOAD_FOLDERS, UploadFolders } from "../../lib/root/upload_folders.ts";
import { checkUploadTarget } from "../../lib/root/upload_target.ts";
import { startUpload } from "../../lib/root/uploads.ts";
import { tempDir } from "../helpers.ts";

/** What the descriptor `fd` names, or `null` when it is closed. */
function namedBy(fd: number): string | null {
  try {
    return Deno.readLinkSync(`/proc/self/fd/${fd}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

Deno.test("root/upload_folders: files of one folder share its descriptor, closed once the request and its last upload are over", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(tmp.join("d"));
  const c = new Confined(tmp.path);
  try {
    const folders = new UploadFolders(c.fs, c.beneath);
    const a = folders.resolve(["d", "a"]);
    const b = folders.resolve(["d", "b"]);
    const top = folders.resolve(["t"]);
    equal(c.fs.stat(a.dir).ino, c.fs.stat(b.dir).ino);
    equal(c.fs.stat(top.dir).ino, BigInt(Deno.statSync(tmp.path).ino!));
    if (c.fs.atomic) equal(a.dir, b.dir, "one descriptor, not a duplicate a file");
    // The request ends first: the resolutions still work, and are released later.
    folders[Symbol.dispose]();
    const upload = startUpload({
      fs: c.fs,
      at: b,
      vpath: "/d/b",
      replaced: null,
      absent: true,
      overwrite: false,
      fsync: false,
    });
    await upload.sink.write(new TextEncoder().encode("b"));
    await upload.commit();
    equal(await Deno.readTextFile(tmp.join("d", "b")), "b");
    // b's upload is over; a still holds the folder.
    equal(c.fs.stat(a.dir).ino, BigInt(Deno.statSync(tmp.join("d")).ino!));
    a[Symbol.dispose]();
    // The last is over: the number no longer names the folder (another thread may have it now).
    if (c.fs.atomic) notEqual(namedBy(a.dir as number), tmp.join("d"));
    top[Symbol.dispose]();
    equal(c.fs.stat(top.dir).ino, BigInt(Deno.statSync(tmp.path).ino!), "the root stays open");
  } finally {
    c.fs.close();
  }
});

Deno.test("root/upload_folders: a folder link that leads out is refused, every time", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(tmp.join("root"));
  await Deno.mkdir(tmp.join("outside"));
  await Deno.symlink(tmp.join("outside"), tmp.join("root", "out"));
  const c = new Confined(tmp.join("root"));
  try {
    using folders = new UploadFolders(c.fs, c.beneath);
    throws(() => folders.resolve(["out", "x"]), OutsideRoot);
    throws(() => folders.resolve(["out", "y"]), OutsideRoot);
    throws(
      () => checkUploadTarget(c, "/out/z", true, false, { folders }),
      /outside the served root/,
    );
  } finally {
    c.fs.close();
  }
});

Deno.test("root/upload_folders: a folder removed after its first file refuses the next, which lands nowhere", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(tmp.join("d"));
  const c = new Confined(tmp.path);
  try {
    using folders = new UploadFolders(c.fs, c.beneath);
    checkUploadTarget(c, "/d/a", true, false, { folders }).at[Symbol.dispose]();
    await Deno.remove(tmp.join("d"));
    const target = checkUploadTarget(c, "/d/b", true, false, { folders });
    throws(() => startUpload(target), /not found|No such file/i);
    equal([...Deno.readDirSync(tmp.path)].length, 0);
  } finally {
    c.fs.close();
  }
});

Deno.test("root/upload_folders: past the most folders kept, each file still resolves its own", async () => {
  await using tmp = await tempDir();
  const names = Array.from({ length: MAX_UPLOAD_FOLDERS + 6 }, (_, i) => `d${i}`);
  for (const name of names) await Deno.mkdir(tmp.join(name));
  const c = new Confined(tmp.path);
  try {
    using folders = new UploadFolders(c.fs, c.beneath);
    for (const round of [1, 2]) {
      for (const name of names) {
        using at = folders.resolve([name, `f${round}`]);
        equal(c.fs.stat(at.dir).ino, BigInt(Deno.statSync(tmp.join(name)).ino!), name);
      }
    }
  } finally {
    c.fs.close();
  }
});
