/**
 * The include and exclude rules of `bftp sync` (`--exclude GLOB`,
 * `--include GLOB`, `--exclude-from FILE`), as rsync has them: each rule
 * is checked in command-line order against an entry's path relative to
 * the synced folder, the first rule that matches decides, and an entry no
 * rule matches is part of the transfer. docs/SYNC.md ("Include and exclude
 * rules") is the user's description; this file implements exactly that:
 *
 * - a pattern with no `/` (but for a trailing one) matches the last name
 *   at any depth; a pattern with a `/` at its start or inside is anchored
 *   at the folder's top, and a leading `/` is only that anchor
 * - `*` any run of characters but `/`, `?` one character but `/`, `**` any
 *   run including `/` (at the start or after a `/`, and followed by a
 *   `/`, it also stands for no folder at all), `[abc]`, `[a-z]`, `[!abc]`
 *   or `[^abc]` one character of a set (never `/`), `\` takes the next
 *   character as itself
 * - a trailing `/` matches folders only
 * - an excluded folder excludes everything beneath it
 *
 * Each pattern is compiled once, to one regular expression over the whole
 * relative path.
 *
 * @example Sending the sources but not the build output or the logs
 * ```ts
 * import { PathFilter } from "./filter.ts";
 * import { ok } from "node:assert/strict";
 *
 * const filter = PathFilter.from([
 *   { kind: "exclude", pattern: "/build/" },
 *   { kind: "include", pattern: "keep.log" },
 *   { kind: "exclude", pattern: "*.log" },
 * ]);
 * ok(filter.includes("src/main.ts", false));
 * ok(!filter.includes("build", true));
 * ok(!filter.includes("build/out.js", false));
 * ok(filter.includes("src/build", true));
 * ok(!filter.includes("src/debug.log", false));
 * ok(filter.includes("src/keep.log", false));
 * ```
 *
 * @module
 */

import { localIoError, UsageError } from "../errors.ts";

/** One rule, in command-line order. */
export interface FilterRule {
  /** Whether a path the pattern matches is sent (`include`) or left out. */
  kind: "include" | "exclude";
  /** The pattern, as the user wrote it. */
  pattern: string;
}

/** A rule compiled: one expression over the whole relative path. */
interface CompiledRule {
  include: boolean;
  foldersOnly: boolean;
  re: RegExp;
}

/** The characters a regular expression reads as syntax outside a class. */
const SYNTAX = /[\\^$.*+?()[\]{}|/]/;

/** A trailing `/` that no `\` escapes. */
const TRAILING_SLASH = /(?:^|[^\\])(?:\\\\)*\/$/;

/** Makes the error for a pattern that cannot be compiled. */
type Fail = (why: string) => UsageError;

/**
 * The decisions of a list of include and exclude rules: which entries of a
 * folder tree a sync transfers (or deletes on the target).
 */
export class PathFilter {
  readonly #rules: readonly CompiledRule[];

  private constructor(rules: readonly CompiledRule[]) {
    this.#rules = rules;
  }

  /**
   * Compiles rules, each pattern once.
   *
   * @param rules The rules, in command-line order.
   * @returns The filter.
   * @throws {UsageError} For a pattern that cannot be read: a `[` no `]`
   *   closes, a lone `\` at the end, a reversed range, or no name at all.
   *
   * @example
   * ```ts
   * import { PathFilter } from "./filter.ts";
   * import { ok, throws } from "node:assert/strict";
   *
   * ok(PathFilter.from([]).empty);
   * throws(
   *   () => PathFilter.from([{ kind: "exclude", pattern: "a[bc" }]),
   *   { message: 'Bad exclude pattern "a[bc": no "]" closes its "["' },
   * );
   * ```
   */
  static from(rules: readonly FilterRule[]): PathFilter {
    return new PathFilter(rules.map(compileRule));
  }

  /**
   * True when no rule can exclude anything: there are no rules, or only
   * include rules, so every entry is part of the transfer.
   *
   * @example
   * ```ts
   * import { PathFilter } from "./filter.ts";
   * import { ok } from "node:assert/strict";
   *
   * ok(PathFilter.from([{ kind: "include", pattern: "*.c" }]).empty);
   * ok(!PathFilter.from([{ kind: "exclude", pattern: "*.o" }]).empty);
   * ```
   */
  get empty(): boolean {
    return this.#rules.every((rule) => rule.include);
  }

  /**
   * Whether the entry at `relative` is part of the transfer. Each folder
   * above it is checked first, as a folder: when one is excluded, so is
   * the entry, whatever rule would match the entry itself.
   *
   * @param relative The entry's path below the synced folder: names joined
   *   by `/`, no leading `/`, never empty.
   * @param isFolder Whether the entry is a folder (for the rules with a
   *   trailing `/`).
   * @returns `true` when the first rule that matches is an include, or no
   *   rule matches.
   *
   * @example
   * ```ts
   * import { PathFilter } from "./filter.ts";
   * import { ok } from "node:assert/strict";
   *
   * const filter = PathFilter.from([{ kind: "exclude", pattern: "cache/" }]);
   * ok(!filter.includes("a/cache", true));
   * ok(filter.includes("a/cache", false));
   * ok(!filter.includes("a/cache/deep/file.bin", false));
   * ```
   */
  includes(relative: string, isFolder: boolean): boolean {
    if (this.empty) return true;
    for (let cut = relative.indexOf("/"); cut >= 0; cut = relative.indexOf("/", cut + 1)) {
      if (!this.#decide(relative.slice(0, cut), true)) return false;
    }
    return this.#decide(relative, isFolder);
  }

  /** The first matching rule's decision for one path, ancestors aside. */
  #decide(path: string, isFolder: boolean): boolean {
    for (const rule of this.#rules) {
      if (rule.foldersOnly && !isFolder) continue;
      if (rule.re.test(path)) return rule.include;
    }
    return true;
  }
}

/** Compiles one rule to an expression over the whole relative path. */
function compileRule(rule: FilterRule): CompiledRule {
  const fail: Fail = (why) => new UsageError(`Bad ${rule.kind} pattern "${rule.pattern}": ${why}`);
  let body = rule.pattern;
  const foldersOnly = TRAILING_SLASH.test(body);
  if (foldersOnly) body = body.slice(0, -1);
  const anchoredAtTop = body.startsWith("/");
  if (anchoredAtTop) body = body.slice(1);
  if (body === "") throw fail("it names nothing");
  const anchored = anchoredAtTop || body.includes("/");
  const source = translate([...body], fail);
  return {
    include: rule.kind === "include",
    foldersOnly,
    re: new RegExp(`${anchored ? "^" : "(?:^|/)"}${source}$`, "su"),
  };
}

/** The expression for a pattern's characters (code points). */
function translate(chars: readonly string[], fail: Fail): string {
  let re = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "\\") {
      const next = chars[++i];
      if (next === undefined) throw fail('it ends with a lone "\\"');
      re += literal(next);
    } else if (c === "*") {
      let last = i;
      while (chars[last + 1] === "*") last++;
      if (last === i) re += "[^/]*";
      else if ((i === 0 || chars[i - 1] === "/") && chars[last + 1] === "/") {
        // "**/" as a whole part: any folders, or none.
        re += "(?:.*/)?";
        i = last + 1;
        continue;
      } else re += ".*";
      i = last;
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const set = characterClass(chars, i, fail);
      re += set.source;
      i = set.end;
    } else re += literal(c);
  }
  return re;
}

/** A character that stands for itself. */
function literal(c: string): string {
  return SYNTAX.test(c) ? `\\${c}` : c;
}

/** A character inside a class, as a code point escape: nothing to get wrong. */
function member(c: string): string {
  return `\\u{${c.codePointAt(0)!.toString(16)}}`;
}

/**
 * The class that opens at `chars[start]` (a `[`): its expression and the
 * index of its closing `]`. A `]` first in the set is itself; `\` escapes.
 */
function characterClass(
  chars: readonly string[],
  start: number,
  fail: Fail,
): { source: string; end: number } {
  let i = start + 1;
  const negate = chars[i] === "!" || chars[i] === "^";
  if (negate) i++;
  const unclosed = () => fail('no "]" closes its "["');
  let set = "";
  for (let first = true;; i++, first = false) {
    let low = chars[i];
    if (low === undefined) throw unclosed();
    if (low === "]" && !first) break;
    if (low === "\\") low = chars[++i] ?? "";
    if (low === "") throw unclosed();
    if (chars[i + 1] !== "-" || chars[i + 2] === undefined || chars[i + 2] === "]") {
      set += member(low);
      continue;
    }
    i += 2;
    let high = chars[i]!;
    if (high === "\\") high = chars[++i] ?? "";
    if (high === "") throw unclosed();
    if (high.codePointAt(0)! < low.codePointAt(0)!) {
      throw fail(`the range "${low}-${high}" runs backwards`);
    }
    set += `${member(low)}-${member(high)}`;
  }
  return { source: negate ? `[^/${set}]` : `(?!/)[${set}]`, end: i };
}

/**
 * Reads the rules of `--exclude-from FILE`: one pattern a line; blank
 * lines and lines that start with `#` or `;` are skipped; a line that
 * starts with `+ ` is an include and one with `- ` an exclude (rsync's
 * merge-file syntax); any other line is an exclude. A pattern keeps its
 * spaces; a line's `\r` before its `\n` is dropped.
 *
 * @param path The file, as the user gave it.
 * @returns The rules, in the file's order.
 * @throws {LocalIoError} When the file cannot be read.
 *
 * @example
 * ```ts
 * import { readExcludeFrom } from "./filter.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile();
 * await Deno.writeTextFile(file, "# build output\n*.o\n\n+ keep.tmp\n- *.tmp\n");
 * deepEqual(await readExcludeFrom(file), [
 *   { kind: "exclude", pattern: "*.o" },
 *   { kind: "include", pattern: "keep.tmp" },
 *   { kind: "exclude", pattern: "*.tmp" },
 * ]);
 * await Deno.remove(file);
 * ```
 */
export async function readExcludeFrom(path: string): Promise<FilterRule[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw localIoError("read", path, e);
  }
  const rules: FilterRule[] = [];
  for (const line of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("+ ")) rules.push({ kind: "include", pattern: line.slice(2) });
    else if (line.startsWith("- ")) rules.push({ kind: "exclude", pattern: line.slice(2) });
    else rules.push({ kind: "exclude", pattern: line });
  }
  return rules;
}
