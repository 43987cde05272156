/**
 * Whether a folder lives on a volume other machines write to (GlusterFS,
 * CephFS, NFS, SMB, any FUSE file system), found from the kernel's mount
 * table (`/proc/self/mountinfo`, Linux).
 *
 * On such a volume another bftp head, or anyone, changes files this server
 * never sees change, and the status it reads is only as fresh as its
 * client's attribute cache, and its clock may not be the writer's: the
 * server then remembers no file hashes (see docs/SCALING.md).
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
  let best: { point: string; type: string } | null = null;
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    const point = left?.split(" ")[4];
    const type = right?.split(" ")[0];
    if (point === undefined || type === undefined) continue;
    const mounted = unescapeField(point);
    const holds = mounted === "/" || path === mounted || path.startsWith(`${mounted}/`);
    // Equal lengths: the later line is the later mount, on top.
    if (holds && (best === null || mounted.length >= best.point.length)) {
      best = { point: mounted, type };
    }
  }
  return best?.type ?? null;
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
  let table: string;
  try {
    table = Deno.readTextFileSync("/proc/self/mountinfo");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return null;
    throw e;
  }
  const type = mountTypeOf(table, realPath);
  return type !== null && isSharedType(type) ? type : null;
}
