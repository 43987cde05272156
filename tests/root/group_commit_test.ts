import { deepEqual, equal } from "node:assert/strict";
import { errnoError } from "../../lib/libc/errno.ts";
import { Confined } from "../../lib/root/confined.ts";
import { commitUploads, type GroupedUpload } from "../../lib/root/group_commit.ts";
import { checkUploadTarget } from "../../lib/root/upload_target.ts";
import { startUpload } from "../../lib/root/uploads.ts";
import { VOLUME_FLUSH_MIN } from "../../lib/root/volume_flush.ts";
import { tempDir } from "../helpers.ts";

/** Every volume may be flushed whole (whatever this machine's disk and its dirty data). */
const everyVolume = (devices: Iterable<string>) => new Set(devices);

/** Uploads of `vpath #i` to each of `paths`, their bodies written, not committed. */
async function groupOf(c: Confined, paths: string[]): Promise<GroupedUpload[]> {
  const group = [];
  for (const [i, vpath] of paths.entries()) {
    const upload = startUpload(checkUploadTarget(c, vpath, true, true));
    await upload.sink.write(new TextEncoder().encode(`${vpath} #${i}`));
    group.push({ upload, attributes: {} });
  }
  return group;
}

/** Counts each upload's volume flushes (by device), and fails them while `failing` says so. */
function countVolumeFlushes(group: GroupedUpload[], failing = () => false): string[] {
  const synced: string[] = [];
  for (const { upload } of group) {
    const volume = upload.steps.volume;
    upload.steps.volume = () => {
      const v = volume();
      return v && {
        key: v.key,
        sync: () => {
          synced.push(v.key);
          return failing() ? Promise.reject(errnoError("syncfs", 5)) : v.sync();
        },
      };
    };
  }
  return synced;
}

Deno.test("root/group_commit: a small group lands every upload in order and flushes each folder once", async () => {
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
    const paths = ["/a/1", "/b/2", "/a/1"];
    equal(paths.length < VOLUME_FLUSH_MIN, true);
    const group = await groupOf(c, paths);
    const volumeFlushes = countVolumeFlushes(group);
    deepEqual(await commitUploads(group), paths.map(() => undefined));
    // Two uploads to one path land as they were sent: the later one stays.
    equal(await Deno.readTextFile(tmp.join("a", "1")), "/a/1 #2");
    equal(await Deno.readTextFile(tmp.join("b", "2")), "/b/2 #1");
    const inodes = [tmp.join("a"), tmp.join("b")].map((p) => String(Deno.statSync(p).ino));
    deepEqual(flushed.sort(), inodes.sort(), "one flush per folder, not one per upload");
    deepEqual(volumeFlushes, [], "a group this small flushes no volume whole");
    deepEqual((await Array.fromAsync(Deno.readDir(tmp.join("a")))).map((e) => e.name), ["1"]);
  } finally {
    c.fs.close();
  }
});

Deno.test("root/group_commit: a large group on a local volume flushes it whole, before the renames and after", async () => {
  await using tmp = await tempDir();
  await Deno.mkdir(tmp.join("a"));
  await Deno.mkdir(tmp.join("b"));
  const c = new Confined(tmp.path);
  try {
    const paths = ["/a/1", "/a/2", "/b/1", "/a/3", "/b/2", "/a/1"];
    const group = await groupOf(c, paths);
    const dev = group[0]!.upload.steps.volume()?.key;
    if (dev === undefined) return; // no syncfs here (not Linux)
    const synced = countVolumeFlushes(group);
    deepEqual(await commitUploads(group, everyVolume), paths.map(() => undefined));
    equal(await Deno.readTextFile(tmp.join("a", "1")), "/a/1 #5");
    equal(await Deno.readTextFile(tmp.join("b", "2")), "/b/2 #4");
    deepEqual(synced, [dev, dev], "one flush of the volume before, one after");
    deepEqual((await Array.fromAsync(Deno.readDir(tmp.join("a")))).map((e) => e.name).sort(), [
      "1",
      "2",
      "3",
    ]);
  } finally {
    c.fs.close();
  }
});

Deno.test("root/group_commit: a large group on a volume that may not be flushed whole flushes file by file", async () => {
  await using tmp = await tempDir();
  const c = new Confined(tmp.path);
  try {
    const group = await groupOf(c, ["/1", "/2", "/3", "/4", "/5"]);
    const synced = countVolumeFlushes(group);
    deepEqual(await commitUploads(group, () => new Set()), group.map(() => undefined));
    deepEqual(synced, []);
    equal(await Deno.readTextFile(tmp.join("5")), "/5 #4");
  } finally {
    c.fs.close();
  }
});

Deno.test("root/group_commit: a failed volume flush before the renames fails every upload and lands none", async () => {
  await using tmp = await tempDir();
  const c = new Confined(tmp.path);
  try {
    const paths = ["/1", "/2", "/3", "/4", "/5"];
    const group = await groupOf(c, paths);
    const dev = group[0]!.upload.steps.volume()?.key;
    if (dev === undefined) return; // no syncfs here (not Linux)
    const synced = countVolumeFlushes(group, () => true);
    const errors = await commitUploads(group, everyVolume);
    // No wire code says "the disk failed": each upload gets the flush's EIO (answered SERVER).
    deepEqual(errors.map((e) => (e as { code?: string }).code), paths.map(() => "EIO"));
    deepEqual(synced, [dev], "one flush tried, for the whole volume");
    deepEqual(await Array.fromAsync(Deno.readDir(tmp.path)), [], "no file and no temporary left");
  } finally {
    c.fs.close();
  }
});
