// End-to-end: client flags users type (get -o, -v) and put -r's nesting.

import { deepEqual, equal, ok } from "node:assert/strict";
import { assertFailure, randomBytes, runBftp, startServe, tempDir } from "./helpers.ts";

Deno.test("e2e: get -o FILE is the same as giving FILE (curl's habit)", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const content = randomBytes(5000);
  Deno.writeFileSync(root.join("a.bin"), content);
  await using server = await startServe(root.path);
  for (const args of [["-o", local.join("o.bin")], [`--output=${local.join("p.bin")}`]]) {
    const result = await runBftp(["get", "-q", ...args, `${server.url}/a.bin`]);
    equal(result.code, 0, result.stderr);
  }
  deepEqual(Deno.readFileSync(local.join("o.bin")), content);
  deepEqual(Deno.readFileSync(local.join("p.bin")), content);
  const out = await runBftp(["get", `${server.url}/a.bin`, "-o", "-"]);
  equal(out.code, 0, out.stderr);
  equal(out.stdout.length > 0, true);
  assertFailure(
    await runBftp(["get", "-o", local.join("x"), `${server.url}/a.bin`, local.join("y")]),
    2,
    /Give the destination once/,
  );
  ok(!Deno.readDirSync(local.path).some((e) => e.name === "x" || e.name === "y"));
});
