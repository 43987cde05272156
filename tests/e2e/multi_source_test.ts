// End-to-end: several sources in one `bftp get` or `bftp put`, as with cp and scp.

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  assertFailure,
  findTemporaries,
  listNames,
  randomBytes,
  runBftp,
  startServe,
  tempDir,
} from "./helpers.ts";

function ok0(result: { code: number; stderr: string }): void {
  equal(result.code, 0, result.stderr);
  equal(result.stderr, "");
}

/** The client ports that sent requests, from the server's log lines. */
function clientsOf(lines: string[]): Set<string> {
  return new Set(lines.map((l) => l.split(" ")[1]!));
}

Deno.test("e2e: bftp get URL URL... DIR downloads each into DIR over one session", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const a = randomBytes(200_000);
  const b = randomBytes(3);
  await Deno.mkdir(root.join("sub"));
  await Deno.writeFile(root.join("a.bin"), a);
  await Deno.writeFile(root.join("sub", "b.txt"), b);
  await using server = await startServe(root.path);
  await Deno.mkdir(local.join("inbox"));

  ok0(
    await runBftp(["get", `${server.url}/a.bin`, `${server.url}/sub/b.txt`, local.join("inbox")]),
  );
  deepEqual(await Deno.readFile(local.join("inbox", "a.bin")), a);
  deepEqual(await Deno.readFile(local.join("inbox", "b.txt")), b);
  await server.waitForLog(/ GET "\/sub\/b\.txt" ok /);
  equal(clientsOf(server.logLines(/ GET "\/(a\.bin|sub\/b\.txt)" ok /)).size, 1, "one session");

  // No DEST: the current folder. "-": each to stdout in turn.
  await Deno.mkdir(local.join("cwd"));
  ok0(
    await runBftp(["get", `${server.url}/a.bin`, `${server.url}/sub/b.txt`], {
      cwd: local.join("cwd"),
    }),
  );
  deepEqual(await listNames(local.join("cwd")), ["a.bin", "b.txt"]);
  const cat = await runBftp(["get", `${server.url}/sub/b.txt`, `${server.url}/a.bin`, "-"]);
  ok0(cat);
  deepEqual(cat.stdoutBytes, new Uint8Array([...b, ...a]));
});

Deno.test("e2e: bftp get with several URLs reports a failing one, fetches the rest, and exits with its code", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "aaa");
  await Deno.writeTextFile(root.join("c.txt"), "ccc");
  await using server = await startServe(root.path);

  const run = await runBftp([
    "get",
    `${server.url}/a.txt`,
    `${server.url}/missing.txt`,
    `${server.url}/c.txt`,
    local.path,
  ]);
  equal(run.code, 10, run.stderr);
  const lines = run.stderr.trim().split("\n");
  equal(lines.length, 1, run.stderr);
  ok(/^bftp: .*"\/missing\.txt".*not found/i.test(lines[0]!), lines[0]);
  deepEqual(await listNames(local.path), ["a.txt", "c.txt"]);
  deepEqual(await findTemporaries(local.path), []);

  // DEST must be a folder when several URLs are given.
  assertFailure(
    await runBftp(["get", `${server.url}/a.txt`, `${server.url}/c.txt`, local.join("nope")]),
    2,
    /is not a folder/,
  );
});

Deno.test("e2e: bftp put SRC SRC... URL uploads each into the folder, over one session", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const one = randomBytes(150_000);
  await Deno.writeFile(local.join("one.bin"), one);
  await Deno.writeTextFile(local.join("two.txt"), "two");
  await Deno.mkdir(local.join("tree", "deep"), { recursive: true });
  await Deno.writeTextFile(local.join("tree", "deep", "leaf.txt"), "leaf");
  await Deno.mkdir(root.join("in"));
  await using server = await startServe(root.path);

  // A URL without the trailing "/" that names an existing folder.
  ok0(await runBftp(["put", local.join("one.bin"), local.join("two.txt"), `${server.url}/in`]));
  deepEqual(await Deno.readFile(root.join("in", "one.bin")), one);
  equal(await Deno.readTextFile(root.join("in", "two.txt")), "two");
  await server.waitForLog(/ PUT "\/in\/two\.txt" ok /);
  equal(clientsOf(server.logLines(/ PUT "\/in\/(one\.bin|two\.txt)" ok /)).size, 1, "one session");

  // With -r, files and folders mix; each lands under its own name (in a folder that exists,
  // as cp and scp want it).
  ok0(await runBftp(["mkdir", `${server.url}/r`]));
  ok0(await runBftp(["put", "-r", local.join("tree"), local.join("two.txt"), `${server.url}/r/`]));
  equal(await Deno.readTextFile(root.join("r", "tree", "deep", "leaf.txt")), "leaf");
  equal(await Deno.readTextFile(root.join("r", "two.txt")), "two");

  // One file to a URL naming an existing folder goes into it, as with cp and scp.
  await Deno.writeTextFile(local.join("solo.txt"), "solo");
  ok0(await runBftp(["put", local.join("solo.txt"), `${server.url}/in`]));
  equal(await Deno.readTextFile(root.join("in", "solo.txt")), "solo");
});

Deno.test("e2e: bftp put with several SRC reports a missing one, sends the rest, and refuses a non-folder URL", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(local.join("a.txt"), "a");
  await Deno.writeTextFile(local.join("c.txt"), "c");
  await Deno.writeTextFile(root.join("file.txt"), "not a folder");
  await using server = await startServe(root.path);

  const run = await runBftp([
    "put",
    local.join("a.txt"),
    local.join("missing.txt"),
    local.join("c.txt"),
    `${server.url}/`,
  ]);
  equal(run.code, 3, run.stderr);
  ok(/^bftp: Cannot read ".*missing\.txt": not found\n$/.test(run.stderr), run.stderr);
  deepEqual(await listNames(root.path), ["a.txt", "c.txt", "file.txt"]);

  assertFailure(
    await runBftp(["put", local.join("a.txt"), local.join("c.txt"), `${server.url}/file.txt`]),
    2,
    /is not a folder on the server/,
  );
  // A missing folder is not found, as for one SRC (scp: "No such file or directory").
  assertFailure(
    await runBftp(["put", local.join("a.txt"), local.join("c.txt"), `${server.url}/absent/`]),
    10,
    /^bftp: "\/absent" not found$/,
  );
  assertFailure(
    await runBftp(["put", "-", local.join("a.txt"), `${server.url}/`]),
    2,
    /can only be the one SRC/,
  );
  equal(await Deno.readTextFile(root.join("file.txt")), "not a folder");
  deepEqual(await findTemporaries(root.path), []);
});

Deno.test("e2e: hash, rm, mkdir and rmdir take several URLs, report a failing one and go on", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "a");
  await Deno.writeTextFile(root.join("c.txt"), "c");
  await using server = await startServe(root.path);
  const u = (p: string) => `${server.url}/${p}`;

  const hash = await runBftp(["hash", u("a.txt"), u("missing.txt"), u("c.txt")]);
  equal(hash.code, 10, hash.stderr);
  deepEqual(hash.stdout.split("\n").filter((l) => l).map((l) => l.split("  ")[1]), [
    "a.txt",
    "c.txt",
  ]);
  ok(/^bftp: .*"\/missing\.txt".*\n$/.test(hash.stderr), hash.stderr);

  ok0(await runBftp(["mkdir", u("x"), u("y"), u("z")]));
  deepEqual(await listNames(root.path), ["a.txt", "c.txt", "x", "y", "z"]);
  const rmdir = await runBftp(["rmdir", u("x"), u("a.txt"), u("z")]);
  equal(rmdir.code, 13, rmdir.stderr);
  deepEqual(await listNames(root.path), ["a.txt", "c.txt", "y"]);

  const rm = await runBftp(["rm", u("a.txt"), u("y"), u("c.txt")]);
  equal(rm.code, 13, rm.stderr);
  equal(rm.stderr.trim().split("\n").length, 1, rm.stderr);
  deepEqual(await listNames(root.path), ["y"]);
  // One session served every URL of a command.
  await server.waitForLog(/ DELETE "\/c\.txt" ok /);
  equal(clientsOf(server.logLines(/ DELETE "/)).size, 1, "one session for rm");
});

Deno.test("e2e: several sources: a missing remote folder and a name written twice are refused", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("sub"));
  await Deno.writeTextFile(root.join("a.txt"), "top");
  await Deno.writeTextFile(root.join("sub", "a.txt"), "sub");
  await Deno.writeTextFile(local.join("x.txt"), "x");
  await Deno.writeTextFile(local.join("y.txt"), "y");
  await using server = await startServe(root.path);

  assertFailure(
    await runBftp(["put", local.join("x.txt"), local.join("y.txt"), `${server.url}/missing/`]),
    10,
    /^bftp: "\/missing" not found$/,
  );
  deepEqual(await listNames(root.path), ["a.txt", "sub"]);

  await Deno.mkdir(local.join("in"));
  const twice = await runBftp([
    "get",
    `${server.url}/a.txt`,
    `${server.url}/sub/a.txt`,
    local.join("in"),
  ]);
  assertFailure(twice, 2, /Will not overwrite ".*a\.txt", just written/);
  equal(await Deno.readTextFile(local.join("in", "a.txt")), "top");

  // The same both ways: two local files of one name into one folder on the server (found by an
  // audit: the second replaced the first, exit 0).
  await Deno.mkdir(local.join("s1"));
  await Deno.mkdir(local.join("s2"));
  await Deno.writeTextFile(local.join("s1", "x"), "one");
  await Deno.writeTextFile(local.join("s2", "x"), "two");
  const upTwice = await runBftp([
    "put",
    local.join("s1", "x"),
    local.join("s2", "x"),
    `${server.url}/sub/`,
  ]);
  assertFailure(upTwice, 2, /^bftp: Will not overwrite "\/sub\/x", just written, with ".*s2\/x"$/);
  equal(await Deno.readTextFile(root.join("sub", "x")), "one");
});

Deno.test("e2e: rm -r removes folders with everything in them, never follows a link, and refuses the root", async () => {
  await using root = await tempDir();
  await using outside = await tempDir();
  await Deno.writeTextFile(outside.join("keep.txt"), "keep");
  await Deno.mkdir(root.join("tree", "deep", "deeper"), { recursive: true });
  await Deno.writeTextFile(root.join("tree", "a.txt"), "a");
  await Deno.writeTextFile(root.join("tree", "deep", "deeper", "b.txt"), "b");
  await Deno.symlink(outside.path, root.join("tree", "link-out"));
  await Deno.writeTextFile(root.join("file.txt"), "f");
  await Deno.writeTextFile(root.join("stays.txt"), "s");
  await using server = await startServe(root.path);

  ok0(await runBftp(["rm", "-r", `${server.url}/tree`, `${server.url}/file.txt`]));
  deepEqual(await listNames(root.path), ["stays.txt"]);
  equal(await Deno.readTextFile(outside.join("keep.txt")), "keep", "the link was not followed");
  assertFailure(
    await runBftp(["rm", "-r", `${server.url}/`]),
    2,
    /Refusing to remove the served root/,
  );
  // A path that ends in ".." (here the root again) is refused as rm refuses it, before any look.
  assertFailure(
    await runBftp(["rm", "-r", `${server.url}/stays.txt/..`]),
    2,
    /Refusing to remove "\/stays\.txt\/\.\.": name the folder itself, not "\." or "\.\."/,
  );
  assertFailure(await runBftp(["rm", "-r", `${server.url}/missing`]), 10);
  deepEqual(await listNames(root.path), ["stays.txt"]);
  const shell = await runBftp(["shell", server.url], {
    stdin: "mkdir x\nmkdir x/y\nrm -r x\nls\n",
  });
  equal(shell.stdout, "stays.txt\n", shell.stderr);
});

Deno.test("e2e: rm -r removes a link inside the root as a link, never what it leads to", async () => {
  // Found by a security audit: the server shows such a link as the folder it leads to, and rm -r
  // went in and emptied that folder.
  await using root = await tempDir();
  await Deno.mkdir(root.join("important"));
  await Deno.writeTextFile(root.join("important", "data.txt"), "keep");
  await Deno.mkdir(root.join("trash"));
  await Deno.writeTextFile(root.join("trash", "t.txt"), "t");
  await Deno.symlink("../important", root.join("trash", "ln"));
  await Deno.symlink("important", root.join("lk"));
  await using server = await startServe(root.path);
  // STAT says which entries are such links (LIST too).
  const linkOf = async (path: string) =>
    JSON.parse((await runBftp(["stat", "--json", `${server.url}/${path}`])).stdout).link;
  deepEqual([await linkOf("lk"), await linkOf("important")], [true, undefined]);
  ok0(await runBftp(["rm", "-r", `${server.url}/trash`]));
  ok0(await runBftp(["rm", "-r", `${server.url}/lk`]));
  deepEqual(await listNames(root.path), ["important"]);
  equal(await Deno.readTextFile(root.join("important", "data.txt")), "keep");
});

Deno.test("e2e: get takes remote wildcards as scp does, and a file of that very name first", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("logs"));
  for (const name of ["a.log", "b.log", "c.txt", ".hidden.log"]) {
    await Deno.writeTextFile(root.join("logs", name), name);
  }
  await using server = await startServe(root.path);

  await Deno.mkdir(local.join("got"));
  ok0(await runBftp(["get", `${server.url}/logs/*.log`, local.join("got")]));
  deepEqual(await listNames(local.join("got")), ["a.log", "b.log"]);
  const cat = await runBftp(["get", `${server.url}/logs/[bc].*`, "-"]);
  ok0(cat);
  equal(cat.stdout, "b.logc.txt");
  // No match: reported as not found, exit 10.
  assertFailure(await runBftp(["get", `${server.url}/logs/*.zip`, "-"]), 10, /not found/);
  // A file literally named "*.log" is that file.
  await Deno.writeTextFile(root.join("logs", "*.log"), "literal");
  const literal = await runBftp(["get", `${server.url}/logs/*.log`, "-"]);
  equal(literal.stdout, "literal", literal.stderr);
});

Deno.test("e2e: several sources are pipelined: the next files are asked for before the first has arrived", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const names = Array.from({ length: 20 }, (_, i) => `f${i}.bin`);
  for (const name of names) await Deno.writeFile(root.join(name), randomBytes(2000));
  await using server = await startServe(root.path);
  ok0(await runBftp(["get", ...names.map((n) => `${server.url}/${n}`), local.path]));
  for (const name of names) {
    deepEqual(await Deno.readFile(local.join(name)), await Deno.readFile(root.join(name)));
  }
  await server.waitForLog(/ GET "\/f19\.bin" ok /);
  // One at a time, the log would go STAT f0, GET f0, STAT f1...; pipelined, several STATs
  // arrive before the first GET.
  const ops = server.logLines(/ (STAT|GET) "\/f\d+\.bin"/).map((l) => / (STAT|GET) /.exec(l)![1]);
  ok(ops.indexOf("GET") >= 2, ops.join(" "));
  // And uploads: put SRC... URL, checked the same way on the server's log.
  await Deno.mkdir(root.join("up"));
  ok0(await runBftp(["put", ...names.map((n) => local.join(n)), `${server.url}/up/`]));
  await server.waitForLog(/ PUT "\/up\/f19\.bin" ok /);
  for (const name of names) {
    deepEqual(await Deno.readFile(root.join("up", name)), await Deno.readFile(local.join(name)));
  }
});
