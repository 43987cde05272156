import { equal } from "node:assert/strict";
import { fsError } from "../../lib/root/fs_errors.ts";

/** An error as Deno gives one it has no class for: a message and the errno's name. */
const coded = (code: string) => Object.assign(new Error(`System error (${code})`), { code });

Deno.test("root/fs_errors: a read-only disk, another file system, a busy entry and no descriptor left are answers, not internal errors", () => {
  // Found by an audit: serving a read-only mount answered each change "Internal server error".
  const cases: [string, string, RegExp][] = [
    ["EROFS", "DENIED", /^"\/a": the server's disk is read-only$/],
    ["EXDEV", "DENIED", /^"\/a": cannot be moved to another file system on the server$/],
    ["EBUSY", "DENIED", /^"\/a" is in use on the server$/],
    ["EMFILE", "BUSY", /no file descriptor left: try again later$/],
    ["ENFILE", "BUSY", /no file descriptor left/],
    ["ENOSPC", "NO_SPACE", /No space left on the server for "\/a"/],
  ];
  for (const [code, answer, message] of cases) {
    const e = fsError(coded(code), "/a");
    equal(e.code, answer, code);
    equal(message.test(e.message), true, `${code}: ${e.message}`);
  }
});
