/**
 * `rm -r` on the client: removes a remote folder with everything in it,
 * with the protocol's own requests (LIST, DELETE, RMDIR), deepest first.
 *
 * @module
 */

import { TaskWindow } from "./window.ts";
import { RemoteError, UsageError } from "../errors.ts";
import type { BftpClient } from "./client.ts";
import { checkTreeDepth } from "./tree_depth.ts";
import { checkListedName } from "./local.ts";
import { joinRemote } from "./url.ts";
import type { Entry } from "../protocol/messages.ts";

/**
 * Whether a removal goes into an entry: a folder, not a link the server
 * shows as the folder it leads to (`link: true`), which is removed itself,
 * as `rm -r` removes a link and never what it points to.
 */
const isFolder = (entry: Entry) => entry.type === "dir" && entry.link !== true;

/** What {@linkcode removeTree} removed. */
export interface RemovedTree {
  /** Files, links and other non-folders. */
  files: number;
  /** Folders, the top one included. */
  folders: number;
}

/**
 * Removes `path` and, when it is a folder, everything under it. A link is
 * removed itself, never followed. The served root itself is refused, as
 * `rm -r /` is by `rm --preserve-root`.
 *
 * @param client A connected client.
 * @param path The remote file or folder.
 * @returns How many files and folders were removed.
 * @throws {UsageError} For the served root, and for "", "." or ".." (or a path ending in them).
 * @throws {RemoteError} From the server (NOT_FOUND, DENIED...): what was
 *   removed before stays removed.
 *
 * @example
 * ```ts
 * import { removeTree } from "./remove_tree.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/a/b`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/a/b/c.txt`, "c");
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * deepEqual(await removeTree(client, "/a"), { files: 1, folders: 2 });
 * await client.quit();
 * await server.close();
 * deepEqual([...Deno.readDirSync(dir)], []);
 * await Deno.remove(dir);
 * ```
 */
export async function removeTree(client: BftpClient, path: string): Promise<RemovedTree> {
  // As rm refuses "." and "..": the folder a session stands in (or its parent) is named by its
  // own path, never by a word that means "here".
  const last = path.slice(path.lastIndexOf("/") + 1);
  if (path === "" || last === "." || last === "..") {
    throw new UsageError(`Refusing to remove "${path}": name the folder itself, not "." or ".."`);
  }
  const top = await client.stat(path);
  // The server names the root "/" whatever way the path leads there ("/", "a/..").
  if (top.name === "/") throw new UsageError("Refusing to remove the served root");
  const removed: RemovedTree = { files: 0, folders: 0 };
  const walk = async (dir: string, depth: number) => {
    checkTreeDepth(depth, dir);
    const entries = await client.list(dir);
    // A name that is not one path component would lead the removal elsewhere.
    for (const { name } of entries) checkListedName(name);
    for (const entry of entries) {
      if (isFolder(entry)) await walk(joinRemote(dir, entry.name), depth + 1);
    }
    // The folder's files in one pipelined batch (a window in flight), then the folder itself.
    const window = new TaskWindow();
    try {
      for (const entry of entries) {
        if (isFolder(entry)) continue;
        await window.add(async () => {
          await client.delete(joinRemote(dir, entry.name));
          removed.files++;
        });
      }
    } finally {
      await window.settle();
    }
    await window.drain();
    await client.rmdir(dir);
    removed.folders++;
  };
  if (isFolder(top)) {
    await walk(path, 0);
  } else {
    await client.delete(path);
    removed.files++;
  }
  return removed;
}

/**
 * `rm` of one path, as the command line and the shell both do it: with
 * `recursive`, {@linkcode removeTree}; without, a DELETE whose refusal of
 * a folder says to use `rm -r`.
 *
 * @param client A connected client.
 * @param path The remote path.
 * @param recursive Whether folders go with everything in them.
 * @throws {RemoteError} IS_DIR for a folder without `recursive`, and the server's others.
 *
 * @example
 * ```ts
 * import { removePath } from "./remove_tree.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/a`);
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await rejects(removePath(client, "/a", false), /use rm -r/);
 * await removePath(client, "/a", true);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir);
 * ```
 */
export async function removePath(
  client: BftpClient,
  path: string,
  recursive: boolean,
): Promise<void> {
  if (recursive) {
    await removeTree(client, path);
    return;
  }
  await client.delete(path).catch((e) => {
    if (!(e instanceof RemoteError && e.code === "IS_DIR")) throw e;
    throw new RemoteError("IS_DIR", `"${path}" is a folder: use rm -r (or rmdir)`);
  });
}
