import { equal } from "node:assert/strict";
import { globToRegExp } from "../../lib/client/glob.ts";

Deno.test("client: globToRegExp() matches as a shell does, and takes other characters literally", () => {
  const cases: [string, string, boolean][] = [
    ["*.log", "a.log", true],
    ["*.log", ".a.log", false],
    ["*.log", "a.log.gz", false],
    ["?.txt", "a.txt", true],
    ["?.txt", "ab.txt", false],
    ["?x", ".x", false],
    [".*", ".bashrc", true],
    ["file[0-9].dat", "file7.dat", true],
    ["file[0-9].dat", "filex.dat", false],
    ["[!a]*", "b", true],
    ["[^a]*", "a", false],
    ["a[b", "a[b", true],
    ["c++(1).txt", "c++(1).txt", true],
    ["c++(1).txt", "cc+(1).txt", false],
    ["$x^y|z", "$x^y|z", true],
    ["[]]x", "]x", true],
    ["*", "line\nbreak", true],
  ];
  for (const [pattern, name, expected] of cases) {
    equal(globToRegExp(pattern).test(name), expected, `${pattern} vs ${JSON.stringify(name)}`);
  }
});
