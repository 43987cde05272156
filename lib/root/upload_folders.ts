/**
 * The folders of one request's uploads (an MPUT's files). The first file
 * of a folder resolves it beneath the root, as any upload does; the files
 * after it in the same folder share that folder's descriptor instead of
 * resolving it again (an `openat2` and its walk, about a tenth of a small
 * upload's server CPU here), counted: it is closed once the request is over
 * and the last of its uploads has ended (committed with its group, maybe
 * after the request), without a duplicate for each file.
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

/** A folder shared by a request's uploads, and how many of them hold it. */
interface SharedFolder {
  ref: Ref;
  users: number;
}

/**
 * One request's upload folders; dispose of it when the request ends (a
 * folder still held by an upload is closed when the last of them ends).
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
  readonly #folders = new Map<string, SharedFolder>();
  #over = false;

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
   * @returns The resolution, holding its folder; dispose of it.
   * @throws {OutsideRoot} When a link leads out of the root.
   */
  resolve(parts: readonly string[]): Resolved {
    const key = parts.slice(0, -1).join("/");
    const known = this.#folders.get(key);
    if (known !== undefined) return this.#share(known, parts.at(-1) ?? "");
    const at = this.#beneath.resolve(parts, false);
    if (this.#over || this.#folders.size >= MAX_UPLOAD_FOLDERS) return at;
    // The folder is kept; what else the walk opened goes.
    const folder = { ref: at.keep(at.dir), users: 0 };
    at[Symbol.dispose]();
    this.#folders.set(key, folder);
    return this.#share(folder, at.name);
  }

  #share(folder: SharedFolder, name: string): Resolved {
    folder.users++;
    const stack = [this.#fs.root, folder.ref];
    return new Resolved(this.#fs, [], stack, name, null, () => {
      if (--folder.users === 0 && this.#over) this.#close(folder);
    });
  }

  #close(folder: SharedFolder): void {
    // The root is not a reference to close (a file at the top shares it).
    if (folder.ref !== this.#fs.root) this.#fs.release(folder.ref);
  }

  /** Ends the request: the folders no upload holds are closed now, the others by their last. */
  [Symbol.dispose](): void {
    this.#over = true;
    for (const folder of this.#folders.values()) {
      if (folder.users === 0) this.#close(folder);
    }
    this.#folders.clear();
  }
}
