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

Deno.test("e2e: put -r DIR into an existing remote folder nests, as get -r does", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  Deno.mkdirSync(local.join("site", "css"), { recursive: true });
  Deno.writeTextFileSync(local.join("site", "index.html"), "<p>hi</p>");
  Deno.writeTextFileSync(local.join("site", "css", "a.css"), "p{}");
  Deno.mkdirSync(root.join("www"));
  await using server = await startServe(root.path);
  const into = await runBftp(["put", "-q", "-r", local.join("site"), `${server.url}/www`]);
  equal(into.code, 0, into.stderr);
  equal(Deno.readTextFileSync(root.join("www", "site", "index.html")), "<p>hi</p>");
  equal(Deno.readTextFileSync(root.join("www", "site", "css", "a.css")), "p{}");
  // A trailing slash on SRC changes nothing (as get -r into a local folder).
  const slash = await runBftp(["put", "-q", "-r", local.join("site") + "/", `${server.url}/www/`]);
  equal(slash.code, 0, slash.stderr);
  deepEqual(Deno.readDirSync(root.join("www")).map((e) => e.name).toArray(), ["site"]);
  // A path that does not exist yet becomes the tree itself.
  const fresh = await runBftp(["put", "-q", "-r", local.join("site"), `${server.url}/new`]);
  equal(fresh.code, 0, fresh.stderr);
  equal(Deno.readTextFileSync(root.join("new", "index.html")), "<p>hi</p>");
  // get -r nests the same way into an existing local folder.
  Deno.mkdirSync(local.join("back"));
  const back = await runBftp(["get", "-q", "-r", `${server.url}/new`, local.join("back")]);
  equal(back.code, 0, back.stderr);
  equal(Deno.readTextFileSync(local.join("back", "new", "index.html")), "<p>hi</p>");
});

Deno.test("e2e: -v shows each message sent and received on stderr, escaped, token hidden", async () => {
  const token = "e2e-verbose-token-5b1f";
  await using root = await tempDir();
  Deno.writeTextFileSync(root.join("a\x1b[2Jb.txt"), "hi");
  await using server = await startServe(root.path, [], { env: { BFTP_TOKEN: token } });
  const result = await runBftp(["ls", "-v", `${server.url}/`], { env: { BFTP_TOKEN: token } });
  equal(result.code, 0, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  equal(lines[0], '> "BFTP/2 xxh3-128,sha256"');
  ok(/^< \{"ok":true,/.test(lines[1]!), lines[1]);
  equal(lines[2], '> {"op":"AUTH","token":"***"}');
  // Version 2: each request carries its id, and its reply echoes it.
  ok(lines.some((l) => /^> \{"op":"LIST","path":"\/","id":\d+\}$/.test(l)), result.stderr);
  ok(lines.some((l) => l.startsWith("< ") && l.includes("a\\u001b[2Jb.txt")), result.stderr);
  ok(lines.every((l) => /^[<>] /.test(l)), result.stderr);
  ok(!result.stderr.includes(token), "the token is shown");
  ok(!result.stderr.includes("\x1b"), "a raw escape reached stderr");
  // Without -v, stderr stays quiet.
  const quiet = await runBftp(["ls", `${server.url}/`], { env: { BFTP_TOKEN: token } });
  equal(quiet.stderr, "");
});

Deno.test("e2e: --checksum offers one body checksum; a server held to sha256 refuses an xxh3-128-only client in one line", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const content = randomBytes(300_000);
  Deno.writeFileSync(root.join("a.bin"), content);
  await using server = await startServe(root.path);
  for (const checksum of ["sha256", "xxh3-128"]) {
    const dest = local.join(`${checksum}.bin`);
    const got = await runBftp([
      "get",
      "-q",
      "-v",
      "--checksum",
      checksum,
      `${server.url}/a.bin`,
      dest,
    ]);
    equal(got.code, 0, got.stderr);
    equal(got.stderr.split("\n")[0], `> "BFTP/2 ${checksum}"`);
    ok(got.stderr.includes(`"checksum":"${checksum}"`), got.stderr);
    deepEqual(Deno.readFileSync(dest), content);
    const put = await runBftp(["put", "-q", "--checksum", checksum, dest, `${server.url}/`]);
    equal(put.code, 0, put.stderr);
    deepEqual(Deno.readFileSync(root.join(`${checksum}.bin`)), content);
  }
  const bad = await runBftp(["get", "--checksum", "md5", `${server.url}/a.bin`, local.join("x")]);
  assertFailure(bad, 2, /Invalid value "md5" for --checksum: one of "xxh3-128", "sha256"/);
  await using strict = await startServe(root.path, ["--checksum", "sha256", "--workers", "2"]);
  const refused = await runBftp([
    "get",
    "--checksum",
    "xxh3-128",
    `${strict.url}/a.bin`,
    local.join("y.bin"),
  ]);
  ok(refused.code !== 0, refused.stderr);
  equal(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
  ok(refused.stderr.includes("No checksum in common"), refused.stderr);
  // The default offer settles sha256 with it (and with every worker of the pool).
  const fine = await runBftp(["get", "-q", `${strict.url}/a.bin`, local.join("z.bin")]);
  equal(fine.code, 0, fine.stderr);
  deepEqual(Deno.readFileSync(local.join("z.bin")), content);
  const serveBad = await runBftp(["serve", root.path, "--checksum", "xxh3-128"]);
  assertFailure(serveBad, 2, /Invalid value "xxh3-128" for --checksum: one of "sha256"/);
});
