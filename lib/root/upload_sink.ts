/**
 * Where an upload's bytes go: its temporary file, written synchronously
 * (the fast path measured here: an asynchronous `FsFile.write` costs about
 * 100 us a call). An upload the server will flush also starts the disk's
 * write-back as it goes, every {@linkcode WRITE_BACK_EVERY} bytes, so the
 * disk writes while the network still delivers and the flush at the end
 * waits for the tail only: a 1 GiB upload's `fdatasync` found 5 ms of work
 * left instead of 450-500 ms here.
 *
 * @module
 */

import type { ByteWriter } from "../framing/types.ts";
import { fsError } from "./fs_errors.ts";
import type { TempFile } from "./tree_backend.ts";

/** Bytes written between two starts of the write-back. */
export const WRITE_BACK_EVERY = 8 << 20;

/** Options for {@linkcode uploadSink}. */
export interface UploadSinkOptions {
  /**
   * Start the disk's write-back every {@linkcode WRITE_BACK_EVERY} bytes
   * (where the file can): for an upload that will be flushed.
   *
   * @default {false}
   */
  writeBack?: boolean;
}

/**
 * A writer into an upload's temporary file; a failed write is the
 * file-system error of `vpath`.
 *
 * @param file The open temporary file.
 * @param vpath The upload's path, for errors.
 * @param options Whether to start the write-back as it goes.
 * @returns The writer.
 *
 * @example
 * ```ts
 * import { uploadSink } from "./upload_sink.ts";
 * import { equal } from "node:assert/strict";
 *
 * const written: number[] = [];
 * const file = {
 *   writeSync: (p: Uint8Array) => (written.push(p.byteLength), p.byteLength),
 * };
 * const sink = uploadSink(file, "/a.bin");
 * equal(await sink.write(new Uint8Array(3)), 3);
 * equal(written[0], 3);
 * ```
 */
export function uploadSink(
  file: Pick<TempFile, "writeSync" | "startWriteBack">,
  vpath: string,
  options: UploadSinkOptions = {},
): ByteWriter {
  const startWriteBack = options.writeBack ? file.startWriteBack?.bind(file) : undefined;
  let unstarted = 0;
  return {
    write: (p) => {
      try {
        const n = file.writeSync(p);
        if (startWriteBack !== undefined && (unstarted += n) >= WRITE_BACK_EVERY) {
          unstarted = 0;
          startWriteBack();
        }
        return Promise.resolve(n);
      } catch (e) {
        return Promise.reject(fsError(e, vpath));
      }
    },
  };
}
