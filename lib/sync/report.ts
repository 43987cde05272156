/**
 * What `bftp sync` says: a line per change (`+ new`, `* changed`,
 * `- deleted`, a folder with a trailing `/`), one summary line, or the
 * whole as JSON for scripts. Paths are escaped before they reach a
 * terminal (a name can come from the server).
 *
 * @module
 */

import { formatBytes } from "../bytes.ts";
import type { BftpError } from "../errors.ts";
import type { DoneChange, SyncTotals } from "./apply.ts";
import type { SyncPlan } from "./plan.ts";

/** The mark a change's line begins with. */
const MARKS = { new: "+", changed: "*", deleted: "-" } as const;

/**
 * The line for one change, the path escaped by `escape`.
 *
 * @param change The change.
 * @param escape Makes a path safe for the terminal (`visible` of `format.ts`).
 * @returns For example `+ docs/a.txt` or `- old/`.
 *
 * @example
 * ```ts
 * import { changeLine } from "./report.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(changeLine({ kind: "deleted", relative: "old", folder: true, size: 0 }, (s) => s), "- old/");
 * deepEqual(changeLine({ kind: "new", relative: "a.txt", folder: false, size: 2 }, (s) => s), "+ a.txt");
 * ```
 */
export function changeLine(change: DoneChange, escape: (text: string) => string): string {
  return `${MARKS[change.kind]} ${escape(change.relative)}${change.folder ? "/" : ""}`;
}

/**
 * The changes a plan holds, as a dry run lists them: removals, then the
 * folders to make (not DST itself), then the files to send.
 *
 * @param plan The plan.
 * @returns The changes, in the order they would be done.
 *
 * @example
 * ```ts
 * import { plannedChanges } from "./report.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const file = { remote: "/a", local: "a", relative: "a", size: 2 };
 * const plan = { checked: 1, folders: [], missingFolders: new Set<string>(), sends: [{ kind: "new" as const, file }], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * deepEqual(plannedChanges(plan), [{ kind: "new", relative: "a", folder: false, size: 2 }]);
 * ```
 */
export function plannedChanges(plan: SyncPlan): DoneChange[] {
  return [
    ...plan.deletes.map((d) => ({
      kind: "deleted" as const,
      relative: d.relative,
      folder: d.folder,
      size: d.size,
    })),
    ...plan.folders.filter((f) => f.relative !== "" && plan.missingFolders.has(f.relative))
      .map((f) => ({ kind: "new" as const, relative: f.relative, folder: true, size: 0 })),
    ...plan.sends.map((s) => ({
      kind: s.kind,
      relative: s.file.relative,
      folder: false,
      size: s.file.size,
    })),
  ];
}

/**
 * What a plan would do, as totals (a dry run's summary).
 *
 * @param plan The plan.
 * @returns The totals it would reach.
 *
 * @example
 * ```ts
 * import { plannedTotals } from "./report.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const plan = { checked: 0, folders: [], missingFolders: new Set<string>(), sends: [], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * deepEqual(plannedTotals(plan).sent, 0);
 * ```
 */
export function plannedTotals(plan: SyncPlan): SyncTotals {
  const count = (kind: string) => plan.sends.filter((s) => s.kind === kind).length;
  return {
    sent: plan.sends.length,
    new: count("new"),
    changed: count("changed"),
    deleted: plan.deletes.length,
    bytes: plan.sends.reduce((n, s) => n + s.file.size, 0),
    failed: 0,
    notTried: 0,
  };
}

/**
 * The summary line: files checked, sent (a pull: received) (new,
 * changed), deleted, failed, not tried (after a full disk), bytes, time
 * and rate; a dry run says what would be done.
 *
 * @param checked How many source files were compared.
 * @param totals What was done (or would be).
 * @param seconds How long it took.
 * @param dryRun Whether nothing was changed.
 * @param direction `push` (the files are sent) or `pull` (received).
 * @returns The line.
 *
 * @example
 * ```ts
 * import { summaryLine } from "./report.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const totals = { sent: 2, new: 1, changed: 1, deleted: 1, bytes: 2048, failed: 0, notTried: 0 };
 * deepEqual(
 *   summaryLine(10, totals, 2, false),
 *   "Checked 10 files: sent 2 (1 new, 1 changed), deleted 1; 2.0 KiB in 2.0 s (1.0 KiB/s)",
 * );
 * deepEqual(
 *   summaryLine(10, totals, 2, true),
 *   "Dry run, checked 10 files: would send 2 (1 new, 1 changed), delete 1; 2.0 KiB",
 * );
 * deepEqual(
 *   summaryLine(10, totals, 2, false, "pull"),
 *   "Checked 10 files: received 2 (1 new, 1 changed), deleted 1; 2.0 KiB in 2.0 s (1.0 KiB/s)",
 * );
 * ```
 */
export function summaryLine(
  checked: number,
  totals: SyncTotals,
  seconds: number,
  dryRun: boolean,
  direction: "push" | "pull" = "push",
): string {
  const files = `${checked} file${checked === 1 ? "" : "s"}`;
  const sent = `${totals.sent} (${totals.new} new, ${totals.changed} changed)`;
  const failed = (totals.failed > 0 ? `, failed ${totals.failed}` : "") +
    (totals.notTried > 0 ? `, not tried ${totals.notTried}` : "");
  if (dryRun) {
    // What would fail is known before anything is tried (names, a folder in the way, read-only).
    return `Dry run, checked ${files}: would ${
      direction === "push" ? "send" : "receive"
    } ${sent}, delete ${totals.deleted}${failed}; ${formatBytes(totals.bytes)}`;
  }
  const time = seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
  const rate = `${formatBytes(Math.round(totals.bytes / Math.max(seconds, 1e-3)))}/s`;
  return `Checked ${files}: ${
    direction === "push" ? "sent" : "received"
  } ${sent}, deleted ${totals.deleted}${failed}; ${formatBytes(totals.bytes)} in ${time} (${rate})`;
}

/** One failure, as the JSON report gives it. */
export interface JsonFailure {
  /** The path below the tops. */
  path: string;
  /** The error's code (`NOT_FOUND`, `LOCAL_IO`...). */
  code: string;
  /** Its message. */
  message: string;
}

/** The JSON report of a sync (`--json`). */
export interface SyncReport {
  /** Whether nothing was changed (`-n`). */
  dryRun: boolean;
  /** Source files compared. */
  checked: number;
  /** Files sent (or to send). */
  sent: number;
  /** Of them, new. */
  new: number;
  /** Of them, changed. */
  changed: number;
  /** Entries removed (or to remove). */
  deleted: number;
  /** Entries that failed. */
  failed: number;
  /** Files not tried: the sync stopped at a full disk. */
  notTried: number;
  /** Bytes sent (or to send). */
  bytes: number;
  /** Seconds taken. */
  seconds: number;
  /** Each change: `kind`, `path`, `folder`, `size`. */
  changes: { kind: DoneChange["kind"]; path: string; folder: boolean; size: number }[];
  /**
   * The source's entries left out, and why: `path` on the source's side
   * (local or on the server), `relative` below the synced folder, as a
   * change's `path` is.
   */
  skipped: { path: string; relative?: string; why: string }[];
  /** Each failure. */
  errors: JsonFailure[];
}

/**
 * Builds the JSON report.
 *
 * @param plan The plan (its `checked` and `skipped`).
 * @param totals What was done (or would be).
 * @param changes The changes done (or planned).
 * @param failures The failures, by relative path.
 * @param seconds How long it took.
 * @param dryRun Whether nothing was changed.
 * @returns The report, for `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { syncReport } from "./report.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const plan = { checked: 0, folders: [], missingFolders: new Set<string>(), sends: [], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * const totals = { sent: 0, new: 0, changed: 0, deleted: 0, bytes: 0, failed: 0, notTried: 0 };
 * deepEqual(syncReport(plan, totals, [], [], 0.5, false).seconds, 0.5);
 * ```
 */
export function syncReport(
  plan: SyncPlan,
  totals: SyncTotals,
  changes: readonly DoneChange[],
  failures: readonly { relative: string; error: BftpError }[],
  seconds: number,
  dryRun: boolean,
): SyncReport {
  return {
    dryRun,
    checked: plan.checked,
    ...totals,
    seconds: Math.round(seconds * 1000) / 1000,
    changes: changes.map((c) => ({
      kind: c.kind,
      path: c.relative,
      folder: c.folder,
      size: c.size,
    })),
    skipped: plan.skipped.map(({ path, why, relative }) => ({
      path,
      ...(relative === undefined ? {} : { relative }),
      why,
    })),
    errors: failures.map(({ relative, error }) => ({
      path: relative,
      code: error.code,
      message: error.message,
    })),
  };
}
