/**
 * The options of the client's local transfers (`local.ts`, `resume.ts`,
 * `tree_transfer.ts`):
 * progress, plan, per-file and skip callbacks, resuming and preserving. Its own
 * module so that both can use it without importing each other.
 *
 * @module
 */

import type { BftpError } from "../errors.ts";
import type { BodyResult } from "../transfer/body.ts";
import type { TransferOptions } from "./client.ts";
import type { GetReply } from "../protocol/replies.ts";
import type { ListingCounts, TreePlan } from "./tree_plan.ts";
import type { LocalTree } from "../local_file/local_tree.ts";

/** Options for `downloadFile` (`local.ts`) and the other local transfers. */
export interface LocalTransferOptions {
  /**
   * Makes progress callbacks for one file (its label, its whole size, and
   * for a resumed download the offset it resumes at). A tree's files are
   * labelled with their path below the tree's top (`sub/a.txt`), and
   * several are in flight at once.
   */
  progress?: ((label: string, size: number | null, offset?: number) => TransferOptions) | undefined;
  /**
   * Told a tree's plan once its listing pass is done, before any file moves
   * (`downloadTree`, `uploadTree`): a progress line for the whole tree
   * starts here.
   */
  onPlan?: ((plan: TreePlan) => void) | undefined;
  /** Told how far a tree's listing pass has got, after each folder (before `onPlan`). */
  onListed?: ((counts: ListingCounts) => void) | undefined;
  /**
   * Called once a download's body has arrived and checked out, before it
   * lands under its name (`sync` asks the server whether the file changed
   * meanwhile); a throw discards it.
   */
  beforeCommit?: ((reply: GetReply) => Promise<void>) | undefined;
  /** Told about each file as it is done. */
  onFile?: ((remote: string, local: string, result: BodyResult) => void) | undefined;
  /**
   * Resumable transfers (see `resume.ts`): a download continues the partial
   * file a cut one left; an upload continues what the server kept.
   *
   * @default {false}
   */
  resume?: boolean | undefined;
  /**
   * An upload's source is a file a tree's walk listed as a regular file:
   * it is opened without waiting, and refused if it is not a regular file
   * now (a FIFO put in its place since never holds the upload).
   *
   * @default {false}
   */
  listed?: boolean | undefined;
  /**
   * With `listed`: the walk did not reach it through a link, so a symbolic
   * link put in its place since is refused, not followed.
   *
   * @default {false}
   */
  noLink?: boolean | undefined;
  /**
   * Told about each entry of a tree that is left out (a FIFO, a device, a
   * link to a folder or to nothing; on the server, whatever is not a plain
   * file or folder), with why, as rsync says "skipping non-regular file".
   */
  onSkip?: ((path: string, why: string) => void) | undefined;
  /**
   * Told about each file of a tree (`downloadTree`, `uploadTree`) that
   * fails on its own: refused by the server, a checksum that does not
   * match, a local file that cannot be written. With it the tree goes on
   * past such a file, as rsync and `scp -r` do, and the file is not
   * counted in the totals; a broken session, an interrupt or a full disk
   * still stop the tree, thrown. Without it the tree's first failure is
   * thrown once the small files in flight are done.
   */
  onFailure?: ((path: string, error: BftpError) => void) | undefined;
  /**
   * Keep the source's modification time and permission bits (`-p`, as with
   * scp): a download takes the server's, an upload asks the server to set
   * the local file's.
   *
   * @default {false}
   */
  preserve?: boolean | undefined;
  /**
   * How many files of a tree are in flight at once on the session (a
   * version 2 server pipelines them; a version 1 server takes one at a time).
   *
   * @default {32}
   */
  window?: number | undefined;
  /**
   * Upload a large file's body right behind its request, as a small one's
   * (`PutOptions.eager`): a tree's or a sync's, many in flight.
   *
   * @default {false}
   */
  eager?: boolean | undefined;
  /**
   * The local tree a download's files land in (its top held, `LocalTree`):
   * each file is made relative to its folder, reached without following a
   * link. Set by a tree's download for its files.
   *
   * @default {undefined} (by path)
   */
  tree?: LocalTree | undefined;
  /**
   * A tree's download lands in a folder it names itself inside the
   * folder the user gave (`get -r URL/t DEST`: DEST/t): a link at that
   * name is refused, where one at DEST itself is followed.
   *
   * @default {false}
   */
  nestedTop?: boolean | undefined;
}
