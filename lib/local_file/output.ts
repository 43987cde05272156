/**
 * Where a file the user named is written: a FIFO, a device or a socket in
 * place ({@linkcode InPlaceFile}), anything else atomically
 * ({@linkcode AtomicFile}). Both are a {@linkcode LocalOutput}: written to,
 * then committed or discarded.
 *
 * @module
 */

import { localIoError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import { AtomicFile, type AtomicFileOptions, isSpecialDestination } from "./atomic_file.ts";

/** A local file being written: kept by {@linkcode LocalOutput.commit}, or not. */
export interface LocalOutput extends ByteWriter {
  /** The path the user named. */
  readonly path: string;
  /** The file written to now: a temporary beside `path`, or `path` itself (in place). */
  readonly tempPath: string;
  /** Keeps what was written (renames a temporary into place, or closes). */
  commit(): Promise<void>;
  /** Drops what was written where it can (a temporary), and closes. */
  discard(): Promise<void>;
}

/**
 * A FIFO, device or socket written into in place: it cannot be replaced.
 * Writes are asynchronous, so a slow reader (a FIFO) sets the pace without
 * blocking the event loop.
 *
 * @example
 * ```ts
 * import { InPlaceFile } from "./output.ts";
 *
 * const out = await InPlaceFile.open("/dev/null");
 * await out.write(new TextEncoder().encode("gone"));
 * await out.commit();
 * ```
 */
export class InPlaceFile implements LocalOutput {
  /** The path written into. */
  readonly path: string;
  /** The same path: nothing stands in for it. */
  get tempPath(): string {
    return this.path;
  }
  #file: Deno.FsFile;
  #open = true;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Opens `path` for writing, in place.
   *
   * @param path The FIFO, device or socket.
   * @returns The open output.
   * @throws {LocalIoError} When it cannot be opened.
   */
  static async open(path: string): Promise<InPlaceFile> {
    try {
      return new InPlaceFile(path, await Deno.open(path, { write: true }));
    } catch (e) {
      throw localIoError("write", path, e);
    }
  }

  /**
   * Writes into the file.
   *
   * @param p The bytes.
   * @returns How many were written.
   * @throws {LocalIoError} When the write fails.
   */
  async write(p: Uint8Array): Promise<number> {
    try {
      return await this.#file.write(p);
    } catch (e) {
      throw localIoError("write", this.path, e);
    }
  }

  /** Closes the file. */
  commit(): Promise<void> {
    this.#close();
    return Promise.resolve();
  }

  /** Closes the file (what was written is gone to its reader already). */
  discard(): Promise<void> {
    this.#close();
    return Promise.resolve();
  }

  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#file.close();
  }
}

/**
 * Opens the output for `dest`: in place when it is a FIFO, a device or a
 * socket (see {@linkcode isSpecialDestination}), otherwise atomically.
 *
 * @param dest The file the user named.
 * @param options How errors are worded.
 * @returns The open output.
 * @throws {LocalIoError} When it cannot be opened.
 *
 * @example
 * ```ts
 * import { openOutput } from "./output.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const out = await openOutput(`${dir}/a.txt`);
 * await out.write(new TextEncoder().encode("hi"));
 * await out.commit();
 * deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openOutput(
  dest: string,
  options: AtomicFileOptions = {},
): Promise<LocalOutput> {
  if (await isSpecialDestination(dest)) return await InPlaceFile.open(dest);
  return await AtomicFile.create(dest, options);
}
