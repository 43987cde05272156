/**
 * End-to-end: `bftp get --resume` and `bftp put --resume`. A cut transfer
 * is made by a fake peer that stops halfway (a fake server for downloads, a
 * raw client for uploads), then the real commands continue it.
 *
 * @module
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { runInTerminal } from "./terminal.ts";
import { frame, hexBytes, startScriptedBftpServer } from "./fake_bftp_server.ts";
import {
  assertFailure,
  cutResumableUpload,
  findTemporaries,
  listNames,
  randomBytes,
  runBftp,
  type ServeHandle,
  sha256File,
  spawnBftp,
  startServe,
  type TempDir,
  tempDir,
  waitFor,
} from "./helpers.ts";
import { sha256 } from "../helpers.ts";

/** 2026-01-01T00:00:00Z, in seconds. */
const MTIME = 1767225600;

/**
 * A fake server that answers one session's GET with the file's true size
 * and time, then sends only the first `cut` bytes of the body and hangs up.
 */
function cuttingServer(data: Uint8Array, cut: number, options: { withHash?: boolean } = {}) {
  return startScriptedBftpServer(
    async (req, send) => {
      if (req.op === "GET") {
        await send(frame({
          ok: true,
          size: data.byteLength,
          mtime: MTIME * 1000,
          ...(options.withHash ? { sha256: sha256(data) } : {}),
        }));
        await send(hexBytes(data.byteLength, 16));
        await send(data.subarray(0, cut));
        return "close";
      }
      if (req.op === "QUIT") return;
      // STAT, for the client's check that the URL is a file.
      const entry = {
        name: "big.bin",
        type: "file",
        size: data.byteLength,
        mtime: MTIME * 1000,
        mode: 420,
      };
      await send(frame({ ok: true, entry }));
      return;
    },
    frame({ ok: true, version: 1, server: "fake", readOnly: false }),
  );
}

Deno.test("e2e: get --resume continues a cut download and checks the whole file", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const data = randomBytes(6_000_000);
  await Deno.writeFile(dir.join("root", "big.bin"), data);
  await Deno.utime(dir.join("root", "big.bin"), MTIME, MTIME);
  const CUT = 2_500_000;
  {
    await using fake = cuttingServer(data, CUT);
    const cut = await runBftp(["get", "--resume", `${fake.url}/big.bin`, dir.join("big.bin")]);
    assertFailure(cut, 4, /Connection closed/);
  }
  // The part that arrived is kept beside DEST, with its state; there is no DEST yet.
  deepEqual(await listNames(dir.path), [
    ".big.bin.bftp-partial",
    ".big.bin.bftp-partial.json",
    "root",
  ]);
  equal((await Deno.stat(dir.join(".big.bin.bftp-partial"))).size, CUT);
  await using server = await startServe(dir.join("root"));
  // -a, as sftp's get -a, is --resume.
  const resumed = await runBftp(["get", "-a", `${server.url}/big.bin`, dir.join("big.bin")]);
  equal(resumed.code, 0, resumed.stderr);
  equal(await sha256File(dir.join("big.bin")), sha256(data));
  deepEqual(await listNames(dir.path), ["big.bin", "root"]);
  // Only the rest was sent.
  await server.waitForLog(new RegExp(`GET "/big.bin" from ${CUT} ok ${6_000_000 - CUT}B`));
});

Deno.test("e2e terminal: a resumed download says where it resumes and shows the whole file", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const data = randomBytes(6_000_000);
  await Deno.writeFile(dir.join("root", "big.bin"), data);
  await Deno.utime(dir.join("root", "big.bin"), MTIME, MTIME);
  {
    await using fake = cuttingServer(data, 2_500_000);
    equal((await runBftp(["get", "--resume", `${fake.url}/big.bin`, dir.join("big.bin")])).code, 4);
  }
  await using server = await startServe(dir.join("root"));
  const r = await runInTerminal(["get", "--resume", `${server.url}/big.bin`, dir.join("big.bin")]);
  equal(r.code, 0, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  deepEqual(shown.length, 2, shown.join("\n"));
  deepEqual(shown[0], "resuming at 2.4 MiB");
  ok(shown[1]!.startsWith("big.bin  5.7 MiB / 5.7 MiB (100%)"), shown[1]);
});

Deno.test("e2e: get --resume goes on after a mere touch of the remote file (same SHA-256), not after a change", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const data = randomBytes(2_000_000);
  const CUT = 700_000;
  for (const dest of ["touched.bin", "changed.bin"]) {
    await using fake = cuttingServer(data, CUT, { withHash: true });
    const cut = await runBftp(["get", "--resume", `${fake.url}/big.bin`, dir.join(dest)]);
    equal(cut.code, 4, cut.stderr);
  }
  // The real server has the same bytes with a new time (a touch).
  await Deno.writeFile(dir.join("root", "big.bin"), data);
  await using server = await startServe(dir.join("root"));
  const resumed = await runBftp([
    "get",
    "--resume",
    `${server.url}/big.bin`,
    dir.join("touched.bin"),
  ]);
  equal(resumed.code, 0, resumed.stderr);
  equal(await sha256File(dir.join("touched.bin")), sha256(data));
  await server.waitForLog(new RegExp(`GET "/big.bin" from ${CUT} ok ${2_000_000 - CUT}B`));
  // Same size, other bytes: refused as before.
  const other = randomBytes(2_000_000);
  await Deno.writeFile(dir.join("root", "big.bin"), other);
  assertFailure(
    await runBftp(["get", "--resume", `${server.url}/big.bin`, dir.join("changed.bin")]),
    9,
    /changed on the server/,
  );
});

Deno.test("e2e: get --resume of a file that changed meanwhile is refused with exit 9, then starts afresh", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const data = randomBytes(1_000_000);
  {
    await using fake = cuttingServer(data, 400_000);
    const cut = await runBftp(["get", "--resume", `${fake.url}/big.bin`, dir.join("out.bin")]);
    equal(cut.code, 4, cut.stderr);
  }
  // On the real server the file is another version (same name, other size and time).
  const changed = randomBytes(1_000_001);
  await Deno.writeFile(dir.join("root", "big.bin"), changed);
  await using server = await startServe(dir.join("root"));
  const refused = await runBftp(["get", "--resume", `${server.url}/big.bin`, dir.join("out.bin")]);
  assertFailure(refused, 9, /changed on the server/);
  deepEqual(await listNames(dir.path), ["root"]);
  await server.waitForLog(/GET "\/big.bin" from 400000 CHANGED/);
  const again = await runBftp(["get", "--resume", `${server.url}/big.bin`, dir.join("out.bin")]);
  equal(again.code, 0, again.stderr);
  equal(await sha256File(dir.join("out.bin")), sha256(changed));
});

Deno.test("e2e: get without --resume leaves nothing behind when cut; --resume is not for stdout", async () => {
  await using dir = await tempDir();
  const data = randomBytes(500_000);
  {
    await using fake = cuttingServer(data, 100_000);
    const cut = await runBftp(["get", "-q", `${fake.url}/big.bin`, dir.join("x.bin")]);
    equal(cut.code, 4, cut.stderr);
    // Sizes for people, and how to keep what arrives next time.
    equal(
      cut.stderr,
      'bftp: Connection closed after 97.7 KiB of 488.3 KiB of "/big.bin"; nothing was kept: ' +
        '"get --resume" keeps what arrives and continues from there\n',
    );
  }
  deepEqual(await listNames(dir.path), []);
  assertFailure(
    await runBftp(["get", "--resume", "bftp://127.0.0.1:1/x", "-"]),
    2,
    /Cannot resume a download to stdout/,
  );
});

Deno.test("e2e: get --resume never writes through a link planted as its partial or state file", async () => {
  // Found by a security audit: in a folder others can write to, a link at
  // .NAME.bftp-partial (or its .json) sent the download into the file it pointed to, and DEST
  // became that link.
  await using root = await tempDir();
  await using local = await tempDir();
  const data = randomBytes(200_000);
  await Deno.writeFile(root.join("big.bin"), data);
  await using server = await startServe(root.path);
  for (const planted of [".big.bin.bftp-partial", ".big.bin.bftp-partial.json"]) {
    const folder = local.join(planted.endsWith(".json") ? "state" : "part");
    await Deno.mkdir(folder);
    const victim = local.join(`victim-${planted}`);
    await Deno.writeTextFile(victim, "VICTIM");
    await Deno.symlink(victim, `${folder}/${planted}`);
    const result = await runBftp([
      "get",
      "--resume",
      "-q",
      `${server.url}/big.bin`,
      `${folder}/big.bin`,
    ]);
    equal(result.code, 0, result.stderr);
    equal(await Deno.readTextFile(victim), "VICTIM", planted);
    equal((await Deno.lstat(`${folder}/big.bin`)).isFile, true, planted);
    deepEqual(await Deno.readFile(`${folder}/big.bin`), data);
  }
});

/**
 * A served folder `root` in `dir` holding a resumable upload to /up.bin of
 * `src.bin` (`size` random bytes) cut after `part` bytes, of `sent(data)`
 * when given (a kept part that is not the file's), else of the file's own.
 */
async function cutUpload(
  dir: TempDir,
  size: number,
  part: number,
  sent: (data: Uint8Array) => Uint8Array = (data) => data,
): Promise<{ data: Uint8Array; server: ServeHandle }> {
  await Deno.mkdir(dir.join("root"));
  const data = randomBytes(size);
  await Deno.writeFile(dir.join("src.bin"), data);
  const server = await startServe(dir.join("root"));
  await cutResumableUpload(server.url, "/up.bin", data, part, sent(data));
  await server.waitForLog(/PUT "\/up.bin" \(resumable\) CONNECTION/);
  return { data, server };
}

Deno.test("e2e: put --resume continues an upload that was cut, from what the server kept", async () => {
  await using dir = await tempDir();
  const cut = await cutUpload(dir, 5_000_000, 3_000_000);
  const data = cut.data;
  await using server = cut.server;
  // Hidden from LIST, kept on disk.
  const ls = await runBftp(["ls", `${server.url}/`]);
  equal(ls.stdout, "");
  equal((await findTemporaries(dir.join("root"))).length, 1);
  const resumed = await runBftp(["put", "-a", dir.join("src.bin"), `${server.url}/up.bin`]);
  equal(resumed.code, 0, resumed.stderr);
  equal(await sha256File(dir.join("root", "up.bin")), sha256(data));
  deepEqual(await findTemporaries(dir.join("root")), []);
  // -a, as sftp's put -a, is --resume.
  await server.waitForLog(/PUT "\/up.bin" resuming at 3000000 of 5000000 bytes/);
  await server.waitForLog(/PUT "\/up.bin" \(resumable\) ok 2000000B/);
});

Deno.test("e2e terminal: a resumed upload says where it resumes and its line reaches the whole file", async () => {
  await using dir = await tempDir();
  const cut = await cutUpload(dir, 5_000_000, 3_000_000);
  const data = cut.data;
  await using server = cut.server;
  const r = await runInTerminal(["put", "--resume", dir.join("src.bin"), `${server.url}/up.bin`]);
  equal(r.code, 0, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  deepEqual(shown.length, 2, shown.join("\n"));
  deepEqual(shown[0], "resuming at 2.9 MiB");
  ok(shown[1]!.startsWith("src.bin  4.8 MiB / 4.8 MiB (100%)"), shown[1]);
  equal(await sha256File(dir.join("root", "up.bin")), sha256(data));
});

Deno.test("e2e: put --resume onto a kept part that is not the file's fails its check (exit 6), says the part is gone, and the next run sends it whole", async () => {
  await using dir = await tempDir();
  // The part the server keeps has other bytes than the file it is announced as.
  const cut = await cutUpload(dir, 3_000_000, 1_000_000, (data) => data.map((b) => b ^ 0xff));
  const data = cut.data;
  await using server = cut.server;
  const failed = await runBftp(["put", "--resume", dir.join("src.bin"), `${server.url}/up.bin`]);
  assertFailure(failed, 6, /the server dropped the part it had kept; "put --resume" again sends/);
  deepEqual(await findTemporaries(dir.join("root")), []);
  const again = await runBftp(["put", "--resume", dir.join("src.bin"), `${server.url}/up.bin`]);
  equal(again.code, 0, again.stderr);
  equal(await sha256File(dir.join("root", "up.bin")), sha256(data));
});

Deno.test("e2e: put --resume of a changed source starts over instead of continuing", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const first = randomBytes(2_000_000);
  await using server = await startServe(dir.join("root"));
  await cutResumableUpload(server.url, "/doc.bin", first, 1_500_000);
  await server.waitForLog(/PUT "\/doc.bin" \(resumable\) CONNECTION/);
  // The source changed since (same size, other bytes): nothing of the cut upload is used.
  const second = randomBytes(2_000_000);
  await Deno.writeFile(dir.join("src.bin"), second);
  const put = await runBftp(["put", "--resume", dir.join("src.bin"), `${server.url}/doc.bin`]);
  equal(put.code, 0, put.stderr);
  equal(await sha256File(dir.join("root", "doc.bin")), sha256(second));
  await server.waitForLog(/PUT "\/doc.bin" \(resumable\) ok 2000000B/);
  equal(server.logLines(/resuming at/).length, 0);
  assertFailure(
    await runBftp(["put", "--resume", "-", `${server.url}/x`], { stdin: "x" }),
    2,
    /Cannot resume an upload from stdin/,
  );
});

Deno.test("e2e: a resumable upload survives a server restart", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const data = randomBytes(3_000_000);
  await Deno.writeFile(dir.join("src.bin"), data);
  {
    await using server = await startServe(dir.join("root"));
    await cutResumableUpload(server.url, "/r.bin", data, 1_000_000);
    await server.waitForLog(/PUT "\/r.bin" \(resumable\) CONNECTION/);
  }
  // A fresh resumable upload is not one of the "temporaries left by a crash".
  await using server = await startServe(dir.join("root"));
  const put = await runBftp(["put", "--resume", dir.join("src.bin"), `${server.url}/r.bin`]);
  equal(put.code, 0, put.stderr);
  equal(await sha256File(dir.join("root", "r.bin")), sha256(data));
  await server.waitForLog(/PUT "\/r.bin" resuming at 1000000 of 3000000 bytes/);
});

Deno.test("e2e: the shell's reget and reput (get -a, put -a) continue cut transfers, as sftp's do", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const data = randomBytes(4_000_000);
  await Deno.writeFile(dir.join("root", "big.bin"), data);
  await Deno.utime(dir.join("root", "big.bin"), MTIME, MTIME);
  await Deno.writeFile(dir.join("src.bin"), data);
  {
    await using fake = cuttingServer(data, 1_500_000);
    const cut = await runBftp(["shell", fake.url], { stdin: `lcd ${dir.path}\nget -a big.bin\n` });
    equal(cut.code, 4, cut.stderr);
  }
  equal((await Deno.stat(dir.join(".big.bin.bftp-partial"))).size, 1_500_000);
  await using server = await startServe(dir.join("root"));
  await cutResumableUpload(server.url, "/up.bin", data, 2_500_000);
  await server.waitForLog(/PUT "\/up.bin" \(resumable\) CONNECTION/);
  const shell = await runBftp(["shell", server.url], {
    stdin: `lcd ${dir.path}\nreget big.bin\nreput src.bin up.bin\n`,
  });
  equal(shell.code, 0, shell.stderr);
  equal(await sha256File(dir.join("big.bin")), sha256(data));
  equal(await sha256File(dir.join("root", "up.bin")), sha256(data));
  // Only the rest went, each way (the shell's paths are relative to its folder).
  await server.waitForLog(/GET "big.bin" from 1500000 ok 2500000B/);
  await server.waitForLog(/PUT "\/up.bin" resuming at 2500000 of 4000000 bytes/);
});

Deno.test("e2e: get -r --resume run again into the DEST its cut run made goes on there, not into DEST/NAME", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root", "st"), { recursive: true });
  const files = [1, 2, 3].map((i) => randomBytes(1_500_000 + i));
  for (const [i, data] of files.entries()) {
    await Deno.writeFile(dir.join("root", "st", `f${i}`), data);
  }
  await using server = await startServe(dir.join("root"));
  const dest = dir.join("rr");
  const args = ["get", "-r", "--resume", "-q", `${server.url}/st`, dest];
  // Slow enough to be cut in the middle of a file: its partial file and state are kept.
  const cut = spawnBftp([...args, "--limit-rate", "1M"]);
  // A partial file with bytes in it (its state file alone may come before any byte: cut then,
  // nothing is left to go on from).
  await waitFor(async () => {
    const names: string[] = await listNames(dest).catch(() => []);
    for (const name of names.filter((n) => n.endsWith(".bftp-partial"))) {
      const size = await Deno.stat(`${dest}/${name}`).then((i) => i.size, () => 0);
      if (size > 0 && names.includes(`${name}.json`)) return true;
    }
    return false;
  }, "a partial download with bytes in DEST");
  cut.kill("SIGINT");
  equal((await cut.output()).code, 130);
  const again = await runBftp(args);
  equal(again.code, 0, again.stderr);
  for (const [i, data] of files.entries()) {
    equal(await sha256File(dir.join("rr", `f${i}`)), sha256(data));
  }
  // Nothing nested, no partial left; the cut file went on from what had arrived.
  deepEqual(await listNames(dest), ["f0", "f1", "f2"]);
  ok(server.logLines(/GET "\/st\/f\d" from [1-9]\d* ok/).length >= 1, server.logLines().join("\n"));
});

Deno.test("e2e: get -r --resume run again goes on in DEST when the cut file was in a folder of the tree", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root", "st", "sub"), { recursive: true });
  const big = randomBytes(3_000_000);
  await Deno.writeTextFile(dir.join("root", "st", "small.txt"), "small");
  await Deno.writeFile(dir.join("root", "st", "sub", "big"), big);
  await using server = await startServe(dir.join("root"));
  const dest = dir.join("rr");
  const args = ["get", "-r", "--resume", "-q", `${server.url}/st`, dest];
  const cut = spawnBftp([...args, "--limit-rate", "1M"]);
  // Some bytes in: the run again goes on from them.
  await waitFor(async () => {
    const partial = await Deno.stat(dir.join("rr", "sub", ".big.bftp-partial")).catch(() => null);
    return (partial?.size ?? 0) > 0;
  }, "a partial download in DEST/sub");
  cut.kill("SIGINT");
  equal((await cut.output()).code, 130);
  const again = await runBftp(args);
  equal(again.code, 0, again.stderr);
  equal(await sha256File(dir.join("rr", "sub", "big")), sha256(big));
  deepEqual(await listNames(dest), ["small.txt", "sub"]);
  deepEqual(await listNames(dir.join("rr", "sub")), ["big"]);
  ok(
    server.logLines(/GET "\/st\/sub\/big" from [1-9]\d* ok/).length === 1,
    server.logLines().join("\n"),
  );
});

Deno.test("e2e: get --resume refused by the server leaves no partial file", async () => {
  await using dir = await tempDir();
  // The file is there, and the server will not send it (a file it cannot read).
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "STAT") {
      await send(
        frame({ ok: true, entry: { name: "f", type: "file", size: 4, mtime: 0, mode: 0o600 } }),
      );
    } else if (req.op !== "QUIT") {
      await send(frame({ ok: false, code: "DENIED", message: '"/f": permission denied' }));
    }
  });
  const refused = await runBftp(["get", "--resume", `${server.url}/f`, dir.join("out")]);
  equal(refused.code, 15, refused.stderr);
  deepEqual(await listNames(dir.path), []);
});
