/**
 * A copied tree's folders given their source's modification times and
 * permission bits once their files are in, as `scp -rp` and `rsync -a` do:
 * on this machine (`get -r -p`, a sync pull) directly, on the server by
 * SETSTAT (`put -r -p`, a sync push). Any order will do: a folder's time
 * changes only when its own entries do, not when a subfolder's is set; and
 * its bits come last, so a folder the source has read-only was written
 * into first. Set-user-ID and set-group-ID bits are not given; a sticky
 * bit is on this machine, while on the server, where SETSTAT cannot carry
 * it, a sticky folder goes without its group's and others' write.
 *
 * @module
 */

import { BftpError, LocalIoError, localIoError } from "../errors.ts";
import { applyAttributesHere, unstickyBits } from "../local_file/attributes.ts";
import type { EntryAt, LocalTree } from "../local_file/local_tree.ts";
import type { BftpClient } from "./client.ts";
import type { PlannedEntry } from "./tree_plan.ts";
import { TaskWindow } from "./window.ts";

/**
 * The SETSTAT fields that give an entry its source's known time and
 * permission bits (set-user-ID, set-group-ID and sticky left out).
 *
 * @param entry The source's entry, its `mtime` and `mode` when known.
 * @returns The fields to send: only those known.
 *
 * @example
 * ```ts
 * import { setStatFields } from "./folder_attributes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(setStatFields({ mtime: 1000, mode: 0o4755 }), { mtime: 1000, mode: 0o755 });
 * deepEqual(setStatFields({ mtime: null }), {});
 * ```
 */
export function setStatFields(
  entry: { mtime?: number | null | undefined; mode?: number | null | undefined },
): { mtime?: number; mode?: number } {
  return {
    ...(typeof entry.mtime === "number" ? { mtime: entry.mtime } : {}),
    ...(typeof entry.mode === "number" ? { mode: entry.mode & 0o777 } : {}),
  };
}

/** Where a local folder of a tree is: through the tree's descriptors, if held, else by path. */
function localEntry(f: PlannedEntry, tree: LocalTree | undefined): string | EntryAt {
  if (f.relative !== "") return tree?.at(f.local) ?? f.local;
  return tree === undefined ? Deno.realPathSync(f.local) : { dir: tree.folder(f.local), name: "." };
}

/** Options for {@linkcode setFolderAttributes}. */
export interface FolderAttributesOptions {
  /**
   * Told about a folder whose time could not be set, while the others go
   * on; a broken session is thrown instead.
   */
  fail: (folder: PlannedEntry, error: BftpError) => void;
  /**
   * Remote folders' SETSTATs in flight at once.
   *
   * @default {32}
   */
  window?: number | undefined;
  /**
   * The local tree the folders are in (the local side): each is reached
   * from its top without following a link.
   *
   * @default {undefined} (by path)
   */
  tree?: LocalTree | undefined;
  /**
   * Give them in the order given, each parent before its folders: for bits
   * that only add to the owner's (a sync opening locked folders), where a
   * folder is reached through its parent's search permission. Otherwise
   * the deepest first, as bits that take search away must come.
   *
   * @default {false}
   */
  parentsFirst?: boolean | undefined;
}

/**
 * Gives each folder with a known time (`mtime`) that time, and its known
 * permission bits (`mode`): the local copy
 * (`side` "local": a folder missing meanwhile is left alone, as one that
 * failed to be made was told then) or the server's (`side` "remote": by
 * SETSTAT, not for the served root itself, nor from a read-only session or
 * a server without SETSTAT, which keep their own times).
 *
 * @param client The session (for the remote side).
 * @param folders The folders, as a tree plan gives them.
 * @param side Which copy's folders get the times.
 * @param options Where each folder's failure is told, and the window.
 *
 * @example
 * ```ts
 * import { setFolderAttributes } from "./folder_attributes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/elsewhere`);
 * await Deno.utime(`${dir}/elsewhere`, 2_000_000_000, 2_000_000_000);
 * await Deno.symlink(`${dir}/elsewhere`, `${dir}/link`);
 * const folders = [
 *   { remote: "/t", local: dir, relative: "", mtime: 1_000_000_000_000, mode: 0o750 },
 *   { remote: "/t/link", local: `${dir}/link`, relative: "link", mtime: 1_000_000_000_000 },
 * ];
 * await setFolderAttributes(null as never, folders, "local", { fail: () => {} });
 * deepEqual((await Deno.stat(dir)).mtime?.getTime(), 1_000_000_000_000);
 * deepEqual((await Deno.stat(dir)).mode! & 0o777, 0o750);
 * // Never through a link: what it leads to keeps its time.
 * deepEqual((await Deno.stat(`${dir}/elsewhere`)).mtime?.getTime(), 2_000_000_000_000);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function setFolderAttributes(
  client: BftpClient,
  folders: readonly PlannedEntry[],
  side: "local" | "remote",
  options: FolderAttributesOptions,
): Promise<void> {
  const known = (v: number | null | undefined): v is number => typeof v === "number";
  // The deepest first: a folder's bits that take away its search permission come after its own
  // folders' (which need it to be reached).
  const due = folders.filter((f) => known(f.mtime) || known(f.mode));
  if (!options.parentsFirst) due.reverse();
  if (due.length === 0) return;
  if (side === "local") {
    for (const f of due) {
      try {
        // Never through a link where the folder was (planted, or one the transfer would not
        // write through): it is left alone, and so is what it leads to. The top is the user's
        // own DEST, which may be a link to a folder: that folder is given them (as rsync -a does).
        applyAttributesHere(
          localEntry(f, options.tree),
          { mtime: f.mtime ?? null, mode: f.mode ?? null },
          "folder",
        );
      } catch (e) {
        // Gone meanwhile (by its name, or on the tree's way to it): left alone.
        const cause = e instanceof LocalIoError ? e.cause : e;
        if (!(cause instanceof Deno.errors.NotFound)) {
          options.fail(f, localIoError("set the time and bits of", f.local, e));
        }
      }
    }
    return;
  }
  if (client.readOnly || !client.supports("setstat")) return;
  const window = new TaskWindow({ limit: options.window });
  try {
    for (const f of due) {
      if (f.remote === "/") continue;
      await window.add(async () => {
        try {
          // SETSTAT carries no sticky bit: a sticky folder goes without others' write.
          const mode = typeof f.mode === "number" ? unstickyBits(f.mode) : f.mode;
          await client.setStat(f.remote, setStatFields({ ...f, mode }));
        } catch (e) {
          // A broken session (or Ctrl-C, which closes it) ends it; anything else is one folder's.
          if (!(e instanceof BftpError) || !client.usable) throw e;
          options.fail(f, e);
        }
      });
    }
  } finally {
    await window.settle();
  }
  await window.drain();
}
