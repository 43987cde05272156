/**
 * The rules of an upload, the same for `bftp put` and the shell's `put`: a
 * folder goes only with `-r`, and the name it takes on the server (into
 * the remote path when that ends in "/" or names a folder that exists, as
 * cp -r, scp -r and get -r nest; else the remote path itself).
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { type LocalTransferOptions, uploadFile } from "../client/local.ts";
import { uploadTree } from "../client/tree_transfer.ts";
import { joinRemote } from "../client/url.ts";
import { UsageError } from "../errors.ts";
import { localSourceKind, uploadName } from "./local_paths.ts";
import { type TreeProgressStart, withTreeProgress } from "./tree_progress.ts";

/** How a `put` uploads each source. */
export interface PutRules extends Pick<LocalTransferOptions, "progress" | "onSkip" | "onFailure"> {
  /**
   * Upload folder trees (`-r`); without it a folder is refused.
   *
   * @default {false}
   */
  recursive?: boolean | undefined;
  /**
   * One progress line for a whole tree (on a terminal), in place of
   * `progress`'s line per file; `undefined` for none.
   */
  treeProgress?: TreeProgressStart | undefined;
  /**
   * Make uploads resumable (`--resume`).
   *
   * @default {false}
   */
  resume?: boolean | undefined;
  /**
   * Ask the server to keep the local modification times and modes (`-p`).
   *
   * @default {false}
   */
  preserve?: boolean | undefined;
  /**
   * How the refusal of a folder without `-r` names the flag.
   *
   * @default {"-r"}
   */
  recursiveFlag?: string | undefined;
  /**
   * Where each local tree lands on the server, once its first attempt
   * chose (as `GetRules.landings`): a retry does not nest into the folder
   * that attempt made.
   */
  landings?: Map<string, string> | undefined;
}

/**
 * What an upload's local source is, checked against `-r` before any
 * connection is needed.
 *
 * @param src The local file or folder, which must exist.
 * @param rules The command's `recursive` and `recursiveFlag`.
 * @returns `"dir"` or `"file"`.
 * @throws {UsageError} On a folder without `recursive`.
 * @throws {LocalIoError} When nothing is there, or it cannot be looked at.
 *
 * @example
 * ```ts
 * import { putSourceKind } from "./put_rules.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * deepEqual(await putSourceKind("/", { recursive: true }), "dir");
 * await rejects(putSourceKind("/", { recursiveFlag: "put -r" }), /"\/" is a folder: use put -r/);
 * ```
 */
export async function putSourceKind(
  src: string,
  rules: Pick<PutRules, "recursive" | "recursiveFlag">,
): Promise<"dir" | "file"> {
  const kind = await localSourceKind(src);
  if (kind === "dir" && rules.recursive !== true) {
    throw new UsageError(`"${src}" is a folder: use ${rules.recursiveFlag ?? "-r"}`);
  }
  return kind;
}

/**
 * Uploads one local file or folder tree by `put`'s rules: into `remote`
 * under the source's name when `remote` ends in "/" or is a folder on the
 * server, else to `remote` itself; without `remote`, under its own name
 * in the session's current folder.
 *
 * @param client A session with the server.
 * @param src The local file or folder.
 * @param kind What `src` is, from {@linkcode putSourceKind}.
 * @param remote The remote path given, if any.
 * @param rules The command's flags and callbacks.
 *
 * @example
 * ```ts
 * import { putFromLocal } from "./put_rules.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served/in`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await putFromLocal(client, `${dir}/a.txt`, "file", "/in", {});
 * await putFromLocal(client, `${dir}/a.txt`, "file", "/b.txt", {});
 * deepEqual(await Deno.readTextFile(`${dir}/served/in/a.txt`), "hi");
 * deepEqual(await Deno.readTextFile(`${dir}/served/b.txt`), "hi");
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function putFromLocal(
  client: BftpClient,
  src: string,
  kind: "dir" | "file",
  remote: string | undefined,
  rules: PutRules,
): Promise<void> {
  const name = uploadName(src);
  let target = remote ?? name;
  const landed = kind === "dir" ? rules.landings?.get(src) : undefined;
  if (landed !== undefined) target = landed;
  else if (remote !== undefined && (remote.endsWith("/") || (await client.isFolder(remote)))) {
    // An empty remote (the shell's `put f ""`) is the current folder, not the root.
    target = remote === "" ? name : joinRemote(remote, name);
  }
  if (kind === "dir") rules.landings?.set(src, target);
  const { progress, resume, preserve } = rules;
  if (kind === "dir") {
    await withTreeProgress(
      rules.treeProgress,
      "Uploaded",
      { progress, onSkip: rules.onSkip, onFailure: rules.onFailure },
      (shown) => uploadTree(client, src, target, { ...shown, resume, preserve }),
    );
  } else {
    await uploadFile(client, src, target, { progress, resume, preserve });
  }
}
