import { deepEqual, equal } from "node:assert/strict";
import { Confined } from "../../lib/root/confined.ts";
import { commitUploads } from "../../lib/root/group_commit.ts";
import { checkUploadTarget, startUpload } from "../../lib/root/uploads.ts";
import { tempDir } from "../helpers.ts";

Deno.test("root/group_commit: a group commit lands every upload in order and flushes each folder once", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(tmp.join("a"));
  await Deno.mkdir(tmp.join("b"));
  const c = new Confined(tmp.path);
  try {
    // Counts the folder flushes of the real backend.
    const flushed: string[] = [];
    const syncDir = c.fs.syncDir.bind(c.fs);
    c.fs.syncDir = (ref) => {
      flushed.push(String(c.fs.stat(ref).ino));
      return syncDir(ref);
    };
    const paths = ["/a/1", "/a/2", "/b/1", "/a/3", "/b/2", "/a/1"];
    const group = [];
    for (const [i, vpath] of paths.entries()) {
      const upload = startUpload(checkUploadTarget(c, vpath, true, true));
      await upload.sink.write(new TextEncoder().encode(`${vpath} #${i}`));
      group.push({ upload, attributes: {} });
    }
    deepEqual(await commitUploads(group), paths.map(() => undefined));
    // Two uploads to one path land as they were sent: the later one stays.
    equal(await Deno.readTextFile(tmp.join("a", "1")), "/a/1 #5");
    equal(await Deno.readTextFile(tmp.join("b", "2")), "/b/2 #4");
    const inodes = [tmp.join("a"), tmp.join("b")].map((p) => String(Deno.statSync(p).ino));
    deepEqual(flushed.sort(), inodes.sort(), "one flush per folder, not one per upload");
    deepEqual((await Array.fromAsync(Deno.readDir(tmp.join("a")))).map((e) => e.name).sort(), [
      "1",
      "2",
      "3",
    ]);
  } finally {
    c.fs.close();
  }
});
