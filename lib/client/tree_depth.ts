/**
 * How deep a recursive walk of a server's folder tree goes (`get -r`,
 * `rm -r`) before it refuses the tree: a hostile or broken server can
 * answer every LIST with one more folder (`/d/d/d/...`) forever.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { replaceUnsafe } from "../terminal_text.ts";

/**
 * How deep `get -r`, `rm -r` and a sync's listing of the server go before
 * they refuse the tree: far deeper than trees are (a folder 1,024 levels
 * down has a path of 2 KiB at the least), so that any tree `put -r` can
 * upload comes back (it was 128, and a tree of 130 levels went up and then
 * could not be fetched, synced again or removed), while an endless one
 * stops within the 4,096 bytes a path may take.
 */
export const MAX_TREE_DEPTH = 1024;

/**
 * Refuses a walk that has gone past {@linkcode MAX_TREE_DEPTH}, with a
 * short message: the path is cut to its last 60 characters, control
 * characters shown as `?`.
 *
 * @param depth How many levels below the top `path` is (the top is 0).
 * @param path The remote folder about to be listed.
 * @throws {ProtocolError} Past the limit.
 *
 * @example
 * ```ts
 * import { checkTreeDepth, MAX_TREE_DEPTH } from "./tree_depth.ts";
 * import { throws } from "node:assert/strict";
 *
 * checkTreeDepth(MAX_TREE_DEPTH, "/d");
 * throws(() => checkTreeDepth(MAX_TREE_DEPTH + 1, "/d".repeat(500)), /deeper than 1024 levels/);
 * ```
 */
export function checkTreeDepth(depth: number, path: string): void {
  if (depth <= MAX_TREE_DEPTH) return;
  throw new ProtocolError(
    `Refused a folder tree deeper than ${MAX_TREE_DEPTH} levels from the server: "${
      visibleShort(path)
    }"`,
  );
}

/**
 * A server's path or name for a one-line message: control characters as
 * `?`, cut to its last 60 characters.
 *
 * @param text What the server sent.
 * @returns The text to quote.
 *
 * @example
 * ```ts
 * import { visibleShort } from "./tree_depth.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(visibleShort("a\x1b[2Jb"), "a?[2Jb");
 * equal(visibleShort("x".repeat(100)).length, 60);
 * ```
 */
export function visibleShort(text: string): string {
  const clean = replaceUnsafe(text, () => "?");
  return clean.length > 60 ? `...${clean.slice(-57)}` : clean;
}
