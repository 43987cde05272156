/**
 * Remote wildcards, as scp users write them (`host:'logs/*.gz'`): a URL
 * whose last path part holds `*`, `?` or `[...]` stands for the names in
 * its folder that match, when no file has that very name.
 *
 * @module
 */

import type { BftpClient } from "./client.ts";
import { RemoteError } from "../errors.ts";
import { checkListedName } from "./local.ts";

/** Whether a name holds a wildcard. */
const WILD = /[*?[]/;

/**
 * Whether one path part holds a wildcard (`*`, `?` or `[`).
 *
 * @param name The part.
 * @returns `true` when it does.
 *
 * @example
 * ```ts
 * import { hasWildcard } from "./glob.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(hasWildcard("*.log"), true);
 * equal(hasWildcard("a.log"), false);
 * ```
 */
export function hasWildcard(name: string): boolean {
  return WILD.test(name);
}

/**
 * Turns a shell-style pattern into a regular expression over one name:
 * `*` any run of characters, `?` one, `[abc]`, `[a-z]` and `[!abc]` (or
 * `[^abc]`) one of a set; `*` and `?` never match a leading dot, as in a
 * shell. A `[` without its `]` is itself.
 *
 * @param pattern The pattern (one path part).
 * @returns The expression, anchored at both ends.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./glob.ts";
 * import { ok } from "node:assert/strict";
 *
 * const re = globToRegExp("*.t[xX]t");
 * ok(re.test("a.txt") && re.test("b.tXt") && !re.test(".hidden.txt") && !re.test("a.tyt"));
 * ok(globToRegExp("file?.log").test("file1.log"));
 * ok(globToRegExp("[!a]*").test("b") && !globToRegExp("[!a]*").test("a"));
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  let re = pattern.startsWith("*") || pattern.startsWith("?") ? "(?!\\.)" : "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let set = pattern.slice(i + 1, end);
      const negate = set.startsWith("!") || set.startsWith("^");
      if (negate) set = set.slice(1);
      re += `[${negate ? "^" : ""}${set.replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

/**
 * The paths a wildcard path stands for, in name order; the path itself
 * when its last part has no wildcard, or a file of that very name exists.
 * No match leaves the path as it is, so that fetching it reports "not
 * found".
 *
 * @param client A session with the path's server.
 * @param path The path (a URL's, or the shell's): absolute, or relative to
 *   the session's current folder.
 * @returns The paths to fetch.
 *
 * @example
 * ```ts
 * import { expandRemoteGlob } from "./glob.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * for (const name of ["a.log", "b.log", "c.txt"]) await Deno.writeTextFile(`${dir}/${name}`, "x");
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * deepEqual(await expandRemoteGlob(client, "/*.log"), ["/a.log", "/b.log"]);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function expandRemoteGlob(
  client: BftpClient,
  path: string,
): Promise<string[]> {
  const cut = path.lastIndexOf("/");
  const pattern = path.slice(cut + 1);
  if (!hasWildcard(pattern)) return [path];
  try {
    await client.stat(path);
    return [path];
  } catch (e) {
    if (!(e instanceof RemoteError && e.code === "NOT_FOUND")) throw e;
  }
  // A relative path (the shell's) lists the session's current folder.
  const folder = cut < 0 ? "." : path.slice(0, cut + 1) || "/";
  const re = globToRegExp(pattern);
  const names = (await client.list(folder)).map((entry) => entry.name).filter((n) => re.test(n))
    .sort();
  // A matched name becomes a local file name: one no folder can hold ("sub/../x", "/etc/x")
  // is refused. One a path cannot carry (a control character) is left to its own request, which
  // fails alone.
  for (const name of names) checkListedName(name);
  const stem = path.slice(0, cut + 1);
  return names.length === 0 ? [path] : names.map((name) => stem + name);
}
