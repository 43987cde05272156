/**
 * One progress line for a whole folder tree (`get -r`, `put -r`): files and
 * bytes done of the plan's totals, the rate, the ETA, and the path (below
 * the tree's top) of the file most recently started; then one summary line
 * in its place. Shown only on a terminal and not with `-q`, as the
 * per-file lines are. A file that fails is told on a line of its own, and
 * the tree then ends with one line that counts them.
 *
 * @module
 */

import type { TransferOptions } from "../client/client.ts";
import type { LocalTransferOptions } from "../client/local_options.ts";
import type { ListingCounts, TreePlan } from "../client/tree_plan.ts";
import type { TreeTotals } from "../client/tree_transfer.ts";
import type { ByteWriter } from "../framing/types.ts";
import { formatBytes } from "../bytes.ts";
import { BftpError } from "../errors.ts";
import type { CliIo } from "./io.ts";
import { formatDuration, Progress, type ProgressOptions } from "./progress.ts";

/** Options for {@linkcode TreeProgress}. */
export interface TreeProgressOptions {
  /** How the summary begins: `Downloaded` or `Uploaded`. */
  verb: string;
  /** Where the line goes (stderr). */
  out: ByteWriter;
  /**
   * The terminal's width in columns, asked at each redraw.
   *
   * @default {() => 80}
   */
  columns?: (() => number) | undefined;
  /**
   * Milliseconds between redraws.
   *
   * @default {200}
   */
  intervalMs?: number;
}

/** The callbacks a tree transfer takes from a {@linkcode TreeProgress}. */
export type TreeCallbacks = Pick<
  LocalTransferOptions,
  "onListed" | "onPlan" | "progress" | "onFile" | "onSkip" | "onFailure"
>;

/** Makes a {@linkcode TreeProgress} for one tree, with its summary's verb. */
export type TreeProgressStart = (verb: string) => TreeProgress;

/** `1 file`, `2 files`. */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * A summary's time: tenths of a second under a minute, `m:ss` beyond.
 *
 * @param seconds The time taken.
 * @returns For example `"0.4 s"` or `"2:05"`.
 *
 * @example
 * ```ts
 * import { formatElapsed } from "./tree_progress.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatElapsed(0.42), "0.4 s");
 * deepEqual(formatElapsed(125), "2:05");
 * ```
 */
export function formatElapsed(seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}

/**
 * The line for one tree. Give {@linkcode TreeProgress.options} to the tree
 * transfer, then call {@linkcode TreeProgress.finish} with its totals.
 *
 * @example
 * ```ts
 * import { TreeProgress } from "./tree_progress.ts";
 * import { ok } from "node:assert/strict";
 *
 * let text = "";
 * const out = { write: (p: Uint8Array) => (text += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) };
 * const tree = new TreeProgress({ verb: "Downloaded", out, intervalMs: 0 });
 * const { onPlan, progress, onFile } = tree.options();
 * const file = { remote: "/t/a", local: "t/a", relative: "a", size: 10 };
 * onPlan?.({ files: [file], folders: [], totalBytes: 10, skipped: [] });
 * progress?.("a", 10).onProgress?.(10);
 * onFile?.("/t/a", "t/a", { size: 10, checksum: "sha256", hash: "" });
 * tree.finish({ files: 1, bytes: 10 });
 * ok(text.includes("1/1 files"), text);
 * ok(/Downloaded 1 file, 10 B in [\d.]+ s \(.*\/s\)\n$/.test(text), text);
 * ```
 */
export class TreeProgress {
  #options: TreeProgressOptions;
  #start = performance.now();
  #line: Progress | undefined;
  #planned = new Map<string, number>();
  #files = 0;
  #done = 0;
  #totalBytes = 0;
  #listing: Progress | undefined;
  #counts: ListingCounts = { folders: 0, files: 0, bytes: 0 };

  /** @param options The verb and where the line goes. */
  constructor(options: TreeProgressOptions) {
    this.#options = options;
  }

  /**
   * The callbacks the tree transfer takes: its listing pass shows how far
   * it has got, its plan starts the line, each file's bytes move it, each
   * file done counts.
   *
   * @param onSkip Tells of an entry left out, on a line of its own (the
   *   listing's line is cleared first, and drawn again after).
   * @param onFailure Tells of a file that failed, on a line of its own (the
   *   tree's line is cleared first, and drawn again after).
   * @returns `onListed`, `onPlan`, `progress`, `onFile`, `onSkip` and
   *   `onFailure` for `downloadTree` or `uploadTree`.
   */
  options(
    onSkip?: LocalTransferOptions["onSkip"],
    onFailure?: LocalTransferOptions["onFailure"],
  ): TreeCallbacks {
    return {
      onSkip: (path, why) => {
        this.#listing?.clear();
        onSkip?.(path, why);
      },
      ...(onFailure === undefined ? {} : {
        onFailure: (path, error) => {
          this.clear();
          onFailure(path, error);
        },
      }),
      onListed: (counts) => this.#listed(counts),
      onPlan: (plan) => this.#plan(plan),
      progress: (label, size, offset) => this.#file(label, size, offset ?? 0),
      onFile: () => {
        this.#done++;
        this.#line?.add(0);
      },
    };
  }

  #listed(counts: ListingCounts): void {
    this.#counts = counts;
    this.#listing ??= this.#newLine(null, {
      // In a narrow terminal the words go first, then the folders, then the bytes: never a
      // number cut in two.
      text: () => {
        const { folders, files, bytes } = this.#counts;
        const counts = [plural(folders, "folder"), plural(files, "file"), formatBytes(bytes)];
        return [
          `Listing: ${counts.join(", ")}`,
          counts.join(", "),
          counts.slice(1).join(", "),
          counts[1]!,
        ];
      },
    });
    this.#listing.add(0);
  }

  #plan(plan: TreePlan): void {
    // The transfer's line is drawn over the listing's.
    this.#listing?.stop();
    this.#files = plan.files.length;
    this.#totalBytes = plan.totalBytes;
    for (const file of plan.files) this.#planned.set(file.relative, file.size);
    this.#line = this.#newLine(plan.totalBytes, {
      count: () => `${this.#done}/${this.#files} files`,
    });
    this.#line.add(0);
  }

  /** A line on the terminal, with no name yet. */
  #newLine(total: number | null, shown: Pick<ProgressOptions, "count" | "text">): Progress {
    const { out, columns, intervalMs } = this.#options;
    return new Progress({
      label: "",
      total,
      out,
      columns,
      ...shown,
      ...(intervalMs === undefined ? {} : { intervalMs }),
    });
  }

  #file(label: string, size: number | null, offset: number): TransferOptions {
    const line = this.#line;
    if (line === undefined) return {};
    line.label = label;
    // A file that changed since the listing: the total follows what is moving.
    const planned = this.#planned.get(label);
    if (planned !== undefined && size !== null && size !== planned) {
      this.#planned.set(label, size);
      this.#totalBytes += size - planned;
      line.total = this.#totalBytes;
    }
    if (offset > 0) line.add(offset);
    return { onProgress: (n) => line.add(n) };
  }

  /** Wipes the line, so that a message can take its place; the next bytes draw it again. */
  clear(): void {
    this.#listing?.clear();
    this.#line?.clear();
  }

  /** Wipes the line and stops it, with no summary (the caller prints its own). */
  stop(): void {
    this.clear();
    this.#listing?.stop();
    this.#line?.stop();
  }

  /**
   * Puts the summary in the line's place: files, bytes, time and rate.
   *
   * @param totals What the tree transfer moved.
   */
  finish(totals: TreeTotals): void {
    const seconds = Math.max((performance.now() - this.#start) / 1000, 1e-3);
    const files = plural(totals.files, "file");
    const rate = `${formatBytes(Math.round(totals.bytes / seconds))}/s`;
    const summary = `${this.#options.verb} ${files}, ${formatBytes(totals.bytes)} in ${
      formatElapsed(seconds)
    } (${rate})`;
    if (this.#line !== undefined) {
      this.#line.finish(summary);
    } else {
      this.#options.out.write(new TextEncoder().encode(`${summary}\n`)).catch(() => {});
    }
  }
}

/**
 * Makes tree progress lines on stderr when it is a terminal and `quiet` is
 * off; nothing otherwise (the tree's files then move without a line).
 *
 * @param io The console.
 * @param quiet `-q` was given.
 * @returns A maker of {@linkcode TreeProgress}, or `undefined`.
 *
 * @example
 * ```ts
 * import { treeProgressFor } from "./tree_progress.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const io = { stderrIsTerminal: false } as Parameters<typeof treeProgressFor>[0];
 * deepEqual(treeProgressFor(io, false), undefined);
 * ```
 */
export function treeProgressFor(io: CliIo, quiet: boolean): TreeProgressStart | undefined {
  if (quiet || !io.stderrIsTerminal) return undefined;
  return (verb) => new TreeProgress({ verb, out: io.stderr, columns: io.stderrColumns });
}

/**
 * Runs one tree transfer with its progress line when there is one, and
 * its summary at the end; without one, with the per-file `progress` given.
 * With `onFailure`, a file that fails is told there and the others go on;
 * the tree then ends with an error that counts them, whose exit code is
 * the last one's (as with several sources).
 *
 * @param start The maker of tree lines, if any.
 * @param verb The summary's verb.
 * @param given The per-file progress (used without a tree line), the
 *   notice of each entry left out, and of each file that failed.
 * @param run The transfer, given the callbacks to pass on.
 * @returns What the transfer moved.
 * @throws {BftpError} When a file failed (each told through `onFailure`).
 *
 * @example
 * ```ts
 * import { withTreeProgress } from "./tree_progress.ts";
 * import { RemoteError } from "../errors.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * const totals = await withTreeProgress(undefined, "Uploaded", {}, () => Promise.resolve({ files: 0, bytes: 0 }));
 * deepEqual(totals, { files: 0, bytes: 0 });
 * const told: string[] = [];
 * await rejects(
 *   withTreeProgress(undefined, "Uploaded", { onFailure: (path) => told.push(path) }, (o) => {
 *     o.onFailure?.("a/b.txt", new RemoteError("DENIED", "No"));
 *     return Promise.resolve({ files: 1, bytes: 5 });
 *   }),
 *   /^BftpError: Not everything was uploaded: 1 failure \(see above\)$/,
 * );
 * deepEqual(told, ["a/b.txt"]);
 * ```
 */
export async function withTreeProgress(
  start: TreeProgressStart | undefined,
  verb: string,
  given: Pick<LocalTransferOptions, "progress" | "onSkip" | "onFailure">,
  run: (options: TreeCallbacks) => Promise<TreeTotals>,
): Promise<TreeTotals> {
  const tree = start?.(verb);
  let failed = 0;
  let last: BftpError | undefined;
  const onFailure = given.onFailure &&
    ((path: string, error: BftpError) => {
      failed++;
      last = error;
      given.onFailure!(path, error);
    });
  const shown = tree?.options(given.onSkip, onFailure) ?? { ...given, onFailure };
  const totals = await run(shown);
  tree?.finish(totals);
  if (last !== undefined) {
    const failures = plural(failed, "failure");
    throw new BftpError(
      last.code,
      `Not everything was ${verb.toLowerCase()}: ${failures} (see above)`,
    );
  }
  return totals;
}
