/**
 * Group commit: several uploads whose bodies have arrived land together,
 * each as its own commit would, with their flushes shared (see
 * docs/SECURITY.md, "Durability and pipelined uploads").
 *
 * @module
 */

import type { Upload } from "./uploads.ts";
import type { FileAttributes } from "./tree_backend.ts";
import { flushableVolumes, VOLUME_FLUSH_MIN } from "./volume_flush.ts";

/** Which of some devices may be flushed whole ({@linkcode flushableVolumes}'s shape). */
export type FlushableVolumes = (devices: Iterable<string>) => Set<string>;

/**
 * The steps of an upload's commit. Several uploads committed together
 * (group commit) flush their data in parallel, rename one by one, then
 * flush their folders in parallel: with fsync on, a group of N costs about
 * two flushes of waiting instead of 2N. A group of
 * {@linkcode VOLUME_FLUSH_MIN} or more on a volume that can be flushed
 * whole (`volume_flush.ts`) flushes it once before the renames and once
 * after, instead.
 */
export interface CommitSteps {
  /** Flushes the file's data (when the root flushes). */
  flush(): Promise<void>;
  /** Sets the attributes and renames the temporary file over the target. */
  place(attributes: FileAttributes): void;
  /**
   * The folder to flush once the file is renamed into it (when the root
   * flushes; `null` otherwise): its identity (device and inode), so that a
   * group flushes each folder once, and the flush.
   */
  folder(): { key: string; sync(): Promise<void> } | null;
  /**
   * The volume the file is on, to flush whole (when the root flushes and
   * the file can: `null` otherwise): its device (`major:minor`), and the
   * flush (`syncfs`), which makes the file's data and every rename done
   * on that volume before it durable.
   */
  volume(): { key: string; sync(): Promise<void> } | null;
  /** Closes the upload. */
  settle(): void;
  /** After a failed step: removes the temporary file, and returns the error as the client sees it. */
  fail(e: unknown): Promise<unknown>;
}

/** One upload of a group and what its file keeps (`put -p`). */
export interface GroupedUpload {
  /** The upload, its body received whole. */
  upload: Upload;
  /** Its attributes. */
  attributes: FileAttributes;
}

/**
 * Commits several uploads together, each as {@linkcode Upload.commit}
 * would, but flushing their data, then their folders (each folder once),
 * in parallel.
 *
 * @param group The uploads, in order.
 * @param flushable Which volumes may be flushed whole.
 * @returns For each upload, `undefined` when it landed, or its error (a
 *   `RemoteError`, or an unexpected one such as a flush's `EIO`).
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { commitUploads } from "./group_commit.ts";
 * import { checkUploadTarget } from "./upload_target.ts";
 * import { startUpload } from "./uploads.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   const group = ["a", "b"].map((name) => {
 *     const upload = startUpload(checkUploadTarget(new Confined(dir), `/${name}`, true, true));
 *     return { upload, attributes: {} };
 *   });
 *   for (const { upload } of group) await upload.sink.write(new TextEncoder().encode("hi"));
 *   deepEqual(await commitUploads(group), [undefined, undefined]);
 *   deepEqual(await Deno.readTextFile(`${dir}/b`), "hi");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function commitUploads(
  group: GroupedUpload[],
  flushable: FlushableVolumes = flushableVolumes,
): Promise<unknown[]> {
  const errors: unknown[] = group.map(() => undefined);
  const each = (step: (g: GroupedUpload) => Promise<void> | void) =>
    group.map(async (g, i) => {
      if (errors[i] !== undefined) return;
      try {
        await step(g);
      } catch (e) {
        errors[i] = await failed(g, e);
      }
    });
  const volumes = wholeVolumes(group, flushable);
  if (volumes !== null) await flushVolumes(group, volumes, errors);
  else await Promise.all(each((g) => g.upload.steps.flush()));
  // Renamed one at a time, in order: two uploads to one path land as they were sent.
  for (const step of each((g) => g.upload.steps.place(g.attributes))) await step;
  if (volumes !== null) await flushVolumes(group, volumes, errors);
  else await Promise.all(each(folderFlushes()));
  await Promise.all(each((g) => g.upload.steps.settle()));
  return errors;
}

/**
 * Fails one upload of the group after `e` (its temporary removed): the
 * error its client is told, or, for an error no code describes (an `EIO`
 * of a flush), that error itself, which the session answers as `SERVER`:
 * the group's other uploads are still failed or landed and answered.
 */
async function failed(g: GroupedUpload, e: unknown): Promise<unknown> {
  try {
    return await g.upload.steps.fail(e);
  } catch (unexpected) {
    return unexpected;
  }
}

/**
 * A step that flushes each upload's folder, each folder once for the group
 * (a tree's uploads share a few): an open and an fsync of a folder cost
 * about 60 us here, a stat to tell folders apart a few.
 */
function folderFlushes(): (g: GroupedUpload) => Promise<void> | undefined {
  const flushes = new Map<string, Promise<void>>();
  return (g) => {
    const folder = g.upload.steps.folder();
    if (folder === null) return;
    let flushed = flushes.get(folder.key);
    if (flushed === undefined) flushes.set(folder.key, flushed = folder.sync());
    return flushed;
  };
}

/**
 * The group's uploads by volume, when the group is large enough and every
 * volume can be flushed whole; `null` to flush file by file.
 */
function wholeVolumes(
  group: GroupedUpload[],
  flushable: FlushableVolumes,
): Map<string, number[]> | null {
  if (group.length < VOLUME_FLUSH_MIN) return null;
  const byVolume = new Map<string, number[]>();
  for (const [i, g] of group.entries()) {
    const volume = g.upload.steps.volume();
    if (volume === null) return null;
    const members = byVolume.get(volume.key);
    if (members === undefined) byVolume.set(volume.key, [i]);
    else members.push(i);
  }
  const whole = flushable(byVolume.keys());
  return [...byVolume.keys()].every((key) => whole.has(key)) ? byVolume : null;
}

/**
 * Flushes each volume once, through one of its uploads still going; a
 * failed flush fails every upload on that volume not failed already.
 */
async function flushVolumes(
  group: GroupedUpload[],
  volumes: Map<string, number[]>,
  errors: unknown[],
): Promise<void> {
  await Promise.all([...volumes.values()].map(async (members) => {
    const going = members.filter((i) => errors[i] === undefined);
    if (going.length === 0) return;
    try {
      await group[going[0]!]!.upload.steps.volume()!.sync();
    } catch (e) {
      for (const i of going) errors[i] = await failed(group[i]!, e);
    }
  }));
}
