import { deepEqual, throws } from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { splitCommandLine } from "../../lib/cli/shell_parse.ts";

Deno.test("cli: splitCommandLine() splits on runs of blanks", () => {
  deepEqual(splitCommandLine("ls"), ["ls"]);
  deepEqual(splitCommandLine("  get \t a.txt   b.txt  "), ["get", "a.txt", "b.txt"]);
  deepEqual(splitCommandLine("pwd\r"), ["pwd"]);
  deepEqual(splitCommandLine(""), []);
  deepEqual(splitCommandLine("   \t "), []);
});

Deno.test("cli: splitCommandLine() keeps blanks inside double and single quotes", () => {
  deepEqual(splitCommandLine('put "my file.txt" "new  dir/"'), ["put", "my file.txt", "new  dir/"]);
  deepEqual(splitCommandLine("cd 'Program Files'"), ["cd", "Program Files"]);
  deepEqual(splitCommandLine(`mv "it's.txt" 'say "hi".txt'`), ["mv", "it's.txt", 'say "hi".txt']);
});

Deno.test("cli: splitCommandLine() joins quoted and bare parts of one word", () => {
  deepEqual(splitCommandLine(`get a" b "c'd e'f`), ["get", "a b cd ef"]);
  deepEqual(splitCommandLine(`x "a"'b'\\ c`), ["x", "ab c"]);
});

Deno.test("cli: splitCommandLine() keeps empty quoted words", () => {
  deepEqual(splitCommandLine(`mv "" ''`), ["mv", "", ""]);
  deepEqual(splitCommandLine(`a "" b`), ["a", "", "b"]);
});

Deno.test("cli: splitCommandLine() handles backslash escapes", () => {
  deepEqual(splitCommandLine("get my\\ file.txt"), ["get", "my file.txt"]);
  deepEqual(splitCommandLine("rm \\'quote\\\"d"), ["rm", `'quote"d`]);
  deepEqual(splitCommandLine("rm back\\\\slash"), ["rm", "back\\slash"]);
  // Inside double quotes only \" and \\ are escapes; other backslashes stay.
  deepEqual(splitCommandLine(`x "a\\"b" "c\\\\d" "e\\nf"`), ["x", 'a"b', "c\\d", "e\\nf"]);
  // Inside single quotes nothing is an escape.
  deepEqual(splitCommandLine(`x 'a\\b'`), ["x", "a\\b"]);
});

Deno.test("cli: splitCommandLine() treats # at the start of a word as a comment", () => {
  deepEqual(splitCommandLine("# a whole comment line"), []);
  deepEqual(splitCommandLine("ls -l  # the long form"), ["ls", "-l"]);
  deepEqual(splitCommandLine("get issue#12.txt"), ["get", "issue#12.txt"]);
  deepEqual(splitCommandLine(`get "#1.txt" \\#2.txt`), ["get", "#1.txt", "#2.txt"]);
});

Deno.test("cli: splitCommandLine() keeps non-ASCII names intact", () => {
  deepEqual(splitCommandLine(`put "résumé 📄.pdf" \\📄`), ["put", "résumé 📄.pdf", "📄"]);
});

Deno.test("cli: splitCommandLine() refuses unclosed quotes and a trailing backslash", () => {
  throws(() => splitCommandLine(`get "a.txt`), UsageError);
  throws(() => splitCommandLine("get 'a.txt"), /Unclosed ' quote/);
  throws(() => splitCommandLine(`get "a\\"`), /Unclosed " quote/);
  throws(() => splitCommandLine("get a\\"), /Lone backslash/);
});
