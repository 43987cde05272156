/**
 * Whether a group of uploads may flush their file system whole, with one
 * `syncfs(2)`, instead of one `fdatasync(2)` a file. Measured here on ext4,
 * 1,000 new 4 KiB files in groups of 64 (data flushed, renamed, flushed
 * again), 6 runs interleaved: 0.28-0.47 s with a `syncfs` before and after
 * the renames, 0.35-0.59 s with an `fdatasync` a file and one a folder,
 * 0.30-0.54 s with no flush at all.
 *
 * But a `syncfs` also waits for every other writer's data on that file
 * system: after 200 MB written by another program and not yet on disk, it
 * took 0.45-0.66 s against `fdatasync`'s 0.33-0.50 s. So a group flushes
 * the volume only while the machine holds little data waiting to be
 * written (`Dirty` and `Writeback` of `/proc/meminfo`, at most
 * {@linkcode VOLUME_FLUSH_DIRTY_MAX}).
 *
 * `syncfs` is trusted only where it is both durable and honest:
 * - a local file system whose `sync_fs` writes its journal or log and
 *   flushes the disk (ext4, XFS, Btrfs, F2FS; tmpfs has nothing to flush).
 *   A FUSE or network mount's `syncfs` writes the kernel's cache back to
 *   its daemon or server without asking it to flush: those keep `fdatasync`;
 * - Linux 5.8 or later, the first to report a failed write-back through
 *   `syncfs` (earlier ones return 0 regardless).
 *
 * The kernel's release is read once, the mount table at most once a second
 * ({@linkcode MOUNT_TABLE_FRESH_MS}), each device's type in it looked up once:
 * read for each group, they cost about 80 us of 14 uploads (51 us the table,
 * 8 the release, the rest the lookups), 7% of a small upload's server CPU.
 * A mount made within that second is seen late: a FUSE mount that took the
 * number of a local one unmounted in the same second would have one group
 * flushed by `syncfs` (written back to its daemon, not flushed by it).
 * Memory counters change fast: they are read for each group (20 us).
 *
 * @module
 */

import { mountTypeOfDevice, readProcText } from "./shared_volume.ts";

/** The fewest uploads a group flushes by volume: fewer flush file by file. */
export const VOLUME_FLUSH_MIN = 4;

/** The most data waiting to be written, machine-wide, at which a group still flushes its volume whole. */
export const VOLUME_FLUSH_DIRTY_MAX = 16 * 1024 * 1024;

/** How long one reading of the mount table is used, in milliseconds. */
export const MOUNT_TABLE_FRESH_MS = 1000;

/** File systems whose `syncfs` makes everything written so far durable. */
const FLUSHABLE_TYPES = new Set(["ext4", "ext3", "xfs", "btrfs", "f2fs", "tmpfs"]);

/**
 * Whether a kernel release (`uname -r`, `Deno.osRelease()`) reports
 * failed write-backs through `syncfs`: Linux 5.8 or later.
 *
 * @param release The release, `6.1.0-18-amd64` say.
 * @returns Whether it is 5.8 or later.
 *
 * @example
 * ```ts
 * import { syncfsReportsErrors } from "./volume_flush.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(["6.1.0-18-amd64", "5.8.0", "5.4.0-150", "4.19.0", "x"].map(syncfsReportsErrors), [true, true, false, false, false]);
 * ```
 */
export function syncfsReportsErrors(release: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(release);
  if (match === null) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 5 || (major === 5 && minor >= 8);
}

/** What decides whether a volume may be flushed whole: the system's own texts. */
export interface VolumeFacts {
  /** The kernel's release (`Deno.osRelease()`), or `null` off Linux. */
  release: string | null;
  /** The text of `/proc/meminfo`, or `null` when unreadable. */
  meminfo: string | null;
  /** The text of `/proc/self/mountinfo`, or `null` when unreadable. */
  mountinfo: string | null;
}

/**
 * Which of `devices` (`major:minor`, as `statx` gives them) may be flushed
 * whole: those whose file system is a local one that flushes honestly, on
 * a kernel that reports failures, while little data waits to be written.
 *
 * @param devices The devices.
 * @param facts The kernel, its memory counters and its mount table
 *   (by default read now: {@linkcode readVolumeFacts}).
 * @returns The flushable ones (none off Linux, on an older kernel, or with
 *   more than {@linkcode VOLUME_FLUSH_DIRTY_MAX} waiting).
 *
 * @example
 * ```ts
 * import { flushableVolumes } from "./volume_flush.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const mountinfo = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 0:45 / /mnt/gv rw - fuse.glusterfs vm:/gv rw";
 * const facts = { release: "6.1.0", meminfo: "Dirty: 8 kB\nWriteback: 0 kB", mountinfo };
 * deepEqual([...flushableVolumes(["8:1", "0:45"], facts)], ["8:1"]);
 * deepEqual([...flushableVolumes(["8:1"], { ...facts, release: "5.4.0" })], []);
 * deepEqual([...flushableVolumes(["8:1"], { ...facts, meminfo: "Dirty: 900000 kB\nWriteback: 0 kB" })], []);
 * ```
 */
export function flushableVolumes(
  devices: Iterable<string>,
  facts: VolumeFacts = readVolumeFacts(),
): Set<string> {
  const flushable = new Set<string>();
  if (facts.release === null || !syncfsReportsErrors(facts.release)) return flushable;
  const waiting = waitingBytes(facts.meminfo ?? "");
  if (waiting === null || waiting > VOLUME_FLUSH_DIRTY_MAX) return flushable;
  const table = facts.mountinfo;
  if (table === null) return flushable;
  for (const dev of devices) {
    const type = deviceType(table, dev);
    if (type !== null && FLUSHABLE_TYPES.has(type)) flushable.add(dev);
  }
  return flushable;
}

/** The devices' types found in the last mount table looked in. */
let types: { table: string; of: Map<string, string | null> } = { table: "", of: new Map() };

/** `dev`'s type in `table`, each looked up once while the table stays the same. */
function deviceType(table: string, dev: string): string | null {
  if (types.table !== table) types = { table, of: new Map() };
  let type = types.of.get(dev);
  if (type === undefined) types.of.set(dev, type = mountTypeOfDevice(table, dev));
  return type;
}

/** The kernel's release, once read. */
let release: string | undefined;

/** The last reading of the mount table and when it was made (`performance.now()`). */
let mountTable: { text: string | null; at: number } | null = null;

/** The mount table as read at most {@linkcode MOUNT_TABLE_FRESH_MS} ago. */
function recentMountTable(): string | null {
  const now = performance.now();
  if (mountTable === null || now - mountTable.at > MOUNT_TABLE_FRESH_MS) {
    mountTable = { text: readProcText("/proc/self/mountinfo"), at: now };
  }
  return mountTable.text;
}

/**
 * The kernel's release (read once), memory counters (read now) and mount
 * table (read at most {@linkcode MOUNT_TABLE_FRESH_MS} ago), each when first
 * looked at.
 *
 * @returns The facts ({@linkcode VolumeFacts}; `null` fields off Linux).
 *
 * @example
 * ```ts
 * import { readVolumeFacts } from "./volume_flush.ts";
 * import { equal } from "node:assert/strict";
 *
 * const facts = readVolumeFacts();
 * equal(Deno.build.os !== "linux" || facts.meminfo?.includes("Dirty:"), true);
 * ```
 */
export function readVolumeFacts(): VolumeFacts {
  if (Deno.build.os !== "linux") return { release: null, meminfo: null, mountinfo: null };
  // Read when asked: a group that may not flush its volume whole (too much waiting to be
  // written) never reads the mount table.
  return {
    release: release ??= Deno.osRelease(),
    get meminfo() {
      return readProcText("/proc/meminfo");
    },
    get mountinfo() {
      return recentMountTable();
    },
  };
}

/**
 * The bytes written but not yet on disk, machine-wide, from the text of a
 * `/proc/meminfo`: its `Dirty` and `Writeback` lines.
 *
 * @param meminfo The text.
 * @returns The bytes, or `null` when a line is missing.
 *
 * @example
 * ```ts
 * import { waitingBytes } from "./volume_flush.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(waitingBytes("MemFree: 10 kB\nDirty:  528 kB\nWriteback:   4 kB\n"), 532 * 1024);
 * equal(waitingBytes("MemFree: 10 kB\n"), null);
 * ```
 */
export function waitingBytes(meminfo: string): number | null {
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(meminfo);
    return match === null ? null : Number(match[1]) * 1024;
  };
  const [dirty, writeback] = [kib("Dirty"), kib("Writeback")];
  return dirty === null || writeback === null ? null : dirty + writeback;
}
