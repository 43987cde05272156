import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { LocalIoError, UsageError } from "../../lib/errors.ts";
import { type FilterRule, PathFilter, readExcludeFrom } from "../../lib/sync/filter.ts";

const ex = (pattern: string): FilterRule => ({ kind: "exclude", pattern });
const inc = (pattern: string): FilterRule => ({ kind: "include", pattern });

/** [pattern of one exclude rule, path, is a folder, still included]. */
type Case = [string, string, boolean, boolean];

function check(cases: readonly Case[]): void {
  for (const [pattern, path, isFolder, expected] of cases) {
    const filter = PathFilter.from([ex(pattern)]);
    equal(
      filter.includes(path, isFolder),
      expected,
      `exclude ${JSON.stringify(pattern)} vs ${JSON.stringify(path)}${isFolder ? " (folder)" : ""}`,
    );
  }
}

Deno.test("sync filter: no rules, or only includes, include everything", () => {
  for (const rules of [[], [inc("*.c")], [inc("a/"), inc("/b")]]) {
    const filter = PathFilter.from(rules);
    ok(filter.empty);
    ok(
      filter.includes("x", false) && filter.includes("a/b/c.o", false) &&
        filter.includes("d", true),
    );
  }
  ok(!PathFilter.from([inc("*.c"), ex("*")]).empty);
});

Deno.test("sync filter: a pattern without a / matches the last name at any depth", () => {
  check([
    ["*.log", "x.log", false, false],
    ["*.log", "a/b/x.log", false, false],
    ["*.log", "a/x.log/y", false, false], // beneath an excluded folder
    ["*.log", "x.logs", false, true],
    ["*.log", "a.log.d/y.txt", false, true],
    ["core", "core", false, false],
    ["core", "src/core", true, false],
    ["core", "src/score", false, true],
    ["core", "core.c", false, true],
    ["*", ".hidden", false, false], // unlike a shell, * matches a leading dot
    [".*", "a/.git", true, false],
  ]);
});

Deno.test("sync filter: a pattern with a / at its start or inside is anchored at the top", () => {
  check([
    ["/build", "build", true, false],
    ["/build", "build/x.o", false, false],
    ["/build", "src/build", true, true],
    ["/build", "builds", true, true],
    ["src/*.o", "src/a.o", false, false],
    ["src/*.o", "lib/src/a.o", false, true],
    ["src/*.o", "src/sub/a.o", false, true],
    ["a/b", "a/b", false, false],
    ["a/b", "x/a/b", false, true],
    ["/a/b", "a/b", false, false],
    ["/*.txt", "top.txt", false, false],
    ["/*.txt", "sub/deep.txt", false, true],
  ]);
});

Deno.test("sync filter: * and ? never cross a /, ** does", () => {
  check([
    ["a*c", "abbc", false, false],
    ["a*c", "ac", false, false],
    ["/a*c", "ab/c", false, true],
    ["a?c", "abc", false, false],
    ["a?c", "ac", false, true],
    ["a?c", "abbc", false, true],
    ["/a?c", "a/c", false, true],
    ["?", "é", false, false], // one character, not one byte or code unit
    ["?", "😀", false, false],
    ["/a/**", "a/b", false, false],
    ["/a/**", "a/b/c/d", false, false],
    ["/a/**", "a", true, true],
    ["/a**z", "a/b/z", false, false],
    ["/src/**/*.o", "src/x/y/a.o", false, false],
    ["**.bak", "a/b/c.bak", false, false],
    ["***", "anything/at/all", false, false],
  ]);
});

Deno.test("sync filter: ** as a whole part also stands for no folder", () => {
  check([
    ["**/cache", "cache", true, false],
    ["**/cache", "a/b/cache", true, false],
    ["**/cache", "a/bcache", true, true],
    ["/a/**/b", "a/b", false, false],
    ["/a/**/b", "a/x/y/b", false, false],
    ["/a/**/b", "ab", false, true],
    ["/a/**/b", "a/xb", false, true],
    ["/a**/b", "a/b", false, false],
    ["/a**/b", "ax/y/b", false, false],
  ]);
});

Deno.test("sync filter: character classes", () => {
  check([
    ["[abc].txt", "b.txt", false, false],
    ["[abc].txt", "d.txt", false, true],
    ["file[0-9]", "file7", false, false],
    ["file[0-9]", "filex", false, true],
    ["file[0-9a-f]", "filee", false, false],
    ["[!abc]", "d", false, false],
    ["[!abc]", "a", false, true],
    ["[^abc]", "d", false, false],
    ["[^abc]", "b", false, true],
    ["[]]x", "]x", false, false],
    ["[!]]x", "]x", false, true],
    ["[!]]x", "ax", false, false],
    ["[a-]", "-", false, false],
    ["[-a]", "-", false, false],
    ["[-a]", "b", false, true],
    ["x[\\]]", "x]", false, false],
    ["x[\\-z]", "x-", false, false],
    ["x[\\-z]", "xy", false, true],
    ["[.]x", ".x", false, false],
    ["[.]x", "ax", false, true],
    ["[\\^]", "^", false, false],
    ["[^^]", "^", false, true],
    ["/a[!x]b", "a/b", false, true], // a class never matches a /
    ["/a[/]b", "a/b", false, true],
    ["[é-ê]", "ê", false, false],
  ]);
});

Deno.test("sync filter: regular expression syntax in a pattern is itself", () => {
  check([
    ["a.c", "a.c", false, false],
    ["a.c", "abc", false, true],
    ["c++(1)", "c++(1)", false, false],
    ["c++(1)", "cc+(1)", false, true],
    ["$x^y|z{2}", "$x^y|z{2}", false, false],
    ["$x^y|z{2}", "z", false, true],
    ["a+", "aa", false, true],
    ["(a)", "a", false, true],
    ["\\d", "d", false, false],
    ["\\d", "1", false, true],
  ]);
});

Deno.test("sync filter: \\ takes the next character as itself", () => {
  check([
    ["\\*", "*", false, false],
    ["\\*", "a", false, true],
    ["a\\?", "a?", false, false],
    ["a\\?", "ab", false, true],
    ["\\[x]", "[x]", false, false],
    ["\\[x]", "x", false, true],
    ["a\\\\b", "a\\b", false, false],
    ["\\#x", "#x", false, false],
    ["😀\\😀", "😀😀", false, false],
  ]);
});

Deno.test("sync filter: a trailing / matches folders only", () => {
  check([
    ["cache/", "cache", true, false],
    ["cache/", "cache", false, true],
    ["cache/", "a/cache", true, false],
    ["cache/", "a/cache/x", false, false],
    ["/cache/", "a/cache", true, true],
    ["*.d/", "x.d", true, false],
    ["*.d/", "x.d", false, true],
    ["/a/b/", "a/b", true, false],
    ["/a/b/", "a/b", false, true],
  ]);
});

Deno.test("sync filter: the first rule that matches decides, in order", () => {
  const keep = PathFilter.from([inc("keep.log"), ex("*.log")]);
  ok(keep.includes("a/keep.log", false));
  ok(!keep.includes("a/other.log", false));
  ok(keep.includes("a/other.txt", false));

  const late = PathFilter.from([ex("*.log"), inc("keep.log")]);
  ok(!late.includes("a/keep.log", false), "an include after the exclude comes too late");

  // rsync's idiom: every folder, the .c files, nothing else.
  const only = PathFilter.from([inc("*/"), inc("*.c"), ex("*")]);
  ok(only.includes("src", true));
  ok(only.includes("src/lib/a.c", false));
  ok(!only.includes("src/lib/a.h", false));
  ok(!only.includes("README", false));
});

Deno.test("sync filter: an excluded folder excludes everything beneath it, asked directly", () => {
  const filter = PathFilter.from([inc("*.keep"), ex("/vendor/"), ex("tmp")]);
  ok(!filter.includes("vendor", true));
  ok(!filter.includes("vendor/a/b/x.keep", false), "an include of the name comes too late");
  ok(filter.includes("vendor", false), "a file named vendor is no folder");
  ok(!filter.includes("a/tmp/b/c", false));
  ok(!filter.includes("a/tmp/b", true));
  ok(filter.includes("a/tmpx/b", false));
  // An ancestor the include matches as a folder lets the search go on.
  const nested = PathFilter.from([inc("/a/"), inc("/a/b/"), ex("/a/*"), ex("/*")]);
  ok(nested.includes("a", true));
  ok(nested.includes("a/b/c/d", false));
  ok(!nested.includes("a/c", false));
  ok(!nested.includes("a/c/d", false));
  ok(!nested.includes("z", false));
});

Deno.test("sync filter: an unreadable pattern is a usage error that quotes it", () => {
  const cases: [FilterRule, string][] = [
    [ex("a[bc"), 'Bad exclude pattern "a[bc": no "]" closes its "["'],
    [inc("["), 'Bad include pattern "[": no "]" closes its "["'],
    [ex("[]"), 'Bad exclude pattern "[]": no "]" closes its "["'],
    [ex("[!]"), 'Bad exclude pattern "[!]": no "]" closes its "["'],
    [ex("[a\\"), 'Bad exclude pattern "[a\\": no "]" closes its "["'],
    [ex("x\\"), 'Bad exclude pattern "x\\": it ends with a lone "\\"'],
    [ex("[z-a]"), 'Bad exclude pattern "[z-a]": the range "z-a" runs backwards'],
    [ex(""), 'Bad exclude pattern "": it names nothing'],
    [ex("/"), 'Bad exclude pattern "/": it names nothing'],
    [ex("//"), 'Bad exclude pattern "//": it names nothing'],
  ];
  for (const [rule, message] of cases) {
    throws(() => PathFilter.from([ex("fine"), rule]), (e: unknown) => {
      ok(e instanceof UsageError, `${rule.pattern}: ${e}`);
      equal(e.message, message);
      equal(e.exitCode, 2);
      return true;
    });
  }
});

Deno.test("sync filter: readExcludeFrom reads rsync's merge-file lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "rules");
    await Deno.writeTextFile(
      file,
      [
        "# comment",
        "; another",
        "",
        "   ",
        "*.o",
        "+ keep.tmp",
        "- *.tmp",
        "+not-an-include",
        "-not-an-exclude",
        "trailing space ",
        " #not a comment",
        "dos\r",
        "last-without-newline",
      ].join("\n"),
    );
    deepEqual(await readExcludeFrom(file), [
      ex("*.o"),
      inc("keep.tmp"),
      ex("*.tmp"),
      ex("+not-an-include"),
      ex("-not-an-exclude"),
      ex("trailing space "),
      ex(" #not a comment"),
      ex("dos"),
      ex("last-without-newline"),
    ]);
    await Deno.writeTextFile(file, "");
    deepEqual(await readExcludeFrom(file), []);

    const filter = PathFilter.from(await readExcludeFrom(file));
    ok(filter.empty);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sync filter: readExcludeFrom of a missing file or a folder is a local I/O error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = join(dir, "missing");
    await rejects(readExcludeFrom(missing), (e: unknown) => {
      ok(e instanceof LocalIoError);
      equal(e.message, `Cannot read "${missing}": not found`);
      equal(e.exitCode, 3);
      return true;
    });
    await rejects(readExcludeFrom(dir), (e: unknown) => {
      ok(e instanceof LocalIoError);
      equal(e.exitCode, 3);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
