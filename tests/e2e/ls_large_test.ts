// End-to-end: `ls -l` on a folder too large for a spread's argument limit.

import { equal, ok } from "node:assert/strict";
import { runBftp, startServe, tempDir } from "./helpers.ts";

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
