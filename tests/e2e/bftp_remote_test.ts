// End-to-end: the remote file commands ls, stat, hash, rm, mkdir, rmdir, mv.

import { deepEqual, equal, ok } from "node:assert/strict";
import { assertFailure, listNames, runBftp, startServe, tempDir } from "./helpers.ts";
import { sha256 } from "../helpers.ts";

function ok0(result: { code: number; stderr: string }): void {
  equal(result.code, 0, result.stderr);
  equal(result.stderr, "");
}

Deno.test("e2e: bftp ls lists a folder plain, long and as JSON", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("b.txt"), "hello\n");
  await Deno.writeTextFile(root.join("a.txt"), "x".repeat(12345));
  await Deno.mkdir(root.join("dir"));
  await Deno.mkdir(root.join("empty"));
  await Deno.writeTextFile(root.join("dir", "inner.txt"), "in");
  await Deno.chmod(root.join("a.txt"), 0o640);
  await using server = await startServe(root.path);

  const plain = await runBftp(["ls", `${server.url}/`]);
  ok0(plain);
  equal(plain.stdout, "a.txt\nb.txt\ndir/\nempty/\n");
  const noSlash = await runBftp(["ls", server.url]);
  equal(noSlash.stdout, plain.stdout);
  equal((await runBftp(["ls", `${server.url}/dir`])).stdout, "inner.txt\n");
  const empty = await runBftp(["ls", `${server.url}/empty`]);
  ok0(empty);
  equal(empty.stdout, "");

  const long = await runBftp(["ls", "-l", `${server.url}/`]);
  ok0(long);
  const lines = long.stdout.trimEnd().split("\n");
  equal(lines.length, 4, long.stdout);
  // Columns: mode, size (right-aligned), "YYYY-MM-DD HH:MM" (UTC), name; two spaces apart.
  const fields = lines.map((l) => l.trim().split(/ {2,}/));
  const when = /^\d{4}-\d\d-\d\d \d\d:\d\d$/;
  deepEqual(fields[0]!.filter((_, i) => i !== 2), ["-rw-r-----", "12345", "a.txt"]);
  deepEqual(fields[1]!.filter((_, i) => i !== 2), ["-rw-r--r--", "6", "b.txt"]);
  ok(fields.every((f) => f.length === 4 && when.test(f[2]!)), long.stdout);
  ok(/^d[rwx-]{9}$/.test(fields[2]![0]!), lines[2]);
  // A folder's size is none: "-", not a 0 that reads as empty.
  equal(fields[2]![1], "-", lines[2]);
  equal(fields[3]![3], "empty/");
  equal(new Set(lines.map((l) => l.lastIndexOf("  "))).size, 1, "names line up");

  const json = await runBftp(["ls", "--json", `${server.url}/`]);
  ok0(json);
  const entries = JSON.parse(json.stdout) as Record<string, unknown>[];
  deepEqual(entries.map((e) => [e.name, e.type]), [
    ["a.txt", "file"],
    ["b.txt", "file"],
    ["dir", "dir"],
    ["empty", "dir"],
  ]);
  equal(entries[0]!.size, 12345);
  equal(entries[0]!.mode, 0o640);
  const mtime = (await Deno.stat(root.join("a.txt"))).mtime!.getTime();
  ok(Math.abs(Number(entries[0]!.mtime) - mtime) < 1000, `${entries[0]!.mtime} vs ${mtime}`);

  // A URL naming a file lists just that file.
  equal((await runBftp(["ls", `${server.url}/b.txt`])).stdout, "b.txt\n");
});

Deno.test("e2e: bftp stat describes a file and a folder, with --json", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("f.txt"), "four");
  await Deno.mkdir(root.join("d"));
  await using server = await startServe(root.path);

  const text = await runBftp(["stat", `${server.url}/f.txt`]);
  ok0(text);
  ok(text.stdout.includes("path: /f.txt\n"), text.stdout);
  ok(text.stdout.includes("type: file\n"), text.stdout);
  ok(text.stdout.includes("size: 4\n"), text.stdout);
  ok(/^mode: 0644 \(-rw-r--r--\)$/m.test(text.stdout), text.stdout);

  const json = await runBftp(["stat", "--json", `${server.url}/f.txt`]);
  ok0(json);
  const entry = JSON.parse(json.stdout) as Record<string, unknown>;
  equal(entry.name, "f.txt");
  equal(entry.type, "file");
  equal(entry.size, 4);
  equal(typeof entry.mtime, "number");

  const dir = JSON.parse((await runBftp(["stat", "--json", `${server.url}/d`])).stdout);
  equal(dir.type, "dir");
  equal(dir.name, "d");
  // A folder's size is none, as ls -l shows it.
  ok((await runBftp(["stat", `${server.url}/d`])).stdout.includes("size: -\n"));
});

Deno.test("e2e: bftp hash prints sha256sum lines for each URL", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("one.txt"), "one\n");
  await Deno.mkdir(root.join("sub"));
  await Deno.writeTextFile(root.join("sub", "two.txt"), "two\n");
  await using server = await startServe(root.path);
  const result = await runBftp(["hash", `${server.url}/one.txt`, `${server.url}/sub/two.txt`]);
  ok0(result);
  equal(result.stdout, `${sha256("one\n")}  one.txt\n${sha256("two\n")}  two.txt\n`);
  // A second time, and after a change: the server must not serve a stale hash.
  await Deno.writeTextFile(root.join("one.txt"), "changed, and longer\n");
  const again = await runBftp(["hash", `${server.url}/one.txt`]);
  equal(again.stdout, `${sha256("changed, and longer\n")}  one.txt\n`);
});

Deno.test("e2e: bftp rm removes files but not folders", async () => {
  await using root = await tempDir();
  for (const name of ["a", "b", "c"]) await Deno.writeTextFile(root.join(name), name);
  await Deno.mkdir(root.join("d"));
  await using server = await startServe(root.path);
  ok0(await runBftp(["rm", `${server.url}/a`]));
  deepEqual(await listNames(root.path), ["b", "c", "d"]);
  ok0(await runBftp(["rm", `${server.url}/b`, `${server.url}/c`]));
  deepEqual(await listNames(root.path), ["d"]);
  assertFailure(
    await runBftp(["rm", `${server.url}/d`]),
    13,
    /^bftp: "\/d" is a folder: use rm -r \(or rmdir\)$/m,
  );
  assertFailure(await runBftp(["rm", `${server.url}/a`]), 10, /not found/);
  deepEqual(await listNames(root.path), ["d"]);
});

Deno.test("e2e: a file named with a trailing / is not a folder: rm, rm -r, get, hash and stat refuse it, and it stays", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("f"), "kept");
  await using server = await startServe(root.path);
  for (const args of [["rm"], ["rm", "-r"], ["get"], ["hash"], ["stat"]]) {
    const extra = args[0] === "get" ? [root.join("out")] : [];
    assertFailure(
      await runBftp([...args, `${server.url}/f/`, ...extra]),
      13,
      /^bftp: "\/f\/" is not a folder$/m,
    );
  }
  deepEqual(await listNames(root.path), ["f"]);
  equal(await Deno.readTextFile(root.join("f")), "kept");
});

Deno.test("e2e: bftp mkdir (-p) and rmdir make and remove folders", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  ok0(await runBftp(["mkdir", `${server.url}/top`]));
  ok((await Deno.stat(root.join("top"))).isDirectory);
  assertFailure(await runBftp(["mkdir", `${server.url}/x/y`]), 10);
  ok0(await runBftp(["mkdir", "-p", `${server.url}/x/y/z`]));
  ok((await Deno.stat(root.join("x", "y", "z"))).isDirectory);
  ok0(await runBftp(["mkdir", "--parents", `${server.url}/x/y/z`]));
  ok0(await runBftp(["mkdir", "-p", `${server.url}/top`]));

  ok0(await runBftp(["rmdir", `${server.url}/x/y/z`]));
  ok0(await runBftp(["rmdir", `${server.url}/x/y`]));
  ok0(await runBftp(["rmdir", `${server.url}/x`]));
  deepEqual(await listNames(root.path), ["top"]);
  await Deno.writeTextFile(root.join("file"), "");
  assertFailure(await runBftp(["rmdir", `${server.url}/file`]), 13, /not a folder/);
  assertFailure(await runBftp(["mkdir", "-p", `${server.url}/file`]), 11);
});

Deno.test("e2e: bftp mv renames with a relative, absolute or URL NEWPATH", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("dir"));
  await Deno.mkdir(root.join("archive"));
  await Deno.writeTextFile(root.join("dir", "a.txt"), "A");
  await Deno.writeTextFile(root.join("other.txt"), "O");
  await using server = await startServe(root.path);

  // Relative: stays in the source's folder.
  ok0(await runBftp(["mv", `${server.url}/dir/a.txt`, "b.txt"]));
  deepEqual(await listNames(root.join("dir")), ["b.txt"]);
  // Absolute: from the served root.
  ok0(await runBftp(["mv", `${server.url}/dir/b.txt`, "/archive/c.txt"]));
  deepEqual(await listNames(root.join("dir")), []);
  equal(await Deno.readTextFile(root.join("archive", "c.txt")), "A");
  // A bftp:// URL on the same server.
  ok0(await runBftp(["mv", `${server.url}/archive/c.txt`, `${server.url}/dir/d.txt`]));
  equal(await Deno.readTextFile(root.join("dir", "d.txt")), "A");
  // The scheme in any case, as every command takes it.
  const upper = server.url.replace(/^bftp:/, "BFTP:");
  ok0(await runBftp(["mv", `${server.url}/dir/d.txt`, `${upper}/dir/e.txt`]));
  ok0(await runBftp(["mv", `${upper}/dir/e.txt`, `${server.url}/dir/d.txt`]));
  equal(await Deno.readTextFile(root.join("dir", "d.txt")), "A");
  // A folder moves with its contents.
  ok0(await runBftp(["mv", `${server.url}/dir`, "/archive/dir2"]));
  equal(await Deno.readTextFile(root.join("archive", "dir2", "d.txt")), "A");
  // An existing file is replaced; an existing folder takes the file in, as mv does.
  ok0(await runBftp(["mv", `${server.url}/other.txt`, "archive/dir2/d.txt"]));
  equal(await Deno.readTextFile(root.join("archive", "dir2", "d.txt")), "O");
  ok0(await runBftp(["mv", `${server.url}/archive/dir2/d.txt`, "/archive"]));
  equal(await Deno.readTextFile(root.join("archive", "d.txt")), "O");
  assertFailure(await runBftp(["mv", `${server.url}/nope`, "x"]), 10);
  assertFailure(await runBftp(["mv", `${server.url}/archive`, "/archive/dir2/in"]), 12);
  assertFailure(await runBftp(["mv", `${server.url}/archive`, "bftp://127.0.0.1:1/x"]), 2);
  deepEqual(await listNames(root.path), ["archive"]);
  deepEqual(await listNames(root.join("archive")), ["d.txt", "dir2"]);
});

Deno.test("e2e: bftp mv of a folder onto an existing file is EXISTS (exit 11), and both stay", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("dir"));
  await Deno.writeTextFile(root.join("dir", "in.txt"), "I");
  await Deno.writeTextFile(root.join("file.txt"), "F");
  await using server = await startServe(root.path);
  assertFailure(
    await runBftp(["mv", `${server.url}/dir`, "/file.txt"]),
    11,
    /"\/file\.txt" already exists and is not a folder/,
  );
  equal(await Deno.readTextFile(root.join("file.txt")), "F");
  equal(await Deno.readTextFile(root.join("dir", "in.txt")), "I");
});
