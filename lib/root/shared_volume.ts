/**
 * Whether a folder lives on a volume other machines write to (GlusterFS,
 * CephFS, NFS, SMB, any FUSE file system), found from the kernel's mount
 * table (`/proc/self/mountinfo`, Linux).
 *
 * On such a volume another bftp head, or anyone, changes files this server
 * never sees change, and the status it reads is only as fresh as its
 * client's attribute cache, and its clock may not be the writer's: the
 * server then remembers no file hashes (see docs/SCALING.md). The table's
 * type of a device also tells group commit whether a volume can be flushed
 * whole (`volume_flush.ts`).
 *
 * @module
 */

/**
 * File-system types whose files other machines change: network and cluster
 * file systems, and FUSE (GlusterFS, CephFS's ceph-fuse, sshfs, s3fs... all
 * mount as `fuse.NAME`; `fuseblk`, a local disk through FUSE, is not one).
 */
const SHARED_TYPES = new Set([
  "nfs",
  "nfs4",
  "ceph",
  "cifs",
  "smb3",
  "smbfs",
  "9p",
  "virtiofs",
  "afs",
  "glusterfs",
  "gfs2",
  "ocfs2",
  "lustre",
  "beegfs",
  "gpfs",
  "fuse",
]);

/**
 * Whether a mount table's file-system type is a shared one.
 *
 * @param type The type as `/proc/self/mountinfo` gives it (`ext4`, `fuse.glusterfs`).
 * @returns Whether other machines may write to it.
 *
 * @example
 * ```ts
 * import { isSharedType } from "./shared_volume.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(isSharedType("fuse.glusterfs"), true);
 * equal(isSharedType("nfs4"), true);
 * equal(isSharedType("ext4"), false);
 * equal(isSharedType("fuseblk"), false);
 * ```
 */
export function isSharedType(type: string): boolean {
  return SHARED_TYPES.has(type) || type.startsWith("fuse.");
}

/** A mountinfo path field: spaces, tabs, newlines and backslashes are octal escapes (`\040`). */
function unescapeField(field: string): string {
  return field.replace(
    /\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
  );
}

/**
 * The file-system type of the mount that holds `path`, from the text of a
 * `/proc/self/mountinfo`: the last listed mount whose mount point is `path`
 * or one of its parents (a later mount hides an earlier one).
 *
 * @param mountinfo The mount table's text.
 * @param path An absolute path with no links in it (a real path).
 * @returns The type, or `null` when no mount holds it.
 *
 * @example
 * ```ts
 * import { mountTypeOf } from "./shared_volume.ts";
 * import { equal } from "node:assert/strict";
 *
 * const table = [
 *   "22 1 8:1 / / rw - ext4 /dev/sda1 rw",
 *   "40 22 0:45 / /mnt/gv rw - fuse.glusterfs vm:/gv rw",
 * ].join("\n");
 * equal(mountTypeOf(table, "/mnt/gv/files"), "fuse.glusterfs");
 * equal(mountTypeOf(table, "/mnt/gvx"), "ext4");
 * ```
 */
export function mountTypeOf(mountinfo: string, path: string): string | null {
  let best: MountLine | null = null;
  for (const mount of mountLines(mountinfo)) {
    const holds = mount.point === "/" || path === mount.point ||
      path.startsWith(`${mount.point}/`);
    // Equal lengths: the later line is the later mount, on top.
    if (holds && (best === null || mount.point.length >= best.point.length)) best = mount;
  }
  return best?.type ?? null;
}

/**
 * The file-system type of the mount whose device is `dev`, from the text
 * of a `/proc/self/mountinfo` (every mount of one device, a bind mount
 * say, is one file system).
 *
 * @param mountinfo The mount table's text.
 * @param dev The device as `statx` gives it: `major:minor`.
 * @returns The type, or `null` when no mount has that device.
 *
 * @example
 * ```ts
 * import { mountTypeOfDevice } from "./shared_volume.ts";
 * import { equal } from "node:assert/strict";
 *
 * const table = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 0:45 / /mnt/gv rw - fuse.glusterfs vm:/gv rw";
 * equal(mountTypeOfDevice(table, "0:45"), "fuse.glusterfs");
 * equal(mountTypeOfDevice(table, "8:2"), null);
 * ```
 */
export function mountTypeOfDevice(mountinfo: string, dev: string): string | null {
  let type: string | null = null;
  for (const mount of mountLines(mountinfo)) if (mount.dev === dev) type = mount.type;
  return type;
}

/** What a mount table line gives: the device, the mount point, the type. */
interface MountLine {
  dev: string;
  point: string;
  type: string;
}

function* mountLines(mountinfo: string): Generator<MountLine> {
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    const fields = left?.split(" ");
    const dev = fields?.[2];
    const point = fields?.[4];
    const type = right?.split(" ")[0];
    if (dev === undefined || point === undefined || type === undefined) continue;
    yield { dev, point: unescapeField(point), type };
  }
}

/**
 * The text of a file of `/proc` (the mount table, the memory counters), or
 * `null` where it cannot be read (not Linux).
 *
 * @param path Its path: `/proc/self/mountinfo`, `/proc/meminfo`...
 * @returns The text, or `null`.
 *
 * @example
 * ```ts
 * import { readProcText } from "./shared_volume.ts";
 * import { equal } from "node:assert/strict";
 *
 * const table = readProcText("/proc/self/mountinfo");
 * equal(table === null || table.includes(" - "), true);
 * ```
 */
export function readProcText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return null;
    throw e;
  }
}

/**
 * The type of the shared file system that holds `realPath`, or `null` when
 * it is a local one or the mount table cannot be read (not Linux).
 *
 * @param realPath An absolute path with no links in it (`Deno.realPath`'s).
 * @returns `fuse.glusterfs`, `nfs4`... or `null`.
 *
 * @example
 * ```ts
 * import { sharedVolumeType } from "./shared_volume.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * equal(typeof (sharedVolumeType(dir) ?? ""), "string");
 * await Deno.remove(dir);
 * ```
 */
export function sharedVolumeType(realPath: string): string | null {
  const table = readProcText("/proc/self/mountinfo");
  if (table === null) return null;
  const type = mountTypeOf(table, realPath);
  return type !== null && isSharedType(type) ? type : null;
}
