/**
 * What `-p` keeps of a file, as scp does: its modification time and its
 * permission bits, applied to a downloaded file from what the server said.
 *
 * @module
 */

/** What the server said of a file's time and bits (a GET reply, a listing entry). */
export interface ServerAttributes {
  /** Modification time, ms since the epoch, or `null`. */
  mtime: number | null;
  /** Permission bits, or `null`. */
  mode: number | null;
}

/**
 * Gives a downloaded file the modification time and permission bits the
 * server reported (`-p`).
 *
 * @param path The file (its temporary name, before the rename).
 * @param reply What the server said about the file.
 * @example
 * ```ts
 * import { applyServerAttributes } from "./attributes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * applyServerAttributes(path, { mtime: 1_000_000_000_000, mode: 0o640 });
 * const info = await Deno.stat(path);
 * deepEqual([info.mtime?.getTime(), info.mode! & 0o777], [1_000_000_000_000, 0o640]);
 * await Deno.remove(path);
 * ```
 */
export function applyServerAttributes(path: string, reply: ServerAttributes): void {
  if (reply.mode !== null && Deno.build.os !== "windows") Deno.chmodSync(path, reply.mode);
  if (reply.mtime !== null) Deno.utimeSync(path, new Date(), new Date(reply.mtime));
}
