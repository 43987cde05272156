import { equal } from "node:assert/strict";
import { SETTLE_FINE_MS } from "../../lib/root/hash_cache.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { isSharedType, mountTypeOf, mountTypeOfDevice } from "../../lib/root/shared_volume.ts";
import { sha256, tempDir } from "../helpers.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TABLE = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw",
  "30 22 0:27 / /tmp rw shared:2 - tmpfs tmpfs rw",
  "41 30 0:50 / /tmp/gv\\040a rw,relatime shared:9 - fuse.glusterfs vm:/gv rw,allow_other",
  "42 22 0:51 / /srv/nfs rw master:3 - nfs4 fs:/export rw,vers=4.2",
  "43 22 0:52 / /srv/nfs rw - ext4 /dev/vdb rw",
].join("\n");

Deno.test("root: mountTypeOf() finds the mount holding a path: the deepest, the later on one point, escapes read", () => {
  equal(mountTypeOf(TABLE, "/tmp/gv a/files/x"), "fuse.glusterfs");
  equal(mountTypeOf(TABLE, "/tmp/gv a"), "fuse.glusterfs");
  equal(mountTypeOf(TABLE, "/tmp/gv ab"), "tmpfs", "a longer name is not beneath the mount");
  equal(mountTypeOf(TABLE, "/srv/nfs/a"), "ext4", "mounted on top of the NFS export");
  equal(mountTypeOf(TABLE, "/home"), "ext4");
  equal(mountTypeOf("", "/home"), null);
});

Deno.test("root: mountTypeOfDevice() finds a device's file system, the same for each of its mounts", () => {
  equal(mountTypeOfDevice(TABLE, "0:50"), "fuse.glusterfs");
  equal(mountTypeOfDevice(TABLE, "8:1"), "ext4");
  equal(mountTypeOfDevice(TABLE, "0:52"), "ext4");
  equal(mountTypeOfDevice(TABLE, "0:5"), null, "a prefix of a device is not the device");
  equal(mountTypeOfDevice("", "8:1"), null);
});

Deno.test("root: isSharedType() takes network, cluster and FUSE file systems, not local ones", () => {
  for (const t of ["fuse.glusterfs", "fuse.sshfs", "nfs", "nfs4", "ceph", "cifs", "smb3", "9p"]) {
    equal(isSharedType(t), true, t);
  }
  for (const t of ["ext4", "xfs", "btrfs", "tmpfs", "overlay", "fuseblk", "zfs"]) {
    equal(isSharedType(t), false, t);
  }
});

Deno.test("root: a root on a shared volume remembers no hash (another head may change the file unseen)", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(tmp.join("a.txt"), "version A");
  await delay(SETTLE_FINE_MS * 2);
  const remembered = async (root: ServedRoot) => {
    equal((await root.hash("/a.txt")).sha256, sha256("version A"));
    const opened = await root.openRead("/a.txt");
    opened.close();
    return opened.sha256;
  };
  const local = await ServedRoot.open(tmp.path, { shared: false });
  const shared = await ServedRoot.open(tmp.path, { shared: true });
  try {
    equal(local.sharedVolume, null);
    equal(shared.sharedVolume, "shared");
    equal(await remembered(local), sha256("version A"), "a local root remembers it");
    equal(await remembered(shared), undefined);
  } finally {
    local.close();
    shared.close();
  }
});
