/**
 * How many files (and so sockets) this process may hold open. Deno can
 * panic instead of throwing when a process reaches the limit (seen in Deno
 * 2.9 at errno 24, in a client and a server), so the echo server and the load client keep their
 * connection counts below it.
 *
 * @module
 */

/** The limit assumed where it cannot be read (not Linux, or no read permission). */
export const FALLBACK_FILE_LIMIT = 1024;

/**
 * Reads the soft limit on open files of this process (`ulimit -n`), from
 * `/proc/self/limits` on Linux.
 *
 * @returns The limit, or {@linkcode FALLBACK_FILE_LIMIT} when it cannot be
 * read or is unlimited.
 *
 * @example
 * ```ts
 * import { openFileLimit } from "./file_limit.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(openFileLimit() >= 64);
 * ```
 */
export function openFileLimit(): number {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/limits");
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotCapable ||
      e instanceof Deno.errors.PermissionDenied
    ) {
      return FALLBACK_FILE_LIMIT;
    }
    throw e;
  }
  const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1];
  return soft === undefined ? FALLBACK_FILE_LIMIT : Number(soft);
}

/**
 * The most connections a process may hold given its file limit, leaving
 * room for its other files (the runtime, stdio, listeners).
 *
 * @param limit The open-file limit, by default this process's.
 * @returns The limit less a reserve of 64, at least 1.
 *
 * @example
 * ```ts
 * import { connectionBudget } from "./file_limit.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(connectionBudget(1024), 960);
 * ```
 */
export function connectionBudget(limit: number = openFileLimit()): number {
  return Math.max(1, limit - 64);
}
