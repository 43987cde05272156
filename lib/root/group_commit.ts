/**
 * Group commit: several uploads whose bodies have arrived land together,
 * each as its own commit would, with their flushes shared (see
 * docs/SECURITY.md, "Durability and pipelined uploads").
 *
 * @module
 */

import type { Upload } from "./uploads.ts";
import type { FileAttributes } from "./tree_backend.ts";

/**
 * The steps of an upload's commit. Several uploads committed together
 * (group commit) flush their data in parallel, rename one by one, then
 * flush their folders in parallel: with fsync on, a group of N costs about
 * two flushes of waiting instead of 2N.
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
 * @returns For each upload, `undefined` when it landed, or its error.
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { commitUploads } from "./group_commit.ts";
 * import { checkUploadTarget, startUpload } from "./uploads.ts";
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
export async function commitUploads(group: GroupedUpload[]): Promise<unknown[]> {
  const errors: unknown[] = group.map(() => undefined);
  const each = (step: (g: GroupedUpload) => Promise<void> | void) =>
    group.map(async (g, i) => {
      if (errors[i] !== undefined) return;
      try {
        await step(g);
      } catch (e) {
        errors[i] = await g.upload.steps.fail(e);
      }
    });
  await Promise.all(each((g) => g.upload.steps.flush()));
  // Renamed one at a time, in order: two uploads to one path land as they were sent.
  for (const step of each((g) => g.upload.steps.place(g.attributes))) await step;
  // Each folder flushed once for the group (a tree's uploads share a few): an open and an
  // fsync of a folder cost about 60 us here, a stat to tell folders apart a few.
  const flushes = new Map<string, Promise<void>>();
  await Promise.all(each((g) => {
    const folder = g.upload.steps.folder();
    if (folder === null) return;
    let flushed = flushes.get(folder.key);
    if (flushed === undefined) flushes.set(folder.key, flushed = folder.sync());
    return flushed;
  }));
  await Promise.all(each((g) => g.upload.steps.settle()));
  return errors;
}
