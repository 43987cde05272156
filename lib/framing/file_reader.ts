/**
 * Reading a small file without the I/O pool: Deno's asynchronous
 * `FsFile.read` hops to a thread pool and back, about 70 us a call when
 * measured here (10,000 GETs of 4 KiB files spent 0.7 s in it on the server),
 * while a synchronous read of a few KiB from the page cache takes a few
 * microseconds. {@linkcode fileReader} reads small files synchronously and
 * large ones asynchronously, where a long read must not hold up the event
 * loop (and the other sessions on it).
 *
 * @module
 */

import type { ByteReader } from "./types.ts";

/** Files up to this size are read synchronously. */
export const SYNC_READ_MAX = 256 * 1024;

/** What {@linkcode fileReader} needs of an open file (a `Deno.FsFile`). */
export interface ReadableFile extends ByteReader {
  /** Reads synchronously, as `Deno.FsFile.readSync`. */
  readSync(p: Uint8Array): number | null;
}

/**
 * A reader of `file`: synchronous reads when `size` is at most
 * {@linkcode SYNC_READ_MAX}, the file's own asynchronous reads otherwise
 * (or when the size is unknown: a FIFO, a device).
 *
 * @param file The open file.
 * @param size Its size, or `null` when unknown.
 * @returns The reader.
 *
 * @example
 * ```ts
 * import { fileReader } from "./file_reader.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hi");
 * using file = await Deno.open(path);
 * const buf = new Uint8Array(8);
 * equal(await fileReader(file, 2).read(buf), 2);
 * await Deno.remove(path);
 * ```
 */
export function fileReader(file: ReadableFile, size: number | null): ByteReader {
  if (size === null || size > SYNC_READ_MAX) return file;
  return {
    read(p: Uint8Array): Promise<number | null> {
      try {
        return Promise.resolve(file.readSync(p));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
}
