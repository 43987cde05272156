// End-to-end: what a user's local side can throw at get and put (found by a user audit):
// special files and links as DEST or SRC, long names, permissions, bad local paths, Ctrl-C,
// a silent server before its hello, oversize paths, and what -r leaves out.

import { deepEqual, equal, ok } from "node:assert/strict";
import { frame, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import {
  assertFailure,
  BFTP_BIN,
  closedPort,
  findTemporaries,
  randomBytes,
  readText,
  readTree,
  runBftp,
  spawnBftp,
  startServe,
  tempDir,
  waitFor,
} from "./helpers.ts";
import { silentListener } from "../helpers.ts";
import { writeLayout } from "../server/helpers.ts";

function ok0(result: { code: number; stderr: string }): void {
  equal(result.code, 0, result.stderr);
}

async function mkfifo(path: string): Promise<void> {
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  equal(made.code, 0, "mkfifo");
}

/** Runs bftp with `args`, and half a second in, `change` (a file changed under the transfer). */
async function runChangingMidway(args: string[], change: () => Promise<void>) {
  const child = spawnBftp(args);
  const output = Promise.all([child.status, readText(child.stdout), readText(child.stderr)]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await change();
  const [status, stdout, stderr] = await output;
  return { code: status.code, stdout, stderr };
}

Deno.test("e2e: get writes into a FIFO (also through a link, as /dev/stdout is) and replaces a link to a file", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("hello.txt"), "hello\n");
  await using server = await startServe(root.path);

  await mkfifo(local.join("fifo"));
  for (const dest of ["fifo", "link-to-fifo"]) {
    if (dest === "link-to-fifo") await Deno.symlink("fifo", local.join(dest));
    const reading = Deno.readTextFile(local.join("fifo"));
    ok0(await runBftp(["get", `${server.url}/hello.txt`, local.join(dest)]));
    equal(await reading, "hello\n");
    ok((await Deno.lstat(local.join("fifo"))).isFifo, "the FIFO is still a FIFO");
  }
  ok((await Deno.lstat(local.join("link-to-fifo"))).isSymlink);

  // A link to a regular file is replaced, never written through: a planted link cannot
  // redirect a download onto another file.
  await Deno.writeTextFile(local.join("victim.txt"), "victim");
  await Deno.symlink("victim.txt", local.join("planted"));
  ok0(await runBftp(["get", `${server.url}/hello.txt`, local.join("planted")]));
  equal(await Deno.readTextFile(local.join("victim.txt")), "victim");
  ok((await Deno.lstat(local.join("planted"))).isFile);
  deepEqual(await findTemporaries(local.path), []);
});

Deno.test("e2e: put streams a FIFO or a process substitution instead of sending it empty", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  await mkfifo(local.join("fifo"));
  const writing = Deno.writeTextFile(local.join("fifo"), "through a fifo\n");
  ok0(await runBftp(["put", local.join("fifo"), `${server.url}/fifo.txt`]));
  await writing;
  equal(await Deno.readTextFile(root.join("fifo.txt")), "through a fifo\n");

  const bash = await new Deno.Command("bash", {
    args: [
      "-c",
      `'${BFTP_BIN}' put <(echo procsub) ${server.url}/ps.txt`,
    ],
  }).output();
  equal(bash.code, 0, new TextDecoder().decode(bash.stderr));
  equal(await Deno.readTextFile(root.join("ps.txt")), "procsub\n");
});

Deno.test("e2e: a file with a 255-byte name downloads (its temporary name stays short)", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const name = "L".repeat(250) + ".txt";
  await Deno.writeTextFile(root.join(name), "long");
  await using server = await startServe(root.path);
  ok0(await runBftp(["get", `${server.url}/${name}`], { cwd: local.path }));
  equal(await Deno.readTextFile(local.join(name)), "long");
  ok0(await runBftp(["get", "--resume", `${server.url}/${name}`, local.join(name)]));
  deepEqual(await findTemporaries(local.path), []);
});

Deno.test("e2e: a replaced local file keeps its permissions", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("new.txt"), "new");
  await using server = await startServe(root.path);
  await Deno.writeTextFile(local.join("private.txt"), "old");
  await Deno.chmod(local.join("private.txt"), 0o600);
  ok0(await runBftp(["get", `${server.url}/new.txt`, local.join("private.txt")]));
  equal(await Deno.readTextFile(local.join("private.txt")), "new");
  equal((await Deno.stat(local.join("private.txt"))).mode! & 0o777, 0o600);
});

Deno.test("e2e: bad local paths are local errors (exit 3), not internal ones", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "a");
  await Deno.writeTextFile(local.join("file"), "f");
  await using server = await startServe(root.path);
  assertFailure(
    await runBftp(["put", local.join("file", "x"), `${server.url}/`]),
    3,
    /a part of the path is not a folder/,
  );
  assertFailure(
    await runBftp(["get", `${server.url}/a.txt`, local.join("file", "x")]),
    3,
    /a part of the path is not a folder/,
  );
  assertFailure(
    await runBftp(["put", local.join("n".repeat(300)), `${server.url}/`]),
    3,
    /file name too long/i,
  );
});

Deno.test("e2e: a path over the protocol's limit is refused before it is sent (exit 12)", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  assertFailure(
    await runBftp(["ls", `${server.url}/${"x".repeat(70_000)}`]),
    12,
    /over the protocol.s 65536/,
  );
  // The server never saw it: no oversize message in its log.
  ok(!/over the limit/.test(server.stderrText()), server.stderrText());
});

Deno.test("e2e: --timeout also covers a server that accepts and never says hello (exit 7)", async () => {
  await using silent = silentListener();
  const started = performance.now();
  assertFailure(
    await runBftp(["ls", "--timeout", "1", `bftp://127.0.0.1:${silent.port}/`]),
    7,
    /sent nothing for 1 s/,
  );
  ok(performance.now() - started < 20_000);
});

Deno.test("e2e: Ctrl-C during an upload exits 130, says so, and leaves nothing", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  const child = spawnBftp(["put", "-", `${server.url}/big.bin`], { pipeStdin: true });
  const stderr = readText(child.stderr);
  const stdout = readText(child.stdout);
  const writer = child.stdin.getWriter();
  await writer.write(new Uint8Array(4 << 20));
  await waitFor(
    async () => (await findTemporaries(root.path)).length > 0,
    "the upload to be in flight",
  );
  child.kill("SIGINT");
  await writer.close().catch(() => {});
  const status = await child.status;
  equal(status.code, 130);
  equal(await stderr, "bftp: Interrupted\n");
  equal(await stdout, "");
  await waitFor(async () => (await findTemporaries(root.path)).length === 0, "no temporary");
  deepEqual([...Deno.readDirSync(root.path)], []);
});

Deno.test("e2e: Ctrl-C while put --resume hashes a large file stops it at once, not after the grace", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  // 16 GiB, sparse: hashing it whole takes about ten seconds at SHA-256's 1.5-1.7 GB/s.
  const big = local.join("sparse.bin");
  using file = await Deno.open(big, { create: true, write: true });
  await file.truncate(16 * 1024 ** 3);
  await using server = await startServe(root.path);
  const child = spawnBftp(["put", "-q", "--resume", big, `${server.url}/sparse.bin`]);
  const stderr = readText(child.stderr);
  const stdout = readText(child.stdout);
  // By then it is hashing: start-up and the connection take well under a second here.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const started = performance.now();
  child.kill("SIGINT");
  const status = await child.status;
  const ms = performance.now() - started;
  equal(status.code, 130);
  equal(await stderr, "bftp: Interrupted\n");
  equal(await stdout, "");
  // The grace a command that does not stop gets is 5 s.
  ok(ms < 3000, `${ms} ms`);
  deepEqual([...Deno.readDirSync(root.path)], []);
});

Deno.test("e2e: SIGHUP (a closed terminal) stops a download as Ctrl-C does: exit 130, no temporary left", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeFile(root.join("big.bin"), randomBytes(8 << 20));
  await using server = await startServe(root.path);
  const child = spawnBftp([
    "get",
    "-q",
    "--limit-rate",
    "2M",
    `${server.url}/big.bin`,
    local.join("h"),
  ]);
  const stderr = readText(child.stderr);
  const stdout = readText(child.stdout);
  await waitFor(
    async () => (await Array.fromAsync(Deno.readDir(local.path))).length > 0,
    "the download to be in flight",
  );
  child.kill("SIGHUP");
  const status = await child.status;
  equal(status.code, 130);
  equal(await stderr, "bftp: Interrupted\n");
  equal(await stdout, "");
  deepEqual([...Deno.readDirSync(local.path)], []);
});

Deno.test("e2e: Ctrl-C that comes with the end of stdin (tar | bftp put -) does not close the body: nothing lands", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  for (let i = 0; i < 3; i++) {
    const child = spawnBftp(["put", "-", `${server.url}/cut${i}.tar`], { pipeStdin: true });
    const output = Promise.all([readText(child.stdout), readText(child.stderr)]);
    const writer = child.stdin.getWriter();
    await writer.write(new Uint8Array(1 << 20));
    await waitFor(
      async () => (await findTemporaries(root.path)).length > 0,
      "the upload to be in flight",
    );
    // As a terminal's Ctrl-C does to a pipeline: the producer's end and the signal at once,
    // the end first.
    await writer.close();
    child.kill("SIGINT");
    const status = await child.status;
    const [, stderr] = await output;
    equal(status.code, 130, stderr);
    await waitFor(async () => (await findTemporaries(root.path)).length === 0, "no temporary");
    deepEqual([...Deno.readDirSync(root.path)], [], `run ${i}`);
  }
});

Deno.test("e2e: put -r and get -r name each entry they leave out, and still succeed", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(local.join("tree"));
  await Deno.writeTextFile(local.join("tree", "real.txt"), "real");
  await Deno.symlink("../nowhere", local.join("tree", "dangling"));
  await mkfifo(local.join("tree", "fifo"));
  await using server = await startServe(root.path);
  const put = await runBftp(["put", "-r", local.join("tree"), `${server.url}/tree`]);
  equal(put.code, 0, put.stderr);
  deepEqual(put.stderr.trim().split("\n").sort(), [
    `bftp: Skipping "${local.join("tree", "dangling")}": a symbolic link to nothing`,
    `bftp: Skipping "${local.join("tree", "fifo")}": not a regular file`,
  ]);
  deepEqual([...Deno.readDirSync(root.join("tree"))].map((e) => e.name), ["real.txt"]);

  await mkfifo(root.join("tree", "server-fifo"));
  const get = await runBftp(["get", "-r", `${server.url}/tree`, local.join("copy")]);
  equal(get.code, 0, get.stderr);
  equal(get.stderr, 'bftp: Skipping "/tree/server-fifo": not a regular file or folder\n');
  equal(await Deno.readTextFile(local.join("copy", "real.txt")), "real");
});

Deno.test("e2e: get -r and a pulling sync leave out the server's links to folders (a loop of them too), and fetch a link to a file as the file", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("lp", "loop"), { recursive: true });
  await Deno.mkdir(root.join("lp", "real"));
  await Deno.writeTextFile(root.join("lp", "keep"), "ok");
  await Deno.writeTextFile(root.join("lp", "real", "x"), "x");
  await Deno.symlink("../loop", root.join("lp", "loop", "self"));
  await Deno.symlink("real", root.join("lp", "alias"));
  await Deno.symlink("keep", root.join("lp", "flink"));
  await using server = await startServe(root.path);
  const skipped = [
    'bftp: Skipping "/lp/alias": a symbolic link to a folder',
    'bftp: Skipping "/lp/loop/self": a symbolic link to a folder',
  ];
  const get = await runBftp(["get", "-r", `${server.url}/lp`, local.join("g")]);
  equal(get.code, 0, get.stderr);
  deepEqual(get.stderr.trim().split("\n").sort(), skipped);
  const sync = await runBftp(["sync", "-q", `${server.url}/lp`, local.join("s")]);
  equal(sync.code, 0, sync.stderr);
  deepEqual(sync.stderr.trim().split("\n").sort(), skipped);
  for (const copy of ["g", "s"]) {
    deepEqual([...(await readTree(local.join(copy))).keys()], [
      "flink",
      "keep",
      "loop",
      "real",
      "real/x",
    ], copy);
    equal((await Deno.lstat(local.join(copy, "flink"))).isFile, true);
  }
});

Deno.test("e2e: a tree 130 levels deep goes up, comes back, syncs again and is removed", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const deep = local.join("deep", ..."d".repeat(130).split(""));
  await Deno.mkdir(deep, { recursive: true });
  await Deno.writeTextFile(`${deep}/leaf`, "leaf");
  await using server = await startServe(root.path);
  for (
    const args of [
      ["put", "-r", "-q", local.join("deep"), `${server.url}/deep`],
      ["get", "-r", "-q", `${server.url}/deep`, local.join("back")],
      ["sync", "-q", local.join("deep"), `${server.url}/synced`],
      ["sync", "-q", local.join("deep"), `${server.url}/synced`],
      ["rm", "-r", `${server.url}/deep`],
    ]
  ) {
    const result = await runBftp(args);
    equal(result.code, 0, `${args[0]}: ${result.stderr}`);
  }
  equal(
    await Deno.readTextFile(`${local.join("back", ..."d".repeat(130).split(""))}/leaf`),
    "leaf",
  );
  deepEqual([...Deno.readDirSync(root.path)].map((e) => e.name), ["synced"]);
});

Deno.test("e2e: a folder the server will not list fails alone: get -r fetches the rest, sync --delete keeps the local copy of it", async () => {
  await using local = await tempDir();
  const body = new TextEncoder().encode("fair");
  const dir = { type: "dir", size: 0, mtime: 0, mode: 0o755 };
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "STAT") await send(frame({ ok: true, entry: { name: "t", ...dir } }));
    else if (req.op === "LIST" && req.path === "/t") {
      const entries = [{ name: "closed", ...dir }, {
        name: "fair.txt",
        ...dir,
        type: "file",
        size: 4,
      }];
      await send(frame({ ok: true, entries }));
    } else if (req.op === "LIST") {
      await send(frame({ ok: false, code: "DENIED", message: '"/t/closed": permission denied' }));
    } else if (req.op === "GET") {
      const hash = await crypto.subtle.digest("SHA-256", body);
      const hex = Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
      await send(frame({ ok: true, size: 4, mtime: 0 }));
      await send(new TextEncoder().encode(`0000000000000004fair${hex}`));
    } else if (req.op !== "QUIT") await send(frame({ ok: false, code: "DENIED", message: "no" }));
  });
  const get = await runBftp(["get", "-r", "-q", `${server.url}/t`, local.join("g")]);
  equal(get.code, 15, get.stderr);
  deepEqual(get.stderr.trimEnd().split("\n"), [
    'bftp: "/t/closed": permission denied',
    "bftp: Not everything was downloaded: 1 failure (see above)",
  ]);
  deepEqual(await Deno.readTextFile(local.join("g", "fair.txt")), "fair");
  await Deno.mkdir(local.join("s", "closed"), { recursive: true });
  await Deno.writeTextFile(local.join("s", "closed", "mine.txt"), "mine");
  const sync = await runBftp(["sync", "-q", "--delete", `${server.url}/t`, local.join("s")]);
  equal(sync.code, 15, sync.stderr);
  equal(await Deno.readTextFile(local.join("s", "closed", "mine.txt")), "mine");
  equal(await Deno.readTextFile(local.join("s", "fair.txt")), "fair");
});

Deno.test("e2e: a local folder get -r cannot make (a file or a link in its place) fails alone, with what it holds; the rest arrives", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await writeLayout(root.path, {
    "pt/d/sub/x": "x",
    "pt/d/df": "df",
    "pt/e/ef": "ef",
    "pt/f": "f",
    "pt/g": "g",
  });
  await using server = await startServe(root.path);
  await Deno.mkdir(local.join("pt"));
  await Deno.writeTextFile(local.join("pt", "d"), "a file where a folder goes");
  await Deno.mkdir(local.join("elsewhere"));
  await Deno.symlink(local.join("elsewhere"), local.join("pt", "e"));
  const r = await runBftp(["get", "-r", "-q", `${server.url}/pt`, local.path]);
  equal(r.code, 3, r.stderr);
  deepEqual(r.stderr.trimEnd().split("\n"), [
    `bftp: Cannot create folder "${local.join("pt", "d")}": file exists`,
    `bftp: Cannot write into "${local.join("pt", "e")}": it is a symbolic link`,
    "bftp: Not everything was downloaded: 2 failures (see above)",
  ]);
  deepEqual(await Deno.readTextFile(local.join("pt", "f")), "f");
  deepEqual(await Deno.readTextFile(local.join("pt", "g")), "g");
  // Nothing went through the link, and the file in the way is as it was.
  deepEqual([...Deno.readDirSync(local.join("elsewhere"))], []);
  deepEqual(await Deno.readTextFile(local.join("pt", "d")), "a file where a folder goes");
});

Deno.test("e2e: names that are not UTF-8 on the disk are each a failure both ways, never dropped in silence", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  // Latin-1 names (0xe9, "é"), which no Deno path string can spell: made by the shell.
  const latin1 = (dir: string) =>
    new Deno.Command("bash", {
      args: [
        "-c",
        `cd "$1" && echo ok > ok && echo x > caf$'\\xe9' && mkdir dir$'\\xe9'`,
        "_",
        dir,
      ],
    }).output();
  await Deno.mkdir(local.join("lat"));
  await Deno.mkdir(root.join("served"));
  ok((await latin1(local.join("lat"))).success);
  ok((await latin1(root.join("served"))).success);
  await using server = await startServe(root.path);
  const put = await runBftp(["put", "-r", "-q", local.join("lat"), `${server.url}/up`]);
  equal(put.code, 3, put.stderr);
  deepEqual(put.stderr.trimEnd().split("\n"), [
    `bftp: Cannot read "${
      local.join("lat")
    }/caf\uFFFD": its name is not valid UTF-8, which no BFTP path can carry`,
    `bftp: Cannot read folder "${
      local.join("lat")
    }/dir\uFFFD": its name is not valid UTF-8, which no BFTP path can carry`,
    "bftp: Not everything was uploaded: 2 failures (see above)",
  ]);
  deepEqual([...Deno.readDirSync(root.join("up"))].map((e) => e.name), ["ok"]);
  // The server lists them (type "other"), and a download tells each one rather than drop it.
  const ls = await runBftp(["ls", "--json", `${server.url}/served`]);
  deepEqual(
    JSON.parse(ls.stdout).map((e: { name: string; type: string }) => [e.name, e.type]),
    [["caf\uFFFD", "other"], ["dir\uFFFD", "other"], ["ok", "file"]],
  );
  const get = await runBftp(["get", "-r", "-q", `${server.url}/served`, local.join("back")]);
  equal(get.code, 12, get.stderr);
  deepEqual(get.stderr.trimEnd().split("\n"), [
    'bftp: Cannot fetch "/served/caf\uFFFD": its name on the server is not valid UTF-8: no request can name it',
    'bftp: Cannot fetch "/served/dir\uFFFD": its name on the server is not valid UTF-8: no request can name it',
    "bftp: Not everything was downloaded: 2 failures (see above)",
  ]);
  deepEqual([...Deno.readDirSync(local.join("back"))].map((e) => e.name), ["ok"]);
});

Deno.test("e2e: a file cut shorter while put -r sends it is that file's failure (exit 6), and the tree goes on", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(local.join("tree"));
  const b = randomBytes(3 << 20);
  await Deno.writeFile(local.join("tree", "a.bin"), randomBytes(16 << 20));
  await Deno.writeFile(local.join("tree", "b.bin"), b);
  await using server = await startServe(root.path);
  // 19 MiB at 8 MiB/s: a.bin, first, is cut to 1 MiB half a second in (some 4 MiB sent, and
  // as much again read ahead into the socket's buffers).
  const { code, stdout, stderr } = await runChangingMidway(
    ["put", "-r", "-q", "--limit-rate", "8M", local.join("tree"), `${server.url}/t`],
    () => Deno.truncate(local.join("tree", "a.bin"), 1 << 20),
  );
  equal(code, 6, stderr);
  equal(stdout, "");
  deepEqual(stderr.trimEnd().split("\n"), [
    `bftp: "${
      local.join("tree", "a.bin")
    }" changed while it was sent: the server kept nothing; send it again`,
    "bftp: Not everything was uploaded: 1 failure (see above)",
  ]);
  deepEqual([...Deno.readDirSync(root.join("t"))].map((e) => e.name), ["b.bin"]);
  deepEqual(await Deno.readFile(root.join("t", "b.bin")), b);
});

Deno.test("e2e: a server file written to in place while get -r fetches it fails alone (exit 6), never lands mixed", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("t"));
  await Deno.writeFile(root.join("t", "a.bin"), randomBytes(32 << 20));
  const z = randomBytes(1 << 20);
  await Deno.writeFile(root.join("t", "z.bin"), z);
  await using server = await startServe(root.path);
  // Half a second in, new bytes in the middle of a.bin, as `dd conv=notrunc` writes them.
  const { code, stderr } = await runChangingMidway(
    ["get", "-r", "-q", "--limit-rate", "16M", `${server.url}/t`, local.join("t")],
    async () => {
      using file = await Deno.open(root.join("t", "a.bin"), { write: true });
      await file.seek(24 << 20, Deno.SeekMode.Start);
      await writeAll(file, randomBytes(1 << 20));
    },
  );
  equal(code, 6, stderr);
  deepEqual(stderr.trimEnd().split("\n"), [
    'bftp: "/t/a.bin" changed while it was sent (the sender says so): nothing was kept',
    "bftp: Not everything was downloaded: 1 failure (see above)",
  ]);
  deepEqual([...Deno.readDirSync(local.join("t"))].map((e) => e.name), ["z.bin"]);
  deepEqual(await Deno.readFile(local.join("t", "z.bin")), z);
});

Deno.test("e2e: put -r and get -r report every file that fails, copy the others, and fail as a whole", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const tree = local.join("tree");
  await Deno.mkdir(`${tree}/good`, { recursive: true });
  await Deno.mkdir(`${tree}/bad\tdir`);
  const big = new Uint8Array(2 << 20).fill(7); // over 256 KiB: a GET or PUT of its own
  await Deno.writeTextFile(`${tree}/a\nb`, "1");
  await Deno.writeTextFile(`${tree}/good/y.txt`, "2");
  await Deno.writeTextFile(`${tree}/bad\tdir/x.txt`, "3");
  await Deno.writeFile(`${tree}/big\x01one`, big);
  await Deno.writeFile(`${tree}/big-ok`, big);
  await Deno.writeTextFile(`${tree}/z.txt`, "4");
  await using server = await startServe(root.path);
  // No request can carry a name with a control character (the server refuses one): two files
  // and a folder (its file untried), each told by the listing pass.
  const put = await runBftp(["put", "-r", tree, `${server.url}/up`]);
  equal(put.code, 12, put.stderr);
  const putLines = put.stderr.trim().split("\n");
  const unsendable = (name: string) =>
    `bftp: Cannot send "${tree}/${name}": a name with a control character cannot be sent`;
  deepEqual(putLines.slice(0, -1).sort(), [
    unsendable("a\\x0ab"),
    unsendable("bad\\x09dir"),
    unsendable("big\\x01one"),
  ]);
  equal(putLines.at(-1), "bftp: Not everything was uploaded: 3 failures (see above)");
  deepEqual([...Deno.readDirSync(root.join("up"))].map((e) => e.name).sort(), [
    "big-ok",
    "good",
    "z.txt",
  ]);
  deepEqual(await Deno.readFile(root.join("up", "big-ok")), big);
  // Locally, a folder stands where a small file and a large one go: each is told, the rest land
  // (into copy/up, copy being there).
  const copy = local.join("copy", "up");
  await Deno.mkdir(`${copy}/z.txt/keep`, { recursive: true });
  await Deno.mkdir(`${copy}/big-ok/keep`, { recursive: true });
  const get = await runBftp(["get", "-r", `${server.url}/up`, local.join("copy")]);
  equal(get.code, 3, get.stderr);
  deepEqual(get.stderr.trim().split("\n").sort(), [
    `bftp: Cannot write "${copy}/big-ok": is a folder`,
    `bftp: Cannot write "${copy}/z.txt": is a folder`,
    "bftp: Not everything was downloaded: 2 failures (see above)",
  ]);
  equal(await Deno.readTextFile(`${copy}/good/y.txt`), "2");
  deepEqual([...Deno.readDirSync(`${copy}/z.txt`)].map((e) => e.name), ["keep"]);
});

Deno.test("e2e: mv refuses an empty NEWPATH and moves into a folder as mv does", async () => {
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "a");
  await Deno.mkdir(root.join("docs"));
  await using server = await startServe(root.path);
  assertFailure(await runBftp(["mv", `${server.url}/a.txt`, ""]), 2, /NEWPATH is empty/);
  ok0(await runBftp(["mv", `${server.url}/a.txt`, "/docs"]));
  equal(await Deno.readTextFile(root.join("docs", "a.txt")), "a");
  ok0(await runBftp(["mv", `${server.url}/docs/a.txt`, "/"]));
  equal(await Deno.readTextFile(root.join("a.txt")), "a");
});

Deno.test("e2e: -p keeps modification times and permission bits both ways, as scp -p does", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const when = new Date("2020-01-02T03:04:05Z");
  const info = async (path: string) => {
    const i = await Deno.stat(path);
    return [i.mtime?.getTime(), i.mode! & 0o777];
  };
  await Deno.writeTextFile(local.join("up.txt"), "up");
  await Deno.chmod(local.join("up.txt"), 0o640);
  await Deno.utime(local.join("up.txt"), when, when);
  await Deno.mkdir(root.join("tree"));
  await Deno.writeTextFile(root.join("tree", "down.txt"), "down");
  await Deno.chmod(root.join("tree", "down.txt"), 0o600);
  await Deno.utime(root.join("tree", "down.txt"), when, when);
  await using server = await startServe(root.path);

  ok0(await runBftp(["put", "-p", local.join("up.txt"), `${server.url}/`]));
  deepEqual(await info(root.join("up.txt")), [when.getTime(), 0o640]);
  ok0(await runBftp(["put", "-p", "--resume", local.join("up.txt"), `${server.url}/up2.txt`]));
  deepEqual(await info(root.join("up2.txt")), [when.getTime(), 0o640]);
  // Without -p the file is new, as before.
  ok0(await runBftp(["put", local.join("up.txt"), `${server.url}/plain.txt`]));
  ok((await Deno.stat(root.join("plain.txt"))).mtime!.getTime() > when.getTime());

  ok0(await runBftp(["get", "-p", `${server.url}/tree/down.txt`, local.join("down.txt")]));
  deepEqual(await info(local.join("down.txt")), [when.getTime(), 0o600]);
  await Deno.mkdir(root.join("tree", "sub"));
  await Deno.writeTextFile(root.join("tree", "sub", "in.txt"), "in");
  await Deno.chmod(root.join("tree", "sub"), 0o750);
  await Deno.utime(root.join("tree", "sub"), when, when);
  await Deno.utime(root.join("tree"), when, when);
  ok0(await runBftp(["get", "-p", "-r", `${server.url}/tree`, local.join("copy")]));
  deepEqual(await info(local.join("copy", "down.txt")), [when.getTime(), 0o600]);
  // A tree's folders keep their times and bits too, the top's included, as with scp -rp.
  const mtime = async (path: string) => (await Deno.stat(path)).mtime?.getTime();
  deepEqual(await info(local.join("copy", "sub")), [when.getTime(), 0o750]);
  deepEqual(await mtime(local.join("copy")), when.getTime());
  ok0(await runBftp(["put", "-p", "-r", local.join("copy"), `${server.url}/back`]));
  deepEqual(await info(root.join("back", "sub")), [when.getTime(), 0o750]);
  deepEqual(await mtime(root.join("back")), when.getTime());
  deepEqual(await info(root.join("back", "down.txt")), [when.getTime(), 0o600]);
  // Without -p a tree's folders are new.
  ok0(await runBftp(["get", "-r", `${server.url}/tree`, local.join("plain")]));
  ok((await mtime(local.join("plain", "sub")))! > when.getTime());
  ok0(
    await runBftp(["get", "-p", "--resume", `${server.url}/tree/down.txt`, local.join("r.txt")]),
  );
  deepEqual(await info(local.join("r.txt")), [when.getTime(), 0o600]);
});

Deno.test("e2e: recv writes into a FIFO DEST instead of replacing it", async () => {
  await using local = await tempDir();
  await mkfifo(local.join("fifo"));
  const port = closedPort();
  const reading = Deno.readTextFile(local.join("fifo"));
  const receiving = runBftp(["recv", "--listen", String(port), "-q", local.join("fifo")]);
  // The sender retries a refused connection until the receiver listens.
  ok0(await runBftp(["send", `127.0.0.1:${port}`, "-q"], { stdin: "through the pipe\n" }));
  const received = await receiving;
  equal(received.code, 0, received.stderr);
  equal(received.stdout, "");
  equal(await reading, "through the pipe\n");
  ok((await Deno.lstat(local.join("fifo"))).isFifo, "the FIFO is still a FIFO");
});

Deno.test("e2e: Ctrl-C while a FIFO waits for its other end still ends the command (exit 130)", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "a");
  await mkfifo(local.join("nobody-reads"));
  await using server = await startServe(root.path);
  const child = spawnBftp(["get", `${server.url}/a.txt`, local.join("nobody-reads")]);
  const stderr = readText(child.stderr);
  const stdout = readText(child.stdout);
  // Its STAT has been answered (so its Ctrl-C handler is in place); then it opens the FIFO.
  await server.waitForLog(/ STAT "\/a\.txt" ok /);
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  child.kill("SIGINT");
  const status = await child.status;
  equal(status.code, 130);
  equal(await stderr, "bftp: Interrupted\n");
  equal(await stdout, "");
  ok(performance.now() - started < 15_000);
});
