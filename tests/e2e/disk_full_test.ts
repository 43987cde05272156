// End-to-end: a full disk, on either side. The test mounts a 4 MiB tmpfs (it
// must run as root; otherwise, or when mount is not allowed here, the tests are
// skipped and their names say why). An upload that does not fit fails with a
// clear NO_SPACE error (exit 17), removes its temporary file, leaves the old
// file intact, and the session and the server go on; a download that does not
// fit fails with LOCAL_IO (exit 3) at once, and leaves DEST as it was.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { RemoteError } from "../../lib/errors.ts";
import { MemoryReader } from "../framing/helpers.ts";
import { recordFigures } from "../proof_figures.ts";
import { frame, hexBytes, startScriptedBftpServer } from "./fake_bftp_server.ts";
import {
  assertFailure,
  findTemporaries,
  listNames,
  randomBytes,
  readTree,
  runBftp,
  type RunBftpResult,
  sha256File,
  startServe,
  tempDir,
  writeRandomFile,
} from "./helpers.ts";

const TMPFS_SIZE = "4m";

async function mount(dir: string, size = TMPFS_SIZE): Promise<void> {
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
}

/** Gives a mounted tmpfs a new size (room made, its files kept). */
async function remount(dir: string, size: string): Promise<void> {
  const out = await new Deno.Command("mount", {
    args: ["-o", `remount,size=${size}`, dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
}

async function umount(dir: string): Promise<void> {
  const out = await new Deno.Command("umount", { args: [dir], stderr: "piped" }).output();
  if (!out.success) {
    // Busy (a process still holds a file): detach it now, it goes when released.
    await new Deno.Command("umount", { args: ["-l", dir], stderr: "null" }).output();
  }
}

/** Why the tests cannot run here, or `null` when a tmpfs can be mounted. */
async function whyNoTmpfs(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) return "needs root to mount a tmpfs";
  await using probe = await tempDir({ prefix: "bftp-tmpfs-probe-" });
  try {
    await mount(probe.path, "64k");
    await umount(probe.path);
    return null;
  } catch (e) {
    return `cannot mount a tmpfs here: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const skip = await whyNoTmpfs();
const skipped = skip === null ? "" : ` (skipped: ${skip})`;

/** A temporary folder with a fresh 4 MiB tmpfs mounted on it; disposing unmounts it. */
async function smallDisk(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await tempDir({ prefix: "bftp-small-disk-" });
  await mount(dir.path);
  return {
    path: dir.path,
    async [Symbol.asyncDispose]() {
      await umount(dir.path);
      await dir[Symbol.asyncDispose]();
    },
  };
}

async function freeBytes(dir: string): Promise<number> {
  const out = await new Deno.Command("df", { args: ["-B1", "--output=avail", dir] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim().split("\n").pop());
}

Deno.test({
  name:
    `e2e: an upload into a full 4 MiB disk fails with NO_SPACE, removes its temporary, keeps the old file${skipped}`,
  ignore: skip !== null,
  async fn() {
    await using disk = await smallDisk();
    await using local = await tempDir();
    const oldHash = await writeRandomFile(`${disk.path}/old.bin`, 1 << 20);
    await writeRandomFile(local.join("big.bin"), 8 << 20);
    const freeBefore = await freeBytes(disk.path);
    await using server = await startServe(disk.path);

    // A file of known size, over an existing file and to a new name, and a stream from stdin.
    for (const name of ["old.bin", "new.bin"]) {
      const result = await runBftp(["put", "-q", local.join("big.bin"), `${server.url}/${name}`]);
      assertFailure(result, 17, /No space left on the server for "\/[a-z]+\.bin"/);
    }
    const streamed = await runBftp(["put", "-q", "-", `${server.url}/old.bin`], {
      stdin: randomBytes(8 << 20),
    });
    assertFailure(streamed, 17, /No space left on the server/);

    deepEqual(await listNames(disk.path), ["old.bin"]);
    deepEqual(await findTemporaries(disk.path), []);
    equal(await sha256File(`${disk.path}/old.bin`), oldHash);
    // The space the temporaries took is free again.
    const freeAfter = await freeBytes(disk.path);
    equal(freeAfter, freeBefore);
    await server.waitForLog(/ PUT "\/old\.bin" NO_SPACE /, 2);

    // The session goes on after NO_SPACE (the body was read to its end), and the server too.
    const port = Number(server.url.split(":").pop());
    using client = await BftpClient.connect({ hostname: "127.0.0.1", port });
    const big = randomBytes(6 << 20);
    await rejects(
      client.put("/new.bin", new MemoryReader(big, [1 << 20]), { size: big.byteLength }),
      (e) => e instanceof RemoteError && e.code === "NO_SPACE",
    );
    equal(await client.pwd(), "/");
    const small = randomBytes(100_000);
    await client.put("/small.bin", new MemoryReader(small), { size: small.byteLength });
    deepEqual(await Deno.readFile(`${disk.path}/small.bin`), small);
    const get = await runBftp(["get", "-q", `${server.url}/old.bin`, local.join("old.bin")]);
    equal(get.code, 0, get.stderr);
    equal(await sha256File(local.join("old.bin")), oldHash);
    ok(!server.stderrText().includes("internal error"), server.stderrText());
    await recordFigures("disk full, upload", {
      diskBytes: 4 << 20,
      refusedUploads: 4,
      freeBytesBefore: freeBefore,
      freeBytesAfter: freeAfter,
      temporariesLeft: 0,
    });
  },
});

Deno.test({
  name:
    `e2e: a download into a full 4 MiB disk fails with LOCAL_IO at once and leaves DEST as it was${skipped}`,
  ignore: skip !== null,
  async fn() {
    await using disk = await smallDisk();
    await using root = await tempDir();
    await writeRandomFile(root.join("big.bin"), 8 << 20);
    await using server = await startServe(root.path);
    const dest = `${disk.path}/big.bin`;
    assertFailure(await runBftp(["get", "-q", `${server.url}/big.bin`, dest]), 3, /no space left/i);
    deepEqual(await listNames(disk.path), []);
    await Deno.writeTextFile(dest, "old");
    assertFailure(await runBftp(["get", "-q", `${server.url}/big.bin`, dest]), 3, /no space left/i);
    equal(await Deno.readTextFile(dest), "old");
    deepEqual(await listNames(disk.path), ["big.bin"]);

    // A hostile server announcing 2^53 - 1 bytes and sending for as long as it is read: the
    // client stops at the first failed write instead of draining the rest.
    let sent = 0;
    await using hostile = startScriptedBftpServer(async (req, send) => {
      if (req.op === "STAT") {
        const entry = { name: "x", type: "file", size: 1, mtime: 0, mode: 0o644 };
        await send(frame({ ok: true, entry }));
      } else if (req.op === "GET") {
        const size = Number.MAX_SAFE_INTEGER;
        await send(frame({ ok: true, size, mtime: 0 }));
        await send(hexBytes(size, 16));
        const chunk = new Uint8Array(1 << 20);
        while (sent < 1 << 30) {
          await send(chunk);
          sent += chunk.byteLength;
        }
        return "close";
      }
      return undefined;
    });
    const started = performance.now();
    assertFailure(await runBftp(["get", "-q", `${hostile.url}/x`, `${disk.path}/x`]), 3);
    const seconds = (performance.now() - started) / 1000;
    await hostile.close();
    ok(sent < 64 << 20, `the client read ${sent} bytes after its disk was full`);
    ok(seconds < 10, `${seconds} s`);
    deepEqual(await listNames(disk.path), ["big.bin"]);
    await recordFigures("disk full, download", {
      diskBytes: 4 << 20,
      endlessSenderBytesSentBeforeTheClientStopped: sent,
      clientSeconds: Number(seconds.toFixed(2)),
    });
  },
});

Deno.test({
  name:
    `e2e: a tree of small files into a full 4 MiB disk: each file that does not fit fails with NO_SPACE, the others land whole${skipped}`,
  ignore: skip !== null,
  async fn() {
    await using disk = await smallDisk();
    await using local = await tempDir();
    // 400 files of 16 KiB (6.25 MiB), 64 to an MPUT, each read whole by the server before it
    // is written: the disk fills part-way.
    const hashes = new Map<string, string>();
    await Deno.mkdir(local.join("tree"));
    for (let i = 0; i < 400; i++) {
      const name = `f${String(i).padStart(3, "0")}.bin`;
      hashes.set(name, await writeRandomFile(local.join("tree", name), 16 << 10));
    }
    await using server = await startServe(disk.path);
    const result = await runBftp(["put", "-r", "-q", local.join("tree"), `${server.url}/tree`]);
    assertFailure(result, 17, /No space left on the server/);
    const landed = await listNames(`${disk.path}/tree`);
    ok(landed.length > 0 && landed.length < 400, `${landed.length} files landed`);
    for (const name of landed) {
      equal(await sha256File(`${disk.path}/tree/${name}`), hashes.get(name), name);
    }
    deepEqual(await findTemporaries(disk.path), []);
    await server.waitForLog(/ PUT "\/tree\/f\d+\.bin" NO_SPACE/, 1);
    ok(!server.stderrText().includes("internal error"), server.stderrText());
    // The server goes on: a file that fits still lands.
    await Deno.remove(`${disk.path}/tree`, { recursive: true });
    const again = await runBftp([
      "put",
      "-q",
      local.join("tree", "f000.bin"),
      `${server.url}/one.bin`,
    ]);
    equal(again.code, 0, again.stderr);
  },
});

/** A tree of `count` random 16 KiB files in three folders: 15.6 MiB for 1,000, past the disk. */
async function smallFilesTree(dir: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const folder = `${dir}/d${i % 3}`;
    await Deno.mkdir(folder, { recursive: true });
    await writeRandomFile(`${folder}/f${String(i).padStart(3, "0")}.bin`, 16 << 10);
  }
}

/** Each file of `copy` is the source's, byte for byte; returns how many there are. */
async function landedWhole(source: string, copy: string): Promise<number> {
  const want = await readTree(source);
  let files = 0;
  for (const [path, content] of await readTree(copy)) {
    if (content === "dir") continue;
    deepEqual(content, want.get(path), path);
    files++;
  }
  return files;
}

/**
 * Checks a sync stopped by a full disk: its two lines on stderr and its JSON counts, at most
 * `maxFailed` of them failed.
 */
function assertStopped(
  result: RunBftpResult,
  code: number,
  files: number,
  maxFailed = files,
): number {
  const context = `exit ${result.code}, stderr: ${JSON.stringify(result.stderr.slice(0, 600))}`;
  equal(result.code, code, context);
  const lines = result.stderr.trimEnd().split("\n");
  // The full disk told once (not once a file), then why the sync stopped.
  equal(lines.length, 2, context);
  ok(/no space left/i.test(lines[0]!), context);
  ok(
    /^bftp: Stopped: no space left \(.*\d+ files? not tried\); run the sync again/.test(lines[1]!),
  );
  const report = JSON.parse(result.stdout);
  ok(report.failed >= 1 && report.notTried > 0, result.stdout.slice(0, 300));
  equal(report.sent + report.failed + report.notTried, files);
  equal(report.errors.length, report.failed);
  ok(report.failed <= maxFailed, `failed ${report.failed}`);
  return report.sent;
}

Deno.test({
  name:
    `e2e: a sync pull into a full 4 MiB disk stops there, tells it once, leaves no part, and a second run finishes${skipped}`,
  ignore: skip !== null,
  async fn() {
    await using disk = await smallDisk();
    await using root = await tempDir();
    await smallFilesTree(root.join("tree"), 1000);
    await using server = await startServe(root.path);
    const dest = `${disk.path}/copy`;
    const first = await runBftp(["sync", "--json", `${server.url}/tree`, dest]);
    // The files still on their way when the disk filled are not tried, not failed one by one.
    const sent = assertStopped(first, 3, 1000, 8);
    equal(await landedWhole(root.join("tree"), dest), sent);
    deepEqual(await findTemporaries(disk.path), []);
    // Room made: the same sync sends the rest, and the trees are the same.
    await remount(disk.path, "32m");
    const second = await runBftp(["sync", "-q", `${server.url}/tree`, dest]);
    equal(second.code, 0, second.stderr);
    deepEqual(await readTree(dest), await readTree(root.join("tree")));
  },
});

Deno.test({
  name:
    `e2e: a sync push to a server on a full 4 MiB disk stops at NO_SPACE (exit 17), and a second run finishes${skipped}`,
  ignore: skip !== null,
  async fn() {
    await using disk = await smallDisk();
    await using local = await tempDir();
    await smallFilesTree(local.join("tree"), 1000);
    await using server = await startServe(disk.path);
    const first = await runBftp(["sync", "--json", local.join("tree"), `${server.url}/tree`]);
    // The files of the batches in flight that the full disk refused too are not tried.
    const sent = assertStopped(first, 17, 1000, 8);
    equal(await landedWhole(local.join("tree"), `${disk.path}/tree`), sent);
    deepEqual(await findTemporaries(disk.path), []);
    await remount(disk.path, "32m");
    const second = await runBftp(["sync", "-q", local.join("tree"), `${server.url}/tree`]);
    equal(second.code, 0, second.stderr);
    deepEqual(await readTree(`${disk.path}/tree`), await readTree(local.join("tree")));
    ok(!server.stderrText().includes("internal error"), server.stderrText());
  },
});
