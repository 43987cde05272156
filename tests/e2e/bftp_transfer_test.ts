// End-to-end: `bftp get` and `bftp put` round trips through a real `bftp serve`.

import { deepEqual, equal } from "node:assert/strict";
import {
  assertFailure,
  BFTP_BIN,
  findTemporaries,
  listNames,
  randomBytes,
  readText,
  readTree,
  runBftp,
  spawnBftp,
  startServe,
  tempDir,
  writeRandomFile,
} from "./helpers.ts";

function ok0(result: { code: number; stderr: string }): void {
  equal(result.code, 0, result.stderr);
  equal(result.stderr, "");
}

Deno.test("e2e: bftp get writes to a file, into a folder, to the cwd, and to stdout", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const content = randomBytes(300_000);
  await Deno.writeFile(root.join("data.bin"), content);
  await using server = await startServe(root.path);

  const toFile = await runBftp(["get", `${server.url}/data.bin`, local.join("copy.bin")]);
  ok0(toFile);
  equal(toFile.stdout, "");
  deepEqual(await Deno.readFile(local.join("copy.bin")), content);

  await Deno.mkdir(local.join("into"));
  ok0(await runBftp(["get", `${server.url}/data.bin`, local.join("into")]));
  deepEqual(await Deno.readFile(local.join("into", "data.bin")), content);

  await Deno.mkdir(local.join("cwd"));
  ok0(await runBftp(["get", `${server.url}/data.bin`], { cwd: local.join("cwd") }));
  deepEqual(await Deno.readFile(local.join("cwd", "data.bin")), content);

  const toStdout = await runBftp(["get", `${server.url}/data.bin`, "-"]);
  ok0(toStdout);
  deepEqual(toStdout.stdoutBytes, content);

  // An existing DEST file is replaced.
  await Deno.writeTextFile(local.join("old.bin"), "old content");
  ok0(await runBftp(["get", `${server.url}/data.bin`, local.join("old.bin")]));
  deepEqual(await Deno.readFile(local.join("old.bin")), content);

  deepEqual(await findTemporaries(local.path), []);
  deepEqual(await listNames(local.path), ["copy.bin", "cwd", "into", "old.bin"]);
});

Deno.test("e2e: bftp get URL - widens a pipe on stdout to 1 MiB once a body comes, and a message does not", async () => {
  await using root = await tempDir();
  const content = randomBytes(300_000);
  await Deno.writeFile(root.join("data.bin"), content);
  await using server = await startServe(root.path);
  // The reading end reads everything, then asks its pipe's size (F_GETPIPE_SZ, 1032).
  const reader = "import fcntl, sys; n = len(sys.stdin.buffer.read()); " +
    "print(n, fcntl.fcntl(0, 1032))";
  const through = async (args: string) => {
    const out = await new Deno.Command("bash", {
      args: ["-c", `'${BFTP_BIN}' ${args} | python3 -c '${reader}'`],
      stdout: "piped",
    }).output();
    equal(out.code, 0);
    return new TextDecoder().decode(out.stdout).trim();
  };
  const linux = Deno.build.os === "linux";
  equal(await through(`get -q ${server.url}/data.bin -`), `300000 ${linux ? 1 << 20 : 65536}`);
  // A listing is a message: the pipe keeps its 64 KiB.
  equal((await through(`ls ${server.url}/`)).split(" ")[1], "65536");
});

Deno.test("e2e: bftp get of an empty file makes an empty file", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeFile(root.join("empty"), new Uint8Array());
  await using server = await startServe(root.path);
  ok0(await runBftp(["get", `${server.url}/empty`, local.join("e")]));
  equal((await Deno.stat(local.join("e"))).size, 0);
});

Deno.test("e2e: bftp put uploads a file, into a folder URL, and from stdin", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const content = randomBytes(500_000);
  await Deno.writeFile(local.join("report.bin"), content);
  await Deno.mkdir(root.join("docs"));
  await using server = await startServe(root.path);

  const put = await runBftp(["put", local.join("report.bin"), `${server.url}/named.bin`]);
  ok0(put);
  equal(put.stdout, "");
  deepEqual(await Deno.readFile(root.join("named.bin")), content);

  ok0(await runBftp(["put", local.join("report.bin"), `${server.url}/docs/`]));
  deepEqual(await Deno.readFile(root.join("docs", "report.bin")), content);

  const piped = randomBytes(200_003);
  ok0(await runBftp(["put", "-", `${server.url}/docs/piped.bin`], { stdin: piped }));
  deepEqual(await Deno.readFile(root.join("docs", "piped.bin")), piped);

  ok0(await runBftp(["put", "-", `${server.url}/empty.txt`], { stdin: "" }));
  equal((await Deno.stat(root.join("empty.txt"))).size, 0);

  // A second put replaces the file.
  ok0(await runBftp(["put", "-", `${server.url}/named.bin`], { stdin: "replaced\n" }));
  equal(await Deno.readTextFile(root.join("named.bin")), "replaced\n");

  // A relative SRC resolves against the cwd.
  ok0(await runBftp(["put", "report.bin", `${server.url}/rel.bin`], { cwd: local.path }));
  deepEqual(await Deno.readFile(root.join("rel.bin")), content);

  deepEqual(await findTemporaries(root.path), []);
  deepEqual(await listNames(root.path), ["docs", "empty.txt", "named.bin", "rel.bin"]);
});

async function makeTree(dir: string): Promise<void> {
  await Deno.mkdir(`${dir}/a/b/c`, { recursive: true });
  await Deno.mkdir(`${dir}/empty`);
  await Deno.mkdir(`${dir}/a/also empty`);
  await Deno.writeFile(`${dir}/top.bin`, randomBytes(70_000));
  await Deno.writeFile(`${dir}/a/one.txt`, new TextEncoder().encode("one\n"));
  await Deno.writeFile(`${dir}/a/b/two.bin`, randomBytes(1_500_000));
  await Deno.writeFile(`${dir}/a/b/c/three.bin`, randomBytes(3));
  await Deno.writeFile(`${dir}/a/b/c/zero`, new Uint8Array());
  await Deno.writeFile(`${dir}/a/b/c/name with spaces & ünïcode.txt`, randomBytes(999));
}

Deno.test("e2e: bftp put -r and get -r copy a nested folder tree byte for byte", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await makeTree(local.join("tree"));
  const expected = await readTree(local.join("tree"));
  await using server = await startServe(root.path);

  // put -r to a new remote name, and into a folder URL under SRC's name.
  ok0(await runBftp(["put", "-r", local.join("tree"), `${server.url}/copy`]));
  deepEqual(await readTree(root.join("copy")), expected);
  await Deno.mkdir(root.join("into"));
  ok0(await runBftp(["put", "--recursive", local.join("tree"), `${server.url}/into/`]));
  deepEqual(await readTree(root.join("into", "tree")), expected);

  // get -r to a new local folder, and into an existing folder.
  ok0(await runBftp(["get", "-r", `${server.url}/copy`, local.join("back")]));
  deepEqual(await readTree(local.join("back")), expected);
  await Deno.mkdir(local.join("existing"));
  ok0(await runBftp(["get", "-r", `${server.url}/into/tree`, local.join("existing")]));
  deepEqual(await readTree(local.join("existing", "tree")), expected);
  // With no DEST, the folder arrives under its own name in the cwd.
  await Deno.mkdir(local.join("cwd"));
  ok0(await runBftp(["get", "-r", `${server.url}/copy`], { cwd: local.join("cwd") }));
  deepEqual(await readTree(local.join("cwd", "copy")), expected);

  deepEqual(await findTemporaries(root.path), []);
  deepEqual(await findTemporaries(local.path), []);
});

Deno.test("e2e: bftp get and put of a folder without -r are usage errors", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("dir"));
  await Deno.mkdir(local.join("dir"));
  await using server = await startServe(root.path);
  const get = await runBftp(["get", `${server.url}/dir`, local.join("out")]);
  equal(get.code, 2, get.stderr);
  equal(get.stderr.split("\n").length, 2, get.stderr);
  const put = await runBftp(["put", local.join("dir"), `${server.url}/x`]);
  equal(put.code, 2, put.stderr);
  deepEqual(await listNames(local.path), ["dir"]);
  deepEqual(await listNames(root.path), ["dir"]);
});

Deno.test("e2e: bftp get URL - stops at once with exit 3 when stdout is closed", async () => {
  await using root = await tempDir();
  await writeRandomFile(root.join("big.bin"), 64 << 20);
  await using server = await startServe(root.path);
  const child = spawnBftp(["get", `${server.url}/big.bin`, "-"]);
  const stderr = readText(child.stderr);
  const reader = child.stdout.getReader();
  equal((await reader.read()).done, false);
  await reader.cancel(); // like `| head -c 1`: the reading end of the pipe goes away
  const status = await child.status;
  assertFailure(
    { code: status.code, stdout: "", stdoutBytes: new Uint8Array(), stderr: await stderr },
    3,
    /^bftp: Cannot write to the output: broken pipe$/,
  );
  // The download was abandoned, not finished into the broken pipe.
  await server.waitForLog(/ GET "\/big\.bin" /);
  equal(server.logLines(/ GET "\/big\.bin" ok /).length, 0, server.stderrText());
});
