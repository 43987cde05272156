// End-to-end: `ls` flags (-l, -h, --json) and folders too large for a spread.

import { deepEqual, equal, ok } from "node:assert/strict";
import { assertFailure, runBftp, startServe, tempDir } from "./helpers.ts";

Deno.test("e2e: ls -l lists a folder of 150,000 entries", async () => {
  await using root = await tempDir();
  const count = 150_000;
  const empty = new Uint8Array(0);
  for (let i = 0; i < count; i++) Deno.writeFileSync(root.join(`f${i}`), empty);
  Deno.writeFileSync(root.join("big"), new Uint8Array(12345));
  await using server = await startServe(root.path);
  const result = await runBftp(["ls", "-l", `${server.url}/`]);
  equal(result.code, 0, result.stderr.slice(0, 500));
  const lines = result.stdout.trimEnd().split("\n");
  equal(lines.length, count + 1);
  // Sizes are right-aligned to the widest ("12345"), so an empty file pads to 5.
  ok(lines.some((l) => / {4}0 {2}\S+ \S+ {2}f0$/.test(l)), lines[0]);
});

Deno.test("e2e: ls -lh gives human sizes; no letter of a group is dropped", async () => {
  await using root = await tempDir();
  Deno.writeFileSync(root.join("a.bin"), new Uint8Array(1536));
  await using server = await startServe(root.path);
  for (const flags of [["-lh"], ["-hl"], ["-l", "--human-readable"]]) {
    const result = await runBftp(["ls", ...flags, `${server.url}/`]);
    equal(result.code, 0, result.stderr);
    ok(/^-rw\S+ {2}1\.5 KiB {2}\S+ \S+ {2}a\.bin$/m.test(result.stdout), result.stdout);
  }
  const plain = await runBftp(["ls", "-l", `${server.url}/`]);
  ok(/ {2}1536 {2}/.test(plain.stdout), plain.stdout);
  const help = await runBftp(["ls", "-h"]);
  equal(help.code, 0);
  ok(help.stdout.startsWith("Usage: bftp ls"), help.stdout);
  assertFailure(await runBftp(["ls", "-lz", `${server.url}/`]), 2, /"-z"/);
  // get has no -h of its own: "-qh" is refused, not taken as "-q" alone.
  assertFailure(await runBftp(["get", "-qh", `${server.url}/a.bin`]), 2, /"-h" in "-qh"/);
});

Deno.test("e2e: ls --json and stat --json give times in ISO-8601 and modes in octal too", async () => {
  await using root = await tempDir();
  Deno.writeTextFileSync(root.join("a.txt"), "hi");
  Deno.chmodSync(root.join("a.txt"), 0o640);
  Deno.utimeSync(
    root.join("a.txt"),
    new Date("2024-05-06T07:08:09Z"),
    new Date("2024-05-06T07:08:09Z"),
  );
  await using server = await startServe(root.path);
  const ls = await runBftp(["ls", "--json", `${server.url}/`]);
  equal(ls.code, 0, ls.stderr);
  const stat = await runBftp(["stat", "--json", `${server.url}/a.txt`]);
  equal(stat.code, 0, stat.stderr);
  for (const entry of [JSON.parse(ls.stdout)[0], JSON.parse(stat.stdout)]) {
    equal(entry.mtime, Date.parse("2024-05-06T07:08:09Z"));
    equal(entry.mtimeIso, "2024-05-06T07:08:09.000Z");
    equal(entry.mode, 0o640);
    equal(entry.modeOctal, "0640");
  }
});

Deno.test("e2e: ls -l and stat show set-user-ID, set-group-ID and sticky bits as ls -l does", async () => {
  // Found by an audit: the octal said 06755, the letters beside it -rwxr-xr-x.
  await using root = await tempDir();
  for (const [name, mode] of [["suid", 0o6755], ["nox", 0o4644]] as const) {
    Deno.writeTextFileSync(root.join(name), name);
    Deno.chmodSync(root.join(name), mode);
  }
  for (const [name, mode] of [["tmp", 0o1777], ["shut", 0o1770]] as const) {
    Deno.mkdirSync(root.join(name));
    Deno.chmodSync(root.join(name), mode);
  }
  await using server = await startServe(root.path);
  const ls = await runBftp(["ls", "-l", `${server.url}/`]);
  equal(ls.code, 0, ls.stderr);
  const modes = Object.fromEntries(
    ls.stdout.trimEnd().split("\n").map((line) => [line.split(/\s+/).at(-1), line.split(" ")[0]]),
  );
  deepEqual(modes, {
    "nox": "-rwSr--r--",
    "shut/": "drwxrwx--T",
    "suid": "-rwsr-sr-x",
    "tmp/": "drwxrwxrwt",
  });
  const stat = await runBftp(["stat", `${server.url}/suid`]);
  equal(stat.code, 0, stat.stderr);
  ok(stat.stdout.includes("mode: 06755 (-rwsr-sr-x)"), stat.stdout);
});
