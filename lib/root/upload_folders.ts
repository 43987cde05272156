/**
 * The folders of one request's uploads (an MPUT's files). The first file
 * of a folder resolves it beneath the root, as any upload does; the files
 * after it in the same folder get a duplicate of that folder's descriptor
 * instead of resolving it again: one `fcntl` in place of an `openat2` and
 * its walk, about a tenth of a small upload's server CPU here.
 *
 * A folder is held from its first file to the end of the request, as a
 * single upload holds its folder from its request to its commit: a folder
 * moved meanwhile (by another session, or on the host) takes the files that
 * follow with it, as it takes a single upload's; a folder removed refuses
 * them. docs/SECURITY.md says so.
 *
 * @module
 */

import { type Beneath, Resolved } from "./beneath.ts";
import type { Ref, TreeBackend } from "./tree_backend.ts";

/** The most folders one request keeps open (a request of 1,024 files in as many folders). */
export const MAX_UPLOAD_FOLDERS = 64;

/**
 * One request's upload folders; dispose of it when the request ends (each
 * upload keeps a duplicate of its own, released with it).
 *
 * @example
 * ```ts
 * import { Confined } from "./confined.ts";
 * import { UploadFolders } from "./upload_folders.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.mkdir(`${dir}/d`);
 * const c = new Confined(dir);
 * {
 *   using folders = new UploadFolders(c.fs, c.beneath);
 *   using a = folders.resolve(["d", "a.txt"]);
 *   using b = folders.resolve(["d", "b.txt"]);
 *   equal(c.fs.stat(a.dir).ino, c.fs.stat(b.dir).ino);
 *   equal(b.name, "b.txt");
 * }
 * c.fs.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UploadFolders implements Disposable {
  readonly #fs: TreeBackend;
  readonly #beneath: Beneath;
  readonly #folders = new Map<string, Ref>();

  /**
   * @param fs The served tree.
   * @param beneath Its resolver.
   */
  constructor(fs: TreeBackend, beneath: Beneath) {
    this.#fs = fs;
    this.#beneath = beneath;
  }

  /**
   * Resolves the folder of `parts`' last name, as
   * `beneath.resolve(parts, false)` does: once a folder, then from what
   * was found.
   *
   * @param parts The names from the root, the file's last.
   * @returns The resolution (its folder its own); dispose of it.
   * @throws {OutsideRoot} When a link leads out of the root.
   */
  resolve(parts: readonly string[]): Resolved {
    const key = parts.slice(0, -1).join("/");
    const known = this.#folders.get(key);
    if (known !== undefined) {
      const ref = this.#fs.duplicate(known);
      return new Resolved(this.#fs, [ref], [this.#fs.root, ref], parts.at(-1) ?? "", null);
    }
    const at = this.#beneath.resolve(parts, false);
    if (this.#folders.size < MAX_UPLOAD_FOLDERS) {
      try {
        this.#folders.set(key, this.#fs.duplicate(at.dir));
      } catch (e) {
        at[Symbol.dispose]();
        throw e;
      }
    }
    return at;
  }

  /** Releases the folders (the uploads keep their own). */
  [Symbol.dispose](): void {
    for (const ref of this.#folders.values()) this.#fs.release(ref);
    this.#folders.clear();
  }
}
