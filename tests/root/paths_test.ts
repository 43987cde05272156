import { equal, throws } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import { baseName, quotePath, resolveVirtual } from "../../lib/root/paths.ts";

const badPath = (e: unknown) => e instanceof RemoteError && e.code === "BAD_PATH";

Deno.test("root: resolveVirtual() normalizes against the session folder", () => {
  const cases: [string, string, string][] = [
    ["/", "a", "/a"],
    ["/", "/a//b/", "/a/b"],
    ["/docs", "x.txt", "/docs/x.txt"],
    ["/docs", "/x.txt", "/x.txt"],
    ["/docs", "..", "/"],
    ["/docs/sub", "../../a", "/a"],
    ["/docs", "./././.", "/docs"],
    ["/", "....//x", "/..../x"],
    ["/", "%2e%2e/x", "/%2e%2e/x"],
    ["/", "/etc/passwd", "/etc/passwd"],
    ["/", "", "/"],
    ["/", "ab:c/x", "/ab:c/x"],
  ];
  for (const [cwd, path, expected] of cases) equal(resolveVirtual(cwd, path), expected, path);
});

Deno.test("root: resolveVirtual() refuses climbing, control characters, backslashes, drives, long and reserved names", () => {
  for (
    const [cwd, path] of [
      ["/", ".."],
      ["/a", "../.."],
      ["/a", "/../a"],
      ["/", "a\0"],
      ["/", "\x1f"],
      ["/", "a\x7fb"],
      ["/", "a\\b"],
      ["/", "C:"],
      ["/", "d/z:x"],
      ["/", "n".repeat(256)],
      ["/", "p/".repeat(2049)],
      ["/", ".bftp-tmp-"],
      ["/", "a/.bftp-tmp-x/b"],
    ]
  ) {
    throws(() => resolveVirtual(cwd!, path!), badPath, JSON.stringify(path));
  }
  // 255 bytes is the longest name, counted in UTF-8.
  equal(resolveVirtual("/", "n".repeat(255)).length, 256);
  throws(() => resolveVirtual("/", "€".repeat(86)), badPath);
  equal(
    resolveVirtual("/", "€".repeat(85)),
    `/${"€".repeat(85)}`,
    "three bytes a unit, 255 in all",
  );
  // Four bytes in two UTF-16 units: 64 of them are 256 bytes, 63 and three letters 255.
  throws(() => resolveVirtual("/", "😀".repeat(64)), badPath);
  equal(resolveVirtual("/", `${"😀".repeat(63)}abc`), `/${"😀".repeat(63)}abc`);
  // The whole path, counted the same way: 1,025 times "€/" is 4,100 bytes, 1,000 times 4,000.
  throws(() => resolveVirtual("/", "€/".repeat(1025)), badPath);
  equal(resolveVirtual("/", "€/".repeat(1000)).length, 2000);
});

Deno.test("root: quotePath() makes control characters visible and bounds the length", () => {
  equal(quotePath('a"b\\c\x1b'), '"a\\"b\\\\c\\x1b"');
  equal(quotePath("x".repeat(300)), `"${"x".repeat(200)}..."`);
  equal(baseName("/"), "");
  equal(baseName("/a/b"), "b");
});

Deno.test("root: resolveVirtual() refuses a lone surrogate, which UTF-8 would turn into U+FFFD", () => {
  for (const path of ["\ud800", "a\udfffb", "d/\udc00\ud800", "x\ud83d"]) {
    throws(
      () => resolveVirtual("/", path),
      (e) =>
        e instanceof RemoteError && e.code === "BAD_PATH" &&
        /lone UTF-16 surrogate/.test(e.message),
      JSON.stringify(path),
    );
  }
  // A whole pair is one character, and U+FFFD itself is a legal name.
  equal(resolveVirtual("/", "\ud83d\ude00"), "/\ud83d\ude00");
  equal(resolveVirtual("/", "\ufffd"), "/\ufffd");
});
