/**
 * The rules of a download, the same for `bftp get` and the shell's `get`:
 * what stdout can take, that several sources need a folder, and where one
 * remote file or folder lands (cp's and scp's rules, see `local_paths.ts`),
 * with a file this command has just written never overwritten.
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { downloadFile, type LocalTransferOptions } from "../client/local.ts";
import { holdsPartsOf } from "../client/resumed_tree.ts";
import { downloadTree } from "../client/tree_transfer.ts";
import { UnexpectedEofError, UsageError } from "../errors.ts";
import { downloadDestination, localKind } from "./local_paths.ts";
import { type TreeProgressStart, withTreeProgress } from "./tree_progress.ts";
import { claimTarget } from "./sources.ts";

/** How a `get` downloads each source. */
export interface GetRules extends Pick<LocalTransferOptions, "progress" | "onSkip" | "onFailure"> {
  /**
   * Download folder trees (`-r`); without it a folder is refused.
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
   * Continue cut downloads (`--resume`).
   *
   * @default {false}
   */
  resume?: boolean | undefined;
  /**
   * A cut file download without `resume` says, in its error, how to keep
   * what arrives next time (`bftp get --resume`; not the shell's, whose flag is `get -a`).
   *
   * @default {false}
   */
  resumeHint?: boolean | undefined;
  /**
   * Keep the server's modification times and modes (`-p`).
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
   * The local files this command has written so far: a file in it is not
   * overwritten by a later source (as cp refuses), and each new one is added.
   * Without it, nothing is checked.
   */
  written?: Set<string> | undefined;
  /**
   * Where each tree of this command lands, once its first attempt chose:
   * a retry lands there too, since the folder that attempt made is not an
   * existing folder to nest into. Without it, each attempt chooses afresh.
   */
  landings?: Map<string, string> | undefined;
}

/**
 * Checks a `get`'s destination against its flags before anything moves:
 * stdout (`-`) takes neither a folder tree nor a resumed download.
 *
 * @param dest The destination given, if any (`-` is stdout).
 * @param rules The command's `recursive` and `resume`.
 * @throws {UsageError} When the destination cannot take what was asked.
 *
 * @example
 * ```ts
 * import { checkGetDestination } from "./get_rules.ts";
 * import { throws } from "node:assert/strict";
 *
 * checkGetDestination("out", { recursive: true, resume: true });
 * throws(() => checkGetDestination("-", { recursive: true }), /folder tree to stdout/);
 * ```
 */
export function checkGetDestination(
  dest: string | undefined,
  rules: Pick<GetRules, "recursive" | "resume">,
): void {
  if (dest !== "-") return;
  if (rules.recursive === true) throw new UsageError("Cannot write a folder tree to stdout");
  if (rules.resume === true) throw new UsageError("Cannot resume a download to stdout");
}

/**
 * Checks that several sources have a place to go: a local destination, when
 * given and not stdout, must then be a folder that exists (as with cp).
 *
 * @param count How many sources there are, after wildcards.
 * @param dest The destination given, if any (`-` is stdout).
 * @param why The end of the error message, saying why several.
 * @throws {UsageError} When several sources would go to one file.
 * @throws {LocalIoError} When the destination cannot be looked at.
 *
 * @example
 * ```ts
 * import { checkSeveralInto } from "./get_rules.ts";
 * import { rejects } from "node:assert/strict";
 *
 * await checkSeveralInto(2, "/", "several");
 * await checkSeveralInto(1, "/nonexistent/x", "one");
 * await rejects(checkSeveralInto(2, "/nonexistent/x", "several"), /is not a folder: several/);
 * ```
 */
export async function checkSeveralInto(
  count: number,
  dest: string | undefined,
  why: string,
): Promise<void> {
  if (count <= 1 || dest === undefined || dest === "-") return;
  if ((await localKind(dest, "write")) !== "dir") {
    throw new UsageError(`"${dest}" is not a folder: ${why}`);
  }
}

/**
 * Downloads one remote file, or folder tree with `recursive`, to a local
 * destination by `get`'s rules (not stdout: the caller writes that).
 *
 * @param client A session with the server.
 * @param remote The remote path (after wildcards).
 * @param dest The local destination given, if any: see `downloadDestination`.
 * @param rules The command's flags and callbacks.
 * @param label How the source is named in the error about a file just
 *   written (the URL as given).
 * @throws {UsageError} On a folder without `recursive`, or a second
 *   download to a file in `rules.written`.
 *
 * @example
 * ```ts
 * import { getToLocal } from "./get_rules.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served/sub`, { recursive: true });
 * await Deno.writeTextFile(`${dir}/served/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const written = new Set<string>();
 * await getToLocal(client, "/a.txt", `${dir}/b.txt`, { written });
 * deepEqual(await Deno.readTextFile(`${dir}/b.txt`), "hi");
 * await rejects(getToLocal(client, "/a.txt", `${dir}/b.txt`, { written }), /Will not overwrite/);
 * await rejects(getToLocal(client, "/sub", dir, {}), /"\/sub" is a folder: use -r/);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function getToLocal(
  client: BftpClient,
  remote: string,
  dest: string | undefined,
  rules: GetRules,
  label: string = remote,
): Promise<void> {
  const { progress, resume, preserve } = rules;
  const entry = await client.stat(remote);
  if (entry.type === "dir") {
    if (rules.recursive !== true) {
      throw new UsageError(`"${remote}" is a folder: use ${rules.recursiveFlag ?? "-r"}`);
    }
    const into = rules.landings?.get(remote) ?? await treeDestination(remote, dest, resume);
    rules.landings?.set(remote, into);
    await withTreeProgress(
      rules.treeProgress,
      "Downloaded",
      { progress, onSkip: rules.onSkip, onFailure: rules.onFailure },
      // DEST/NAME: the name is the server's, and a link planted there is not followed.
      (shown) =>
        downloadTree(client, remote, into, {
          ...shown,
          resume,
          preserve,
          nestedTop: into !== dest,
        }),
    );
    return;
  }
  const file = await downloadDestination(remote, dest, false);
  if (rules.written !== undefined) claimTarget(rules.written, file, label);
  await downloadFile(client, remote, file, { progress, resume, preserve }).catch((e) => {
    throw rules.resumeHint === true && resume !== true ? withResumeHint(e) : e;
  });
}

/**
 * Where a tree lands, by {@linkcode downloadDestination}'s rules (into an
 * existing DEST, as DEST/NAME); but with `--resume`, a DEST that holds cut
 * downloads of this very tree, and no DEST/NAME, is where an earlier run of
 * the same command landed: it goes on there.
 */
async function treeDestination(
  remote: string,
  dest: string | undefined,
  resume: boolean | undefined,
): Promise<string> {
  const into = await downloadDestination(remote, dest, true);
  if (resume !== true || dest === undefined || into === dest) return into;
  if ((await localKind(into, "write")) !== null) return into;
  return await holdsPartsOf(dest, remote) ? dest : into;
}

/** A download cut without `--resume` says how to keep what arrives next time. */
function withResumeHint(e: unknown): unknown {
  if (!(e instanceof UnexpectedEofError)) return e;
  return new UnexpectedEofError(
    `${e.message}; nothing was kept: "get --resume" keeps what arrives and continues from there`,
  );
}
