/**
 * Reading a small file without the I/O pool: Deno's asynchronous
 * `FsFile.read` hops to a thread pool and back, about 70 us a call when
 * measured here (10,000 GETs of 4 KiB files spent 0.7 s in it on the server),
 * while a synchronous read of a few KiB from the page cache takes a few
 * microseconds. {@linkcode fileReader} reads small files synchronously and
 * large ones asynchronously, where a long read must not hold up the event
 * loop (and the other sessions on it). {@linkcode copyRange} copies a part
 * of a file into a writer (a delta's kept blocks).
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "./types.ts";
import { writeAll } from "./write_all.ts";

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

/** What {@linkcode copyRange} needs of an open file (a `Deno.FsFile`). */
export interface SeekableFile extends ByteReader {
  /** Moves the file's position, as `Deno.FsFile.seek`. */
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
}

/**
 * Copies `length` bytes of `file` from `offset` into `out`, through `buf`.
 *
 * @param file The open file.
 * @param range Where and how much.
 * @param out Where the bytes go.
 * @param buf The buffer they go through (its size, the most read at once).
 * @returns How many were copied: fewer than `length` when the file ended first.
 *
 * @example
 * ```ts
 * import { copyRange } from "./file_reader.ts";
 * import { equal } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * using file = await Deno.open(path);
 * let text = "";
 * const out = { write: (p: Uint8Array) => Promise.resolve((text += new TextDecoder().decode(p), p.length)) };
 * equal(await copyRange(file, { offset: 1, length: 3 }, out, new Uint8Array(2)), 3);
 * equal(text, "ell");
 * await Deno.remove(path);
 * ```
 */
export async function copyRange(
  file: SeekableFile,
  range: { offset: number; length: number },
  out: ByteWriter,
  buf: Uint8Array,
): Promise<number> {
  await file.seek(range.offset, Deno.SeekMode.Start);
  let copied = 0;
  while (copied < range.length) {
    const n = await file.read(buf.subarray(0, Math.min(range.length - copied, buf.length)));
    if (n === null) break;
    await writeAll(out, buf.subarray(0, n));
    copied += n;
  }
  return copied;
}
