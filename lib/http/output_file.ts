/**
 * The destination of `-o FILE`: FILE written atomically through
 * `local_file/` (a temporary beside FILE, renamed over it only when the
 * download succeeded and removed on any failure, so that FILE is either the
 * whole body or untouched); a FIFO or a device is written in place.
 *
 * @module
 */

import { type LocalOutput, openOutput } from "../local_file/mod.ts";

/** An output being written: see `local_file/`'s {@linkcode LocalOutput}. */
export type OutputFile = LocalOutput;

/**
 * Opens `-o FILE`.
 *
 * @example
 * ```ts
 * import { OutputFile } from "./output_file.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   const out = await OutputFile.create(`${dir}/a.txt`);
 *   await out.write(new TextEncoder().encode("hi"));
 *   await out.commit();
 *   deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const OutputFile = {
  /**
   * Opens FILE: the temporary file beside it, or FILE itself when it is a
   * FIFO or a device.
   *
   * @param path The file to create or replace at the end.
   * @returns The open output.
   * @throws {LocalIoError} When the folder is missing or not writable.
   */
  create: (path: string): Promise<OutputFile> => openOutput(path, { notFound: "no such folder" }),
};
