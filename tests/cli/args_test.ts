import { deepEqual, throws } from "node:assert/strict";
import { parseFlags } from "../../lib/cli/args.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("cli: parseFlags() words a negative number given to a flag in one short line", () => {
  throws(
    () => parseFlags(["--timeout", "-1", "x"], { timeout: { type: "string" } }),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === 'Invalid value "-1" for --timeout: it cannot be negative',
  );
  throws(
    () => parseFlags(["-H", "-x: y"], { header: { type: "string", short: "H" } }),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === 'Invalid value "-x: y" for -H (write --header=-x: y)',
  );
  throws(
    () => parseFlags(["--nope"], {}),
    (e: unknown) => e instanceof UsageError && /^Unknown option "--nope"$/.test(e.message),
  );
});

Deno.test("cli: parseFlags() never drops a letter of a short-flag group", () => {
  const quiet = { quiet: { type: "boolean", short: "q" } } as const;
  throws(
    () => parseFlags(["-qh", "x"], quiet),
    (e: unknown) => e instanceof UsageError && e.message.includes('"-h" in "-qh"'),
  );
  throws(
    () => parseFlags(["-qz", "x"], quiet),
    (e: unknown) => e instanceof UsageError && e.message.includes('"-z"'),
  );
  // A command that gives -h a meaning of its own gets it in a group.
  const ls = {
    long: { type: "boolean", short: "l" },
    human: { type: "boolean", short: "h" },
  } as const;
  const { values } = parseFlags(["-lh", "x"], ls);
  deepEqual([values.long, values.human, values.help], [true, true, undefined]);
});

Deno.test("cli: parseFlags() types the values from the flags' declaration", () => {
  const { values } = parseFlags(["-r", "--cacert", "ca.pem", "-H", "A: 1", "-H", "B: 2"], {
    recursive: { type: "boolean", short: "r" },
    cacert: { type: "string" },
    header: { type: "string", short: "H", multiple: true },
    file: { type: "string", multiple: true },
  });
  const recursive: boolean | undefined = values.recursive;
  const cacert: string | undefined = values.cacert;
  const headers: string[] = values.header;
  // A multiple flag not given is an empty array, not undefined.
  const files: string[] = values.file;
  deepEqual([recursive, cacert, headers, files], [true, "ca.pem", ["A: 1", "B: 2"], []]);
  // @ts-expect-error: a flag that was not declared is a compile error, not undefined.
  deepEqual(values.recursve, undefined);
  // @ts-expect-error: a string flag is not a boolean.
  const wrong: boolean | undefined = values.cacert;
  deepEqual(wrong, "ca.pem");
});
