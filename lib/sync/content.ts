/**
 * `sync --checksum`: files of one size on both sides are compared by
 * content, not by time. The server's side is its SHA-256 from HASH (which
 * its hash cache keeps, so a warm server answers without reading the
 * file); the local side is the file hashed the same way, with SHA-256.
 * Several files are compared at once (the HASH requests pipelined).
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import type { PlannedFile } from "../client/tree_plan.ts";
import { TaskWindow } from "../client/window.ts";
import { BftpError, localIoError } from "../errors.ts";
import { hashPrefix } from "../file_hash.ts";
import { quickDiffers, type SyncPlan } from "./plan.ts";

/**
 * A local file's SHA-256, as the server's HASH gives it.
 *
 * @param path The file.
 * @returns The lowercase hex digest.
 * @throws {LocalIoError} When it cannot be read.
 *
 * @example
 * ```ts
 * import { localSha256 } from "./content.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hi!");
 * deepEqual((await localSha256(path)).slice(0, 8), "c0ddd62c");
 * await Deno.remove(path);
 * ```
 */
export async function localSha256(path: string): Promise<string> {
  try {
    using file = await Deno.open(path, { read: true });
    const { hash } = await hashPrefix(file, Number.MAX_SAFE_INTEGER, "sha256");
    return hash.digest();
  } catch (e) {
    throw localIoError("read", path, e);
  }
}

/** Options for {@linkcode settleByContent}. */
export interface SettleOptions {
  /** Where the source is: the target is on the other side. */
  sourceSide: "local" | "remote";
  /**
   * How many files are compared at once.
   *
   * @default {32}
   */
  window?: number | undefined;
}

/**
 * Compares the plan's `unsure` files by content: those that differ join
 * the files to send (as `changed`); those of the same content whose time
 * or bits differ join them as `attributesOnly` (no body goes); the others
 * stay. A file whose hash
 * cannot be had (gone meanwhile, unreadable) is sent, and its transfer
 * then says what is wrong.
 *
 * @param client The session with the server.
 * @param plan The plan from `compareTrees` with `checksum`; changed in place.
 * @param options The source's side and the window.
 * @throws Whatever breaks the session (the comparisons stop there).
 *
 * @example
 * ```ts
 * import { settleByContent } from "./content.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const plan = { checked: 0, folders: [], missingFolders: new Set<string>(), sends: [], deletes: [], skipped: [], unsure: [], staleTimes: new Set<string>() };
 * await settleByContent(null as never, plan, { sourceSide: "local" });
 * deepEqual(plan.sends, []);
 * ```
 */
export async function settleByContent(
  client: BftpClient,
  plan: SyncPlan,
  options: SettleOptions,
): Promise<void> {
  const hashOf = async (file: PlannedFile, side: "local" | "remote") =>
    side === "local" ? await localSha256(file.local) : (await client.hash(file.remote)).sha256;
  const targetSide = options.sourceSide === "local" ? "remote" : "local";
  const window = new TaskWindow({ limit: options.window });
  const unsure = plan.unsure;
  plan.unsure = [];
  const differs = new Set<number>();
  try {
    for (const [i, pair] of unsure.entries()) {
      await window.add(async () => {
        try {
          const [a, b] = await Promise.all([
            hashOf(pair.source, options.sourceSide),
            hashOf(pair.target, targetSide),
          ]);
          if (a !== b) differs.add(i);
        } catch (e) {
          if (!(e instanceof BftpError) || !client.usable) throw e;
          differs.add(i);
        }
      });
    }
  } finally {
    await window.settle();
  }
  await window.drain();
  for (const [i, pair] of unsure.entries()) {
    if (differs.has(i)) plan.sends.push({ kind: "changed", file: pair.source });
    // The same bytes with another time or bits: those alone, as rsync -c fixes them.
    else if (quickDiffers(pair.source, pair.target)) {
      plan.sends.push({ kind: "changed", file: pair.source, attributesOnly: true });
    }
  }
}
