/**
 * One sync, the same for `bftp sync` and the shell's `sync`: check both
 * ends, list both trees (at once), compare them, then print the plan (a
 * dry run) or carry it out, with a line per change, a summary or the JSON
 * report, and progress on a terminal.
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { isLocalTemporaryName } from "../local_file/mod.ts";
import { planUpload } from "../client/local_plan.ts";
import { planDownload } from "../client/remote_plan.ts";
import type { TreePlan } from "../client/tree_plan.ts";
import { BftpError, isDiskFull, RemoteError, UsageError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import { applySync, type DoneChange, type SyncTotals } from "../sync/apply.ts";
import { settleByContent } from "../sync/content.ts";
import { compareTrees, type SyncFilter, type SyncPlan } from "../sync/plan.ts";
import {
  changeLine,
  plannedChanges,
  plannedTotals,
  summaryLine,
  syncReport,
} from "../sync/report.ts";
import { terminalJson, visible } from "./format.ts";
import { type CliIo, errorLine, writeLine } from "./io.ts";
import { localKind, localSourceKind } from "./local_paths.ts";
import { onceEach, skipNotice } from "./session.ts";
import type { TreeProgress, TreeProgressStart } from "./tree_progress.ts";

/** The two ends of a sync. */
export interface SyncEnds {
  /** `push`: local to remote; `pull`: remote to local. */
  direction: "push" | "pull";
  /** The local folder. */
  local: string;
  /** The remote folder. */
  remote: string;
}

/** How a sync runs. */
export interface SyncRules {
  /**
   * Change nothing; say what would be done (`-n`).
   *
   * @default {false}
   */
  dryRun?: boolean | undefined;
  /**
   * Remove what the target has and the source lacks (`--delete`).
   *
   * @default {false}
   */
  deleting?: boolean | undefined;
  /**
   * Compare files of one size by content (`-c`).
   *
   * @default {false}
   */
  checksum?: boolean | undefined;
  /**
   * Leave alone a file newer on the target (`-u`).
   *
   * @default {false}
   */
  update?: boolean | undefined;
  /**
   * Leave alone every file the target has (`--ignore-existing`).
   *
   * @default {false}
   */
  ignoreExisting?: boolean | undefined;
  /**
   * Send a changed file whole, never only its changed blocks (`-W`).
   *
   * @default {false}
   */
  wholeFile?: boolean | undefined;
  /**
   * No line per change, no summary (`-q`).
   *
   * @default {false}
   */
  quiet?: boolean | undefined;
  /**
   * Print the JSON report instead of the lines and the summary (`--json`).
   *
   * @default {false}
   */
  json?: boolean | undefined;
  /** The paths that take part (`--exclude`, `--include`); all when absent. */
  filter?: SyncFilter | undefined;
  /** One progress line for the whole sync (on a terminal), or `undefined` for none. */
  treeProgress?: TreeProgressStart | undefined;
}

const EMPTY: TreePlan = { files: [], folders: [], totalBytes: 0, skipped: [] };

/** The remote folder, or `null` when it is missing; anything else is refused. */
async function remoteFolder(client: BftpClient, remote: string): Promise<Entry | null> {
  let entry: Entry;
  try {
    entry = await client.stat(remote);
  } catch (e) {
    if (e instanceof RemoteError && e.code === "NOT_FOUND") return null;
    throw e;
  }
  if (entry.type === "dir") return entry;
  throw new UsageError(`"${visible(remote)}" is not a folder on the server`);
}

/** `plan` with its top folder's time set (a listing gives the times of the folders below). */
function topTime(plan: TreePlan, top: Entry): TreePlan {
  const [first, ...rest] = plan.folders;
  return first === undefined
    ? plan
    : { ...plan, folders: [{ ...first, mtime: top.mtime, mode: top.mode }, ...rest] };
}

/**
 * How a sync lists its target: a folder that cannot be listed stays a
 * folder (its failure told); one its owner may not list is opened for the
 * listing, except by a dry run, which changes nothing (it tells such a
 * folder's failure instead).
 */
function targetListing(rules: SyncRules): { keepUnlisted: true; listLocked: boolean } {
  return { keepUnlisted: true, listLocked: rules.dryRun !== true };
}

/** Lists both trees at once (the remote one pipelined) and compares them. */
async function makePlan(
  client: BftpClient,
  ends: SyncEnds,
  rules: SyncRules,
  tree: TreeProgress | undefined,
): Promise<SyncPlan> {
  const { local, remote } = ends;
  const onListed = tree?.options().onListed;
  const given = rules.filter;
  // Both listings leave out what the filter excludes, and do not look inside such folders.
  const filter = given === undefined ? undefined : (r: string, f: boolean) => given.includes(r, f);
  let source: Promise<TreePlan>;
  let target: Promise<TreePlan>;
  let topIsLink = false;
  if (ends.direction === "push") {
    if ((await localSourceKind(local)) !== "dir") {
      throw new UsageError(`"${local}" is not a folder`);
    }
    const there = await remoteFolder(client, remote);
    topIsLink = there?.link === true;
    source = planUpload(local, remote, { onListed, filter, besideListing: there !== null })
      .then(withoutTemps);
    // The target's links are links: replaced or removed, never gone through as folders.
    target = there
      ? planDownload(client, remote, local, {
        filter,
        followLinks: false,
        ...targetListing(rules),
        topMode: there.mode,
      })
        .then((p) => topTime(p, there))
      : Promise.resolve(EMPTY);
  } else {
    const top = await remoteFolder(client, remote);
    if (top === null) {
      throw new RemoteError("NOT_FOUND", `"${visible(remote)}" is not on the server`);
    }
    const kind = await localKind(local, "write");
    if (kind === "file") throw new UsageError(`"${local}" is not a folder`);
    source = planDownload(client, remote, local, { onListed, filter }).then((p) => topTime(p, top));
    target = kind === null
      ? Promise.resolve(EMPTY)
      // The target's links are links here too: a mirror replaces one, never writes through it.
      : planUpload(local, remote, {
        filter,
        besideListing: true,
        followLinks: false,
        sending: false,
        ...targetListing(rules),
      })
        .then(withoutTemps);
  }
  // Both passes run at once; the second is awaited even when the first fails.
  const [mine, theirs] = await Promise.allSettled([source, target]);
  if (mine.status === "rejected") throw mine.reason;
  if (theirs.status === "rejected") throw theirs.reason;
  const plan = compareTrees(mine.value, theirs.value, {
    targetSide: ends.direction === "push" ? "remote" : "local",
    deleting: rules.deleting,
    checksum: rules.checksum,
    update: rules.update,
    ignoreExisting: rules.ignoreExisting,
    filter: rules.filter,
  });
  if (topIsLink) plan.keepTop = true;
  if (rules.checksum) {
    await settleByContent(client, plan, {
      sourceSide: ends.direction === "push" ? "local" : "remote",
    });
  }
  return plan;
}

/** A local tree's plan without bftp's own temporaries (never sent, compared or removed). */
function withoutTemps(plan: TreePlan): TreePlan {
  const last = (relative: string) => relative.slice(relative.lastIndexOf("/") + 1);
  return {
    ...plan,
    files: plan.files.filter((f) => !isLocalTemporaryName(last(f.relative))),
  };
}

/** What a sync did (or, dry, would do), and what failed. */
interface Outcome {
  totals: SyncTotals;
  changes: DoneChange[];
  failures: { relative: string; error: BftpError }[];
  /** The full disk that stopped it, if one did. */
  full?: BftpError | undefined;
}

/** Why a sync stopped early, once its full disk has been told. */
function stoppedLine(more: number, notTried: number): string {
  const files = (n: number, what = "") => `${n} ${what}file${n === 1 ? "" : "s"}`;
  const same = more > 0 ? `${files(more, "more ")} failed the same way, ` : "";
  return `Stopped: no space left (${same}${files(notTried)} not tried); ` +
    "run the sync again once there is room";
}

/** Carries a plan out (or, dry, only tells it), telling each change and failure as it comes. */
async function carryOut(
  client: BftpClient,
  plan: SyncPlan,
  ends: SyncEnds,
  rules: SyncRules,
  tell: {
    tree: TreeProgress | undefined;
    change: (c: DoneChange) => void;
    fail: (message: string) => void;
  },
): Promise<Outcome> {
  if (rules.dryRun === true) {
    const changes = plannedChanges(plan);
    for (const c of changes) tell.change(c);
    return { totals: plannedTotals(plan), changes, failures: [] };
  }
  const changes: DoneChange[] = [];
  const failures: Outcome["failures"] = [];
  const shown = tell.tree?.options();
  shown?.onPlan?.({
    files: plan.sends.map((s) => s.file),
    folders: [],
    totalBytes: plan.sends.reduce((n, s) => n + s.file.size, 0),
    skipped: [],
  });
  const totals = await applySync(client, plan, {
    direction: ends.direction,
    wholeFile: rules.wholeFile,
    progress: shown?.progress,
    onFile: shown?.onFile,
    onChange: (c) => {
      changes.push(c);
      tell.change(c);
    },
    onError: (relative, error) => {
      // A full disk is told once; the files in flight that fail the same way after it, counted.
      const again = isDiskFull(error) && failures.some((f) => isDiskFull(f.error));
      failures.push({ relative, error });
      if (!again) tell.fail(error.message);
    },
  });
  const full = failures.filter((f) => isDiskFull(f.error));
  if (full.length > 0) tell.fail(stoppedLine(full.length - 1, totals.notTried));
  return { totals, changes, failures, full: full[0]?.error };
}

/**
 * Runs one sync and prints what it did (see the module's description).
 *
 * @param client The session with the server.
 * @param ends The local and remote folders, and which is the source.
 * @param rules The flags.
 * @param io The console.
 * @returns The last entry's failure, if any (each was reported on stderr).
 * @throws {UsageError} When an end is not a folder.
 * @throws {ProtocolError} On a hostile listing, before anything changes.
 *
 * @example
 * ```ts
 * import { syncTrees } from "./sync_rules.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.mkdir(`${dir}/site`);
 * await Deno.writeTextFile(`${dir}/site/a.txt`, "hi");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * let out = "";
 * const write = (p: Uint8Array) => (out += new TextDecoder().decode(p), Promise.resolve(p.byteLength));
 * const io = { stdout: { write }, stderr: { write } } as unknown as Parameters<typeof syncTrees>[3];
 * const ends = { direction: "push" as const, local: `${dir}/site`, remote: "/site" };
 * deepEqual(await syncTrees(client, ends, {}, io), undefined);
 * deepEqual(await Deno.readTextFile(`${dir}/served/site/a.txt`), "hi");
 * deepEqual(out.split("\n")[0], "+ a.txt");
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function syncTrees(
  client: BftpClient,
  ends: SyncEnds,
  rules: SyncRules,
  io: Pick<CliIo, "stdout" | "stderr">,
): Promise<BftpError | undefined> {
  const start = performance.now();
  const tree = rules.treeProgress?.("Synced");
  let printing = Promise.resolve();
  const print = (out: CliIo["stdout"], text: string) => {
    tree?.clear();
    printing = printing.then(() => writeLine(out, text));
  };
  const lines = rules.quiet !== true && rules.json !== true;
  try {
    const plan = await makePlan(client, ends, rules, tree);
    const changing = plan.sends.length + plan.deletes.length + plan.missingFolders.size > 0;
    // One refusal rather than one per file; a dry run shows its plan first, then says so.
    const refused = ends.direction === "push" && client.readOnly && changing
      ? new RemoteError("DENIED", "The session is read-only: nothing can be synced into it")
      : undefined;
    if (refused !== undefined && rules.dryRun !== true) throw refused;
    const notice = skipNotice(io);
    // A message told already (one naming a folder removed meanwhile) is not told again for each
    // file in it; the summary counts them all.
    const fail = onceEach((message) => print(io.stderr, errorLine(message)));
    // An entry that cannot be fetched (its name) is a failure, told before the others.
    const unfetched: Outcome["failures"] = [];
    for (const { path, why, relative, error } of plan.skipped) {
      tree?.clear();
      if (error === undefined) notice(path, why);
      else {
        unfetched.push({ relative: relative ?? path, error });
        fail(error.message);
      }
    }
    const { totals, changes, failures, full } = await carryOut(client, plan, ends, rules, {
      tree,
      change: (c) => {
        if (lines) print(io.stdout, changeLine(c, visible));
      },
      fail,
    });
    tree?.stop();
    failures.unshift(...unfetched);
    totals.failed += unfetched.length;
    // A dry run into a read-only session: its plan, then the refusal, in the report too.
    if (refused !== undefined) {
      failures.push({ relative: "", error: refused });
      totals.failed++;
    }
    const seconds = (performance.now() - start) / 1000;
    const dry = rules.dryRun === true;
    if (rules.json === true) {
      print(io.stdout, terminalJson(syncReport(plan, totals, changes, failures, seconds, dry)));
    } else if (lines) {
      print(io.stdout, summaryLine(plan.checked, totals, seconds, dry, ends.direction));
    }
    if (refused !== undefined) print(io.stderr, errorLine(refused.message));
    await printing;
    return full ?? failures.at(-1)?.error ?? refused;
  } finally {
    tree?.stop();
    await printing.catch(() => {});
  }
}
