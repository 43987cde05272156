import { deepEqual, equal } from "node:assert/strict";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { readFlags } from "../../lib/cli/flag_tokens.ts";
import { UsageError } from "../../lib/errors.ts";

const FLAGS = {
  quiet: { type: "boolean", short: "q" },
  recursive: { type: "boolean", short: "r" },
  output: { type: "string", short: "o" },
  header: { type: "string", short: "H", multiple: true },
  verbose: { type: "boolean", short: "v", multiple: true },
  timeout: { type: "string" },
} as const;

/**
 * node:util's message for a refused command line in bftp's words, as args.ts
 * gave it when it parsed with node:util; an ambiguous value as the start of
 * bftp's line (`Invalid value "-1" for --timeout`), which names the value.
 */
function nodeWords(message: string): string {
  const ambiguous = /^Option '(--?[\w-]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous) return `Invalid value "-… for ${ambiguous[1]}`;
  return message.replace(/\. To specify a positional.*$/s, "").replace(/\.$/, "")
    .replace(/'([^']*)'/g, '"$1"');
}

/** bftp's message, an ambiguous value's cut as {@linkcode nodeWords} cuts node's. */
function ourWords(message: string): string {
  const ambiguous = /^Invalid value "-.*" for (--?[\w-]+)(:| \(write)/.exec(message);
  return ambiguous ? `Invalid value "-… for ${ambiguous[1]}` : message;
}

const ARGS = fc.array(
  fc.constantFrom(
    "-q",
    "-r",
    "-qr",
    "-o",
    "-ofile",
    "-qo",
    "-qofile",
    "-o=x",
    "-H",
    "-Hv",
    "-vv",
    "-qv",
    "--quiet",
    "--quiet=1",
    "--output",
    "--output=",
    "--output=-x",
    "--header",
    "--timeout",
    "--nope",
    "--nope=1",
    "-z",
    "-qz",
    "-1",
    "-x: y",
    "--",
    "-",
    "a",
    "b c",
    "",
  ),
  { maxLength: 7 },
);

Deno.test("cli/flag_tokens: any command line reads as node:util's parseArgs reads it", () => {
  fc.assert(
    fc.property(ARGS, (args) => {
      let expected: ReturnType<typeof parseArgs> | { error: string };
      try {
        expected = parseArgs({
          args,
          options: FLAGS,
          allowPositionals: true,
          strict: true,
          tokens: true,
        });
      } catch (e) {
        expected = { error: nodeWords((e as Error).message) };
      }
      let got;
      try {
        got = readFlags(args, FLAGS);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        deepEqual({ error: ourWords(e.message) }, expected, JSON.stringify(args));
        return;
      }
      if ("error" in expected) {
        throw new Error(`${JSON.stringify(args)}: node refused: ${expected.error}`);
      }
      deepEqual({ ...got.values }, { ...expected.values }, JSON.stringify(args));
      deepEqual(got.positionals, expected.positionals, JSON.stringify(args));
      const order = expected.tokens!.flatMap((t) =>
        t.kind === "option" ? [{ name: t.name, value: t.value }] : []
      );
      deepEqual(got.order, order, JSON.stringify(args));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("cli/flag_tokens: a string flag takes the rest of its group, and -- ends the flags", () => {
  const read = readFlags(["-qofile", "--", "--quiet"], FLAGS);
  deepEqual(read.values, { quiet: true, output: "file" });
  deepEqual(read.positionals, ["--quiet"]);
  equal(read.order.length, 2);
});
