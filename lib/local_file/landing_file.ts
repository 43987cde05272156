/**
 * A downloaded file on its way to its final name. With a
 * {@linkcode Lander} (a tree of many small files), a body of up to
 * `Lander.MAX_BODY` bytes is held in memory until it is verified, then
 * landed by the lander's thread; a larger one, or any without a lander, is
 * an {@linkcode AtomicFile} written as it arrives. Either way the file
 * appears under its final name only whole and verified.
 *
 * @module
 */

import { concatBytes } from "../framing/concat.ts";
import type { ByteWriter } from "../framing/types.ts";
import type { ServerAttributes } from "./attributes.ts";
import { AtomicFile } from "./atomic_file.ts";
import { Lander } from "./lander.ts";
import type { LocalTree } from "./local_tree.ts";

/** Options for {@linkcode LandingFile.open}. */
export interface LandingFileOptions {
  /**
   * Nothing is at the path (a folder listing just said so): the look for a
   * replaced file's permission bits is skipped.
   *
   * @default {false}
   */
  absent?: boolean | undefined;
  /**
   * The thread that lands small bodies; without one every body is written
   * as it arrives.
   *
   * @default {undefined}
   */
  lander?: Lander | undefined;
  /**
   * The tree the file is in: its folder is reached from the tree's top
   * without following a link (the lander's own tree, for a body it lands).
   *
   * @default {undefined} (by path)
   */
  tree?: LocalTree | undefined;
}

/**
 * A download's output (see the module doc).
 *
 * @example
 * ```ts
 * import { LandingFile } from "./landing_file.ts";
 * import { Lander } from "./lander.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using lander = new Lander();
 * const out = await LandingFile.open(`${dir}/a.txt`, { absent: true, lander });
 * await out.write(new TextEncoder().encode("hi"));
 * await out.commit({ mtime: 1_000_000_000_000, mode: null });
 * deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * deepEqual((await Deno.stat(`${dir}/a.txt`)).mtime?.getTime(), 1_000_000_000_000);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LandingFile implements ByteWriter {
  /** The final path. */
  readonly path: string;
  #lander: Lander | undefined;
  #absent: boolean;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #file: AtomicFile | null;
  #tree: LocalTree | undefined;

  private constructor(path: string, options: LandingFileOptions, file: AtomicFile | null) {
    this.path = path;
    this.#tree = options.tree;
    // The lander takes the body only when nothing was opened here.
    this.#lander = file === null ? options.lander : undefined;
    this.#absent = options.absent ?? false;
    this.#file = file;
  }

  /**
   * Opens the output for `path`: held, with a lander whose thread runs;
   * otherwise a temporary file beside `path`, created now (and timed for a
   * lander still deciding, see {@linkcode Lander.observeCreate}).
   *
   * @param path The file to create or replace at the end.
   * @param options Whether something is there, and the lander.
   * @returns The output.
   * @throws {LocalIoError} When the folder is missing or not writable (no lander).
   */
  static async open(path: string, options: LandingFileOptions = {}): Promise<LandingFile> {
    const lander = options.lander;
    if (lander?.threaded) return new LandingFile(path, options, null);
    // Written here; a lander still deciding learns what a create costs on this disk.
    const started = performance.now();
    const file = await AtomicFile.create(path, { tree: options.tree });
    lander?.observeCreate(performance.now() - started);
    return new LandingFile(path, options, file);
  }

  /**
   * Holds (a copy of) `p`, or writes it once the body is too large to hold.
   *
   * @param p The bytes.
   * @returns How many were taken: all.
   * @throws {LocalIoError} When the disk refuses them.
   */
  async write(p: Uint8Array): Promise<number> {
    if (this.#file === null && this.#size + p.byteLength > Lander.MAX_BODY) {
      this.#file = await AtomicFile.create(this.path, { tree: this.#tree });
      for (const chunk of this.#chunks) await this.#file.write(chunk);
      this.#chunks = [];
    }
    if (this.#file !== null) return await this.#file.write(p);
    this.#chunks.push(p.slice());
    this.#size += p.byteLength;
    return p.byteLength;
  }

  /**
   * Lands the verified body under its final name.
   *
   * @param attributes What `-p` gives it, or `null`.
   * @param newMode The server's bits, for a file that replaces none (see `AtomicFile.commit`).
   * @throws {LocalIoError} When it cannot be written.
   */
  async commit(attributes: ServerAttributes | null, newMode?: number | null): Promise<void> {
    if (this.#file !== null) {
      await this.#file.commit(attributes, newMode);
      return;
    }
    const data = this.#chunks.length === 1 ? this.#chunks[0]! : concatBytes(this.#chunks);
    this.#chunks = [];
    await this.#lander!.land({
      path: this.path,
      data,
      absent: this.#absent,
      mtime: attributes?.mtime ?? null,
      mode: attributes?.mode ?? null,
      newMode,
    });
  }

  /** Drops what is held, or closes and removes the temporary file. */
  async discard(): Promise<void> {
    this.#chunks = [];
    await this.#file?.discard();
  }
}
