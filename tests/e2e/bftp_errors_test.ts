// End-to-end: exit codes and error lines of the BFTP client commands, and
// failed downloads that must leave no DEST behind.

import { deepEqual, equal, ok } from "node:assert/strict";
import { startFakeBftpServer } from "./fake_bftp_server.ts";
import {
  assertFailure,
  BFTP_BIN,
  closedPort,
  listNames,
  randomBytes,
  runBftp,
  startServe,
  tempDir,
  waitFor,
} from "./helpers.ts";

Deno.test("e2e: bftp exits 10 for a remote path that does not exist", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(root.path);
  const url = `${server.url}/missing.txt`;
  assertFailure(await runBftp(["get", url, local.join("m")]), 10, /"\/missing\.txt" not found/);
  assertFailure(await runBftp(["get", url, "-"]), 10);
  assertFailure(await runBftp(["stat", url]), 10);
  assertFailure(await runBftp(["ls", `${server.url}/nodir/`]), 10);
  assertFailure(await runBftp(["hash", url]), 10);
  assertFailure(await runBftp(["rmdir", url]), 10);
  deepEqual(await listNames(local.path), []);
});

Deno.test("e2e: a path whose folder is missing names the folder, not itself (exit 10)", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "a");
  await Deno.writeTextFile(local.join("b.txt"), "b");
  await using server = await startServe(root.path);
  const gone = /^bftp: Folder "\/nodir\/sub" not found$/;
  // mv into a folder that is not there: the file being moved is there.
  assertFailure(await runBftp(["mv", `${server.url}/a.txt`, "/nodir/sub/"]), 10, gone);
  assertFailure(
    await runBftp(["put", local.join("b.txt"), `${server.url}/nodir/sub/b.txt`]),
    10,
    gone,
  );
  assertFailure(await runBftp(["mkdir", `${server.url}/nodir/sub/c`]), 10, gone);
  assertFailure(await runBftp(["rm", `${server.url}/nodir/sub/b.txt`]), 10, gone);
  deepEqual(await listNames(root.path), ["a.txt"]);
});

Deno.test("e2e: bftp exits 11 when mkdir finds the folder already there", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("there"));
  await using server = await startServe(root.path);
  assertFailure(await runBftp(["mkdir", `${server.url}/there`]), 11, /already exists/);
});

Deno.test("e2e: bftp exits 12 for a path that leaves the served root or is reserved", async () => {
  await using base = await tempDir();
  await Deno.mkdir(base.join("root"));
  await Deno.writeTextFile(base.join("x"), "secret");
  await using server = await startServe(base.join("root"));
  // The URL's path is taken literally: "/../x" is not normalized by the client.
  assertFailure(await runBftp(["get", `${server.url}/../x`, "-"]), 12, /outside the served root/);
  assertFailure(await runBftp(["get", `${server.url}/../x`, base.join("out")]), 12);
  assertFailure(await runBftp(["stat", `${server.url}/a/../../x`]), 12);
  assertFailure(await runBftp(["put", "-", `${server.url}/../y`], { stdin: "no" }), 12);
  assertFailure(await runBftp(["put", "-", `${server.url}/.bftp-tmp-x`], { stdin: "no" }), 12);
  deepEqual(await listNames(base.path), ["root", "x"]);
  deepEqual(await listNames(base.join("root")), []);
});

Deno.test("e2e: bftp exits 14 when rmdir finds the folder not empty", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("full"));
  await Deno.writeTextFile(root.join("full", "f"), "f");
  await using server = await startServe(root.path);
  assertFailure(await runBftp(["rmdir", `${server.url}/full`]), 14, /not empty/);
  deepEqual(await listNames(root.join("full")), ["f"]);
});

Deno.test("e2e: a read-only server refuses changes with exit 15 and still serves", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("keep.txt"), "kept");
  await Deno.mkdir(root.join("dir"));
  await Deno.writeTextFile(local.join("up.txt"), "up");
  await using server = await startServe(root.path, ["--read-only"]);
  await waitFor(() => server.stderrText().includes("(read-only)"), "the read-only log line");
  assertFailure(await runBftp(["put", local.join("up.txt"), `${server.url}/up.txt`]), 15);
  assertFailure(await runBftp(["put", "-", `${server.url}/keep.txt`], { stdin: "x" }), 15);
  assertFailure(await runBftp(["rm", `${server.url}/keep.txt`]), 15);
  assertFailure(await runBftp(["mkdir", `${server.url}/new`]), 15);
  assertFailure(await runBftp(["rmdir", `${server.url}/dir`]), 15);
  assertFailure(await runBftp(["mv", `${server.url}/keep.txt`, "moved.txt"]), 15);
  deepEqual(await listNames(root.path), ["dir", "keep.txt"]);
  const get = await runBftp(["get", `${server.url}/keep.txt`, "-"]);
  equal(get.code, 0, get.stderr);
  equal(get.stdout, "kept");
});

Deno.test("e2e: bftp exits 4 when nothing listens on the port", async () => {
  await using local = await tempDir();
  const url = `bftp://127.0.0.1:${closedPort()}`;
  assertFailure(await runBftp(["get", `${url}/a`, local.join("a")]), 4, /connection refused/);
  assertFailure(await runBftp(["ls", `${url}/`]), 4);
  await Deno.writeTextFile(local.join("up"), "up");
  assertFailure(await runBftp(["put", local.join("up"), `${url}/up`]), 4);
  deepEqual(await listNames(local.path), ["up"]);
});

Deno.test("e2e: bftp exits 2 for a URL it cannot parse", async () => {
  for (
    const url of [
      "http://127.0.0.1/a",
      "bftp:/127.0.0.1/a",
      "bftp://",
      "bftp://127.0.0.1:99999/a",
      "bftp://127.0.0.1:0/a",
      "bftp://host:port/a",
      "127.0.0.1:2121/a",
    ]
  ) {
    assertFailure(await runBftp(["ls", url]), 2, /URL|port/);
    assertFailure(await runBftp(["get", url, "-"]), 2);
  }
});

Deno.test("e2e: bftp put exits 3 for a missing local file", async () => {
  await using local = await tempDir();
  assertFailure(
    await runBftp(["put", local.join("nope"), `bftp://127.0.0.1:${closedPort()}/x`]),
    3,
    /not found/,
  );
});

Deno.test("e2e: bftp get exits 3 when DEST's folder does not exist", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "a");
  await using server = await startServe(root.path);
  assertFailure(
    await runBftp(["get", `${server.url}/a.txt`, local.join("no", "such", "a.txt")]),
    3,
    /not found/,
  );
  deepEqual(await listNames(local.path), []);
});

Deno.test("e2e: a download with a wrong checksum exits 6 and leaves no DEST", async () => {
  await using local = await tempDir();
  const content = randomBytes(200_000);
  await using fake = startFakeBftpServer(content, "bad-hash");
  await Deno.mkdir(local.join("new"));
  assertFailure(
    await runBftp(["get", `${fake.url}/file.bin`, local.join("new", "file.bin")]),
    6,
    /Checksum mismatch/,
  );
  deepEqual(await listNames(local.join("new")), []);
  // Into a folder, and with the default DEST in the cwd.
  assertFailure(await runBftp(["get", `${fake.url}/file.bin`, local.join("new")]), 6);
  assertFailure(await runBftp(["get", `${fake.url}/file.bin`], { cwd: local.join("new") }), 6);
  deepEqual(await listNames(local.join("new")), []);
  // An existing DEST keeps its old content.
  await Deno.writeTextFile(local.join("old.bin"), "old");
  assertFailure(await runBftp(["get", `${fake.url}/old.bin`, local.join("old.bin")]), 6);
  equal(await Deno.readTextFile(local.join("old.bin")), "old");
  deepEqual(await listNames(local.path), ["new", "old.bin"]);
  // To stdout the bytes have already gone out; the exit code still tells.
  const piped = await runBftp(["get", `${fake.url}/file.bin`, "-"]);
  equal(piped.code, 6, piped.stderr);
  equal(piped.stderr.split("\n").length, 2, piped.stderr);
  ok(fake.requests.includes("GET /file.bin"), fake.requests.join(", "));
});

Deno.test("e2e: a download cut off mid-body exits 4 and leaves no DEST", async () => {
  await using local = await tempDir();
  await using fake = startFakeBftpServer(randomBytes(300_000), "cut");
  assertFailure(
    await runBftp(["get", `${fake.url}/cut.bin`, local.join("cut.bin")]),
    4,
    /Connection closed/,
  );
  await Deno.writeTextFile(local.join("old.bin"), "old");
  assertFailure(await runBftp(["get", `${fake.url}/cut.bin`, local.join("old.bin")]), 4);
  equal(await Deno.readTextFile(local.join("old.bin")), "old");
  deepEqual(await listNames(local.path), ["old.bin"]);
});

Deno.test("e2e: a full disk on stdout is the output's error (exit 3), not an internal one", async () => {
  // Found by an audit: 'bftp recv ... > /dev/full' (and http-get, and --version) said
  // "Internal error: No space left on device", exit 1.
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("a.txt"), "hello");
  await using server = await startServe(dir.path);
  for (const args of [["--version"], ["get", "-q", `${server.url}/a.txt`, "-"]]) {
    const quoted = [BFTP_BIN, ...args].map((a) => `'${a}'`).join(" ");
    const run = await new Deno.Command("sh", {
      args: ["-c", `${quoted} > /dev/full`],
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    equal(run.code, 3, stderr);
    equal(stderr, "bftp: Cannot write to the output: No space left on device (os error 28)\n");
  }
});
