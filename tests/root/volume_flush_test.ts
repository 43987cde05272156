import { deepEqual, equal } from "node:assert/strict";
import { Libc } from "../../lib/libc/libc.ts";
import { flushableVolumes, syncfsReportsErrors } from "../../lib/root/volume_flush.ts";
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
  deepEqual([...flushableVolumes(devices)], expected, `the temporary folder is on ${tmpType}`);
  equal(flushableVolumes([]).size, 0);
});
