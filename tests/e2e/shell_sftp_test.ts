// End-to-end: the commands of `bftp shell` that sftp users reach for beyond get and put: chmod
// (SETSTAT, with wildcards), lmkdir, and the refusals of each.
import { deepEqual, equal, ok } from "node:assert/strict";
import { runBftp, startServe, tempDir } from "./helpers.ts";

Deno.test("e2e: bftp shell chmod gives remote files octal permission bits, wildcards included", async () => {
  await using root = await tempDir();
  for (const name of ["a.sh", "b.sh", "c.txt"]) await Deno.writeTextFile(root.join(name), name);
  await Deno.mkdir(root.join("d"));
  await using server = await startServe(root.path);
  const mode = async (name: string) => (await Deno.stat(root.join(name))).mode! & 0o777;
  const result = await runBftp(["shell", server.url], {
    stdin:
      "chmod 755 *.sh\nchmod 0600 c.txt d\nchmod u+x c.txt\nchmod 4755 c.txt\nchmod 644 nope\n",
  });
  deepEqual(await Promise.all(["a.sh", "b.sh", "c.txt", "d"].map(mode)), [
    0o755,
    0o755,
    0o600,
    0o600,
  ]);
  // Symbolic and set-ID modes are refused before anything is sent (exit 2); a missing file is
  // the server's NOT_FOUND (10), the last failure.
  const errors = result.stderr.trimEnd().split("\n");
  equal(errors.length, 3, result.stderr);
  ok(/Invalid mode "u\+x": give octal permission bits/.test(errors[0]!), errors[0]);
  ok(/Invalid mode "4755": only the permission bits/.test(errors[1]!), errors[1]);
  ok(/not found|No such/i.test(errors[2]!), errors[2]);
  equal(result.code, 10, result.stderr);
  // A read-only server refuses it.
  await using readOnly = await startServe(root.path, ["--read-only"]);
  const denied = await runBftp(["shell", readOnly.url], { stdin: "chmod 700 a.sh\n" });
  equal(denied.code, 15, denied.stderr);
  equal(await mode("a.sh"), 0o755);
});

Deno.test("e2e: bftp shell lmkdir makes local folders, -p with parents", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  const result = await runBftp(["shell", server.url], {
    stdin: "lmkdir one\nlmkdir -p two/three\nlmkdir one\nlmkdir -p one\nlmkdir\n",
    cwd: local.path,
  });
  ok((await Deno.stat(local.join("one"))).isDirectory);
  ok((await Deno.stat(local.join("two", "three"))).isDirectory);
  // An existing folder without -p is a local error (3); no PATH is a usage error (2), the last.
  const errors = result.stderr.trimEnd().split("\n");
  equal(errors.length, 2, result.stderr);
  ok(/Cannot create folder "one"/.test(errors[0]!), errors[0]);
  ok(/Missing PATH/.test(errors[1]!), errors[1]);
  equal(result.code, 2, result.stderr);
});

Deno.test("e2e: bftp shell ls --json and stat --json print what bftp ls --json and stat --json print", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "hi");
  await Deno.writeTextFile(root.join("wide\u200bzero"), "x");
  await using server = await startServe(root.path);
  const shell = await runBftp(["shell", server.url], {
    stdin: "ls --json /\nstat --json /a.txt\n",
  });
  equal(shell.code, 0, shell.stderr);
  const [list, stat] = shell.stdout.trimEnd().split("\n");
  equal(list, (await runBftp(["ls", "--json", `${server.url}/`])).stdout.trimEnd());
  equal(stat, (await runBftp(["stat", "--json", `${server.url}/a.txt`])).stdout.trimEnd());
  const entry = JSON.parse(stat!);
  deepEqual([entry.size, entry.modeOctal, typeof entry.mtimeIso], [2, "0644", "string"]);
  // A name's invisible character stays escaped on the terminal, and exact in the JSON.
  ok(list!.includes("wide\\u200bzero"), list);
  ok(JSON.parse(list!).some((e: { name: string }) => e.name === "wide\u200bzero"), list);
});

Deno.test("e2e: bftp shell takes sftp's names and flags: mget, mput, chdir, lchdir, ls -la, ls -1, lls -la", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("d"));
  await Deno.writeTextFile(root.join("d", "a.txt"), "a");
  await Deno.writeTextFile(local.join("up.txt"), "up");
  await using server = await startServe(root.path);
  const run = await runBftp(["shell", server.url], {
    stdin: [
      "chdir d",
      "ls -la",
      "ls -1",
      `lchdir ${local.path}`,
      "lls -la",
      "mget *.txt",
      "mput up.txt",
      "",
    ].join("\n"),
  });
  equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  ok(/^-rw-r--r-- +1 +.* a\.txt$/.test(lines[0]!), lines[0]);
  equal(lines[1], "a.txt");
  ok(lines.slice(2).some((l) => / up\.txt$/.test(l)), run.stdout);
  equal(await Deno.readTextFile(local.join("a.txt")), "a");
  equal(await Deno.readTextFile(root.join("d", "up.txt")), "up");
});
