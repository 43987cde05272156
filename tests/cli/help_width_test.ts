import { deepEqual, ok } from "node:assert/strict";
import { COMMANDS, findCommand, mainHelp } from "../../lib/cli/mod.ts";
import { displayWidth } from "../../lib/cli/text_width.ts";

/** A standard terminal's width: a wider help line wraps there mid-word. */
const COLUMNS = 80;

/**
 * The only lines allowed to be wider: examples that are one shell command
 * with a long URL (the ones docs/HTTP.md shows too), which cannot be cut.
 */
const WIDE_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  "http-get": [
    "  bftp http-get http://www.google.co.il/search?q=python+socket+programming -o index.html",
    "  bftp http-get -L http://www.cs.uic.edu/~jbell/CourseNotes/OperatingSystems/index.html",
  ],
};

/** The lines of `help` wider than {@linkcode COLUMNS}, but those in `allowed`, named. */
function tooWide(what: string, help: string, allowed: readonly string[] = []): string[] {
  return help.split("\n")
    .filter((line) => displayWidth(line) > COLUMNS && !allowed.includes(line))
    .map((line) => `${what} (${displayWidth(line)}): ${line}`);
}

Deno.test("cli: bftp --help and every command's --help fit in 80 columns", async () => {
  const wide = tooWide("bftp --help", mainHelp());
  for (const { name } of COMMANDS) {
    const command = await findCommand(name);
    ok(command, name);
    const allowed = WIDE_EXAMPLES[name] ?? [];
    wide.push(...tooWide(`bftp ${name} --help`, command.help, allowed));
    // An allowed line that left the help should leave this list too.
    for (const line of allowed) ok(command.help.split("\n").includes(line), line);
  }
  deepEqual(wide, []);
});
