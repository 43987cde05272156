import { deepEqual, equal } from "node:assert/strict";
import { Libc } from "../../lib/libc/libc.ts";
import {
  flushableVolumes,
  readVolumeFacts,
  syncfsReportsErrors,
  VOLUME_FLUSH_DIRTY_MAX,
  waitingBytes,
} from "../../lib/root/volume_flush.ts";
import { tempDir } from "../helpers.ts";

Deno.test("root/volume_flush: only Linux 5.8 and later report a failed write-back through syncfs", () => {
  const releases = [
    "5.8.0",
    "5.10.0-28-amd64",
    "6.18.44-fc-v1272",
    "10.0",
    "5.7.19",
    "4.19.0",
    "",
    "v6",
  ];
  deepEqual(releases.map(syncfsReportsErrors), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
});

Deno.test("root/volume_flush: a local disk or tmpfs is flushed whole, /proc and unknown devices never", async () => {
  const libc = Libc.load();
  if (libc === null || !syncfsReportsErrors(Deno.osRelease())) return;
  await using tmp = await tempDir();
  const deviceOf = (path: string) => {
    const fd = libc.openat(-100, path, 0o10000000);
    try {
      return libc.statx(fd, "", 0x1000).dev;
    } finally {
      libc.close(fd);
    }
  };
  const table = await Deno.readTextFile("/proc/self/mountinfo");
  const tmpType = table.split("\n").find((l) => l.split(" ")[2] === deviceOf(tmp.path))
    ?.split(" - ")[1]?.split(" ")[0];
  const devices = [deviceOf(tmp.path), deviceOf("/proc"), "999:999"];
  const expected = ["ext4", "xfs", "btrfs", "tmpfs"].includes(tmpType ?? "") ? [devices[0]] : [];
  // This machine's kernel and mount table, with little data waiting to be written.
  const facts = { ...readVolumeFacts(), meminfo: "Dirty: 100 kB\nWriteback: 0 kB\n" };
  deepEqual(
    [...flushableVolumes(devices, facts)],
    expected,
    `the temporary folder is on ${tmpType}`,
  );
  equal(flushableVolumes([], facts).size, 0);
});

Deno.test("root/volume_flush: with much data waiting to be written, or no counters, no volume is flushed whole", () => {
  const mountinfo = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 0:27 / /tmp rw - tmpfs tmpfs rw";
  const facts = (dirtyKiB: number, writebackKiB: number) => ({
    release: "6.1.0",
    meminfo: `MemFree: 1 kB\nDirty: ${dirtyKiB} kB\nWriteback: ${writebackKiB} kB\n`,
    mountinfo,
  });
  const limitKiB = VOLUME_FLUSH_DIRTY_MAX / 1024;
  deepEqual([...flushableVolumes(["8:1", "0:27"], facts(limitKiB - 4, 4))], ["8:1", "0:27"]);
  deepEqual(
    [...flushableVolumes(["8:1"], facts(limitKiB, 4))],
    [],
    "over the limit, counting write-back",
  );
  deepEqual([...flushableVolumes(["8:1"], { ...facts(0, 0), meminfo: null })], []);
  deepEqual([...flushableVolumes(["8:1"], { ...facts(0, 0), mountinfo: null })], []);
  deepEqual([...flushableVolumes(["8:1"], { ...facts(0, 0), release: null })], []);
  equal(waitingBytes(facts(3, 5).meminfo), 8 * 1024);
  equal(waitingBytes("Dirty: 3 kB\n"), null);
});

Deno.test("root/volume_flush: a device's type is looked up again in a mount table that changed", () => {
  const facts = (type: string) => ({
    release: "6.1.0",
    meminfo: "Dirty: 0 kB\nWriteback: 0 kB\n",
    mountinfo: `22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 0:45 / /mnt/x rw - ${type} x rw`,
  });
  deepEqual([...flushableVolumes(["0:45"], facts("tmpfs"))], ["0:45"]);
  deepEqual([...flushableVolumes(["0:45"], facts("fuse.glusterfs"))], [], "a FUSE mount took 0:45");
  deepEqual([...flushableVolumes(["0:45", "8:1"], facts("tmpfs"))], ["0:45", "8:1"]);
});

Deno.test("root/volume_flush: the facts read are this machine's kernel and mount table", () => {
  if (Deno.build.os !== "linux") return;
  const [first, second] = [readVolumeFacts(), readVolumeFacts()];
  equal(first.release, Deno.osRelease());
  equal(second.mountinfo, first.mountinfo);
  equal(first.mountinfo?.includes(" - "), true);
});
