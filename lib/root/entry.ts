/**
 * What the served folder is made of, as the root describes it: one entry
 * per file or folder, and the host's rules on how long a name and a path
 * may be. The data originates here (a `stat` of a host file, the limits of
 * a Linux file system: `NAME_MAX` 255 and `PATH_MAX` 4096 bytes), so the
 * root defines it and imports nothing; the protocol re-exports these as
 * STAT's and LIST's `Entry` and as its path limits, so the wire and the
 * folder cannot drift apart.
 *
 * @module
 */

/** The kinds of directory entry a server reports. */
export type EntryType = "file" | "dir" | "link" | "other";

/** One file or folder, as STAT and LIST report it. */
export interface Entry {
  /** The entry's name (no path). */
  name: string;
  /** What it is. */
  type: EntryType;
  /** Size in bytes (0 for folders). */
  size: number;
  /** Last modification, milliseconds since the epoch, or `null` if unknown. */
  mtime: number | null;
  /** Permission bits, or `null` if unknown. */
  mode: number | null;
  /**
   * `true` for a symbolic link that LIST and STAT report as what it points to
   * (inside the root); absent otherwise.
   */
  link?: true;
}

/** The longest path, in UTF-8 bytes, a server accepts (the host's `PATH_MAX`). */
export const MAX_PATH_BYTES = 4096;

/** The longest single name, in UTF-8 bytes (the host's `NAME_MAX`). */
export const MAX_NAME_BYTES = 255;
