/**
 * The lock that marks a temporary file as in use. A process writing a
 * temporary holds an exclusive lock (`flock`) on it from the moment it is
 * created until it is renamed into place or removed; a clean-up removes only
 * a temporary it can lock at once, which no living process owns. Between a
 * creator's open and its lock a clean-up may find the new file unlocked and
 * remove it, so the creator checks, once locked, that the file under the
 * name is still the one it holds, and otherwise starts again.
 *
 * The rule is shared by the client's downloads (path-based calls) and the
 * server's uploads (descriptor-based calls beneath its root): the caller
 * says how to create, compare and close.
 *
 * @module
 */

/** Options for {@linkcode openLocked}. */
export interface OpenLockedOptions<T> {
  /** The name to try next (a fresh random one, or always the same). */
  name: () => string;
  /** Creates or opens the file of that name. */
  create: (name: string) => T;
  /** The open file of what `create` returned. */
  file: (opened: T) => { tryLockSync(exclusive?: boolean): boolean };
  /** Whether the file under `name` is still the one opened (same device and inode). */
  isStill: (opened: T, name: string) => boolean;
  /** Closes what `create` returned. */
  close: (opened: T) => void;
  /**
   * What a lock someone else holds means: "retry" opens another name,
   * "give up" returns `null`.
   *
   * @default {"retry"}
   */
  busy?: "retry" | "give up";
}

/**
 * Creates or opens a file and locks it, again until the locked file is the
 * one under its name (three attempts).
 *
 * @param options How to name, create, compare and close.
 * @returns The chosen name and the open, locked file; `null` when it is
 * busy and `busy` is "give up".
 * @throws {Deno.errors.NotFound} When the file keeps disappearing.
 *
 * @example
 * ```ts
 * import { openLocked } from "./lock.ts";
 * import { ok } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = (name: string) => `${dir}/${name}`;
 * const opened = openLocked({
 *   name: () => `.t.bftp-tmp-${crypto.randomUUID()}`,
 *   create: (name) => Deno.openSync(path(name), { write: true, createNew: true }),
 *   file: (f) => f,
 *   isStill: (f, name) => Deno.lstatSync(path(name)).ino === f.statSync().ino,
 *   close: (f) => f.close(),
 * });
 * ok(opened !== null);
 * opened.opened.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openLocked<T>(options: OpenLockedOptions<T>): { name: string; opened: T } | null {
  for (let attempt = 1;; attempt++) {
    const name = options.name();
    const opened = options.create(name);
    try {
      if (options.file(opened).tryLockSync(true)) {
        if (options.isStill(opened, name)) return { name, opened };
      } else if (options.busy === "give up") {
        options.close(opened);
        return null;
      }
    } catch (e) {
      options.close(opened);
      throw e;
    }
    options.close(opened);
    if (attempt >= 3) throw new Deno.errors.NotFound("The temporary file keeps disappearing");
  }
}

/**
 * Whether two stats are of the same file (device and inode).
 *
 * @param a One stat.
 * @param b The other.
 * @returns Whether both name one file.
 *
 * @example
 * ```ts
 * import { sameFile } from "./lock.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(sameFile({ dev: 1, ino: 2 }, { dev: 1, ino: 2 }));
 * ```
 */
export function sameFile(
  a: { dev: unknown; ino: unknown },
  b: { dev: unknown; ino: unknown },
): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}
