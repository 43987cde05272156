// End-to-end: two bftp heads over one real GlusterFS volume (issue 13), brought up once for this
// file by `scripts/cluster up` (a replica-2 volume, two FUSE mounts standing in for two machines,
// one head on each) and taken down by the last test, and by the unload handler should a test
// throw past it. Upload through one head and download through the other at once; concurrent
// uploads to one path through both; kill -9 of a head mid-upload; a resumable upload cut on one
// head continued through the other. Where the machine cannot run GlusterFS (not Linux, not root,
// no /dev/fuse, the packages cannot be installed) every test says why in its name and is counted
// as skipped.

import { equal, ok } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import type { ByteReader } from "../../lib/framing/types.ts";
import { MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import {
  closedPort,
  cutResumableUpload,
  findTemporaries,
  randomBytes,
  readText,
  runBftp,
  type ServeHandle,
  sha256,
  sha256File,
  spawnBftp,
  startServe,
  tempDir,
  waitFor,
  writeRandomFile,
} from "./helpers.ts";

const CLUSTER = new URL("../../scripts/cluster", import.meta.url).pathname;

/** Why GlusterFS cannot run here, or `null`; installs the packages when they are missing. */
async function whyNoCluster(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) return "needs root for glusterd and FUSE mounts";
  try {
    Deno.statSync("/dev/fuse");
  } catch {
    return "no /dev/fuse";
  }
  const resolves = await new Deno.Command("getent", { args: ["hosts", Deno.hostname()] }).output();
  if (!resolves.success) return `this machine's host name "${Deno.hostname()}" does not resolve`;
  // Mounting must be allowed (a container without CAP_SYS_ADMIN has /dev/fuse but cannot mount).
  const probe = Deno.makeTempDirSync({ prefix: "bftp-mount-probe-" });
  try {
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe],
      stderr: "piped",
    }).output();
    if (!mount.success) {
      return `cannot mount here: ${new TextDecoder().decode(mount.stderr).trim()}`;
    }
    await new Deno.Command("umount", { args: [probe] }).output();
  } finally {
    Deno.removeSync(probe);
  }
  if (Deno.env.get("BFTP_NO_PEER_INSTALL") === "1") {
    const which = await new Deno.Command("bash", { args: ["-c", "command -v glusterd"] })
      .output();
    return which.success ? null : "glusterfs-server is not installed (BFTP_NO_PEER_INSTALL=1)";
  }
  const install = await new Deno.Command(CLUSTER, { args: ["install"], stdout: "null" }).output();
  if (install.success) return null;
  return new TextDecoder().decode(install.stderr).trim().split("\n").pop() ??
    "glusterfs could not be installed";
}

const skip = await whyNoCluster();
const skipped = skip === null ? "" : ` (skipped: ${skip})`;
/** The cluster's folder: bricks, mounts, logs and state (scripts/cluster's BFTP_CLUSTER_DIR). */
const dir = skip === null ? Deno.makeTempDirSync({ prefix: "bftp-cluster-test-" }) : "";
const clusterEnv = { BFTP_CLUSTER_DIR: dir };

function runCluster(command: "up" | "down" | "status"): Promise<Deno.CommandOutput> {
  return new Deno.Command(CLUSTER, { args: [command], env: clusterEnv }).output();
}

/** The cluster's state file as a map (`head_a_url`, `mount_b`...). */
function clusterState(): Map<string, string> {
  const text = Deno.readTextFileSync(`${dir}/state`);
  return new Map(
    text.split("\n").filter((l) => l.includes("=")).map((l) => {
      const at = l.indexOf("=");
      return [l.slice(0, at), l.slice(at + 1)];
    }),
  );
}

let upOnce: Promise<Map<string, string>> | undefined;
let isDown = false;
/** Brings the cluster up on first use (about 10 s), and returns its state. */
function cluster(): Promise<Map<string, string>> {
  upOnce ??= (async () => {
    const out = await runCluster("up");
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`scripts/cluster up failed: ${stderr}`);
    return clusterState();
  })();
  return upOnce;
}

if (skip === null) {
  // A test that throws is not the end of the file: the last test takes the cluster down; this
  // handles an interrupted run.
  globalThis.addEventListener("unload", () => {
    if (isDown) return;
    new Deno.Command(CLUSTER, { args: ["down"], env: clusterEnv }).outputSync();
    Deno.removeSync(dir, { recursive: true });
  });
}

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name: `e2e cluster: ${name}${skipped}`, ignore: skip !== null, fn });
}

/** The two heads' URLs and mounts. */
async function heads() {
  const s = await cluster();
  return {
    a: s.get("head_a_url")!,
    b: s.get("head_b_url")!,
    mountA: s.get("mount_a")!,
    mountB: s.get("mount_b")!,
  };
}

test("a file uploaded through head A is downloaded at once through head B, whole, also after rewrites", async () => {
  const { a, b } = await heads();
  await using local = await tempDir();
  // Small files (GlusterFS's quick-read caches up to 64 KiB) and bigger ones, each rewritten.
  const sizes = [1000, 1000, 60_000, 3_000_000, 3_000_000, 17];
  for (const [i, size] of sizes.entries()) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const data = randomBytes(size);
    await Deno.writeFile(local.join("src"), data);
    const put = await runBftp(["put", "-q", local.join("src"), `${from}/same.bin`]);
    equal(put.code, 0, put.stderr);
    const got = await runBftp(["get", "-q", `${to}/same.bin`, "-"]);
    equal(got.code, 0, got.stderr);
    equal(sha256(got.stdoutBytes), sha256(data), `round ${i}: ${size} bytes`);
    // The SHA-256 the other head answers is the new file's, never one it remembered.
    const hash = await runBftp(["hash", `${to}/same.bin`]);
    equal(hash.stdout, `${sha256(data)}  same.bin\n`, `round ${i}`);
  }
  const log = await Deno.readTextFile(`${dir}/head-a.log`);
  ok(/on a shared volume \(fuse\.glusterfs\), no file hashes remembered/.test(log), log);
});

test("50 rewrites through head A, each read through head B the same millisecond: never an old byte", async () => {
  const { a, b } = await heads();
  const port = (url: string) => Number(url.split(":").pop());
  // In-process sessions, so no process start-up lets GlusterFS's 1 s caches expire meanwhile.
  using viaA = await BftpClient.connect({ hostname: "127.0.0.1", port: port(a) });
  using viaB = await BftpClient.connect({ hostname: "127.0.0.1", port: port(b) });
  const stale: string[] = [];
  for (let round = 0; round < 50; round++) {
    // Same size every other round (only the content and times move), small and big.
    const data = randomBytes(round % 4 < 2 ? 1000 : 300_000);
    await viaA.put("/hot.bin", new MemoryReader(data), { size: data.byteLength });
    const sink = new MemoryWriter();
    await viaB.get("/hot.bin", sink);
    const { sha256: hashed } = await viaB.hash("/hot.bin");
    if (sha256(sink.bytes) !== sha256(data) || hashed !== sha256(data)) stale.push(`${round}`);
  }
  equal(stale.length, 0, `rounds where head B answered an old version: ${stale.join(" ")}`);
});

test("uploads to one path through both heads at once: the file is one whole upload", async () => {
  const { a, b, mountA } = await heads();
  await using local = await tempDir();
  const x = await writeRandomFile(local.join("x"), 8 << 20);
  const y = await writeRandomFile(local.join("y"), 8 << 20);
  const landed = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const [px, py] = await Promise.all([
      runBftp(["put", "-q", local.join("x"), `${a}/race.bin`]),
      runBftp(["put", "-q", local.join("y"), `${b}/race.bin`]),
    ]);
    equal(px.code, 0, px.stderr);
    equal(py.code, 0, py.stderr);
    const onVolume = await sha256File(`${mountA}/race.bin`);
    ok(onVolume === x || onVolume === y, `round ${round}: a mix of both uploads`);
    landed.add(onVolume === x ? "x" : "y");
    for (const head of [a, b]) {
      const got = await runBftp(["get", "-q", `${head}/race.bin`, "-"]);
      equal(sha256(got.stdoutBytes), onVolume, `round ${round}: both heads serve what landed`);
    }
  }
  equal((await findTemporaries(mountA)).length, 0);
});

/** A source that gives the first half of `data`, then waits for `gate` before the rest. */
function gatedReader(data: Uint8Array, gate: Promise<void>): ByteReader {
  const half = new MemoryReader(data.subarray(0, data.byteLength >> 1));
  const rest = new MemoryReader(data.subarray(data.byteLength >> 1));
  return {
    read: async (p) => (await half.read(p)) ?? (await gate, await rest.read(p)),
  };
}

test("put without overwrite through both heads at once is not exclusive across heads (documented): both land, the later whole", async () => {
  const { a, b, mountA } = await heads();
  const port = (url: string) => Number(url.split(":").pop());
  using viaA = await BftpClient.connect({ hostname: "127.0.0.1", port: port(a) });
  using viaB = await BftpClient.connect({ hostname: "127.0.0.1", port: port(b) });
  const [x, y] = [randomBytes(2 << 20), randomBytes(2 << 20)];
  const gate = Promise.withResolvers<void>();
  // A's upload has passed its "does not exist yet" check once its temporary is there.
  const first = viaA.put("/exclusive.bin", gatedReader(x, gate.promise), {
    size: x.byteLength,
    overwrite: false,
  });
  await waitFor(async () => (await findTemporaries(mountA)).length === 1, "A's temporary");
  await viaB.put("/exclusive.bin", new MemoryReader(y), { size: y.byteLength, overwrite: false });
  equal(await sha256File(`${mountA}/exclusive.bin`), sha256(y));
  gate.resolve();
  // The check and the rename are two steps: A's upload replaces B's (docs/SCALING.md).
  await first;
  equal(await sha256File(`${mountA}/exclusive.bin`), sha256(x));
});

/** Starts `bftp put - URL` and feeds it `first` bytes; the rest comes later. */
async function slowUpload(url: string, first: Uint8Array) {
  const child = spawnBftp(["put", "-q", "-", url], { pipeStdin: true });
  const stdin = child.stdin.getWriter();
  await stdin.write(first);
  const output = Promise.all([readText(child.stdout), readText(child.stderr)]);
  return {
    /** Sends the rest, closes stdin; the exit code and stderr. */
    async finish(rest: Uint8Array) {
      try {
        await stdin.write(rest);
        await stdin.close();
      } catch (e) {
        if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      }
      const [status, [, stderr]] = await Promise.all([child.status, output]);
      return { code: status.code, stderr };
    },
  };
}

test("kill -9 of a head mid-upload: the other head's upload goes on; the restarted head removes only what the dead one left", async () => {
  const { mountA, mountB } = await heads();
  // Heads of this test's own, one per mount, that it can kill.
  let headA: ServeHandle | undefined = await startServe(mountA);
  await using headB = await startServe(mountB);
  try {
    const [bData, aData] = [randomBytes(6 << 20), randomBytes(6 << 20)];
    const half = 3 << 20;
    const onB = await slowUpload(`${headB.url}/kept.bin`, bData.subarray(0, half));
    const onA = await slowUpload(`${headA.url}/lost.bin`, aData.subarray(0, half));
    await waitFor(async () => (await findTemporaries(mountA)).length === 2, "two temporaries");
    await headA.crash();
    equal((await onA.finish(aData.subarray(half))).code === 0, false, "its client failed");
    equal((await findTemporaries(mountA)).length, 2, "the dead head's temporary is still there");
    const restarted = headA = await startServe(mountA);
    // Logged before it listens: not among logLines().
    const cleaned = /removed 1 temporary file\(s\) left by interrupted uploads/;
    await waitFor(() => cleaned.test(restarted.stderrText()), "the clean-up's line");
    const left = await findTemporaries(mountB);
    equal(left.length, 1, "the other head's upload in progress is kept");
    const b = await onB.finish(bData.subarray(half));
    equal(b.code, 0, b.stderr);
    equal(await sha256File(`${mountA}/kept.bin`), sha256(bData));
    equal((await findTemporaries(mountA)).length, 0);
  } finally {
    await headA?.stop();
  }
});

test("a resumable upload cut on head A continues through head B", async () => {
  const { a, b, mountB } = await heads();
  await using local = await tempDir();
  const data = randomBytes(5_000_000);
  await Deno.writeFile(local.join("src.bin"), data);
  await cutResumableUpload(a, "/resumed.bin", data, 3_000_000);
  await waitFor(async () => {
    const parts = await findTemporaries(mountB);
    if (parts.length !== 1) return false;
    return (await Deno.stat(`${mountB}/${parts[0]}`)).size === 3_000_000;
  }, "the kept part, seen through the other mount");
  // The part is kept on head A's side only once it noticed the cut (its lock is released).
  await waitFor(
    async () => /CONNECTION/.test(await Deno.readTextFile(`${dir}/head-a.log`)),
    "A's log",
  );
  const put = await runBftp(["put", "-q", "--resume", local.join("src.bin"), `${b}/resumed.bin`]);
  equal(put.code, 0, put.stderr);
  equal(await sha256File(`${mountB}/resumed.bin`), sha256(data));
  const log = await Deno.readTextFile(`${dir}/head-b.log`);
  ok(/PUT "\/resumed\.bin" resuming at 3000000 of 5000000 bytes/.test(log), log);
  equal((await findTemporaries(mountB)).length, 0);
});

test("a client given every head (a host list) goes through head B when head A is down, on the volume", async () => {
  const { b, mountA } = await heads();
  await using local = await tempDir();
  const data = randomBytes(200_000);
  await Deno.writeFile(local.join("src.bin"), data);
  // A head that is down (nothing listens on its port) first, then head B.
  const list = `bftp://127.0.0.1:${closedPort()},${b.replace(/^bftp:\/\//, "")}`;
  const put = await runBftp(["put", "-q", "-v", local.join("src.bin"), `${list}/listed.bin`]);
  equal(put.code, 0, put.stderr);
  ok(/is down: .*trying/.test(put.stderr), put.stderr);
  // Landed on the volume: the other mount sees it.
  equal(await sha256File(`${mountA}/listed.bin`), sha256(data));
  const got = await runBftp(["get", "-q", `${list}/listed.bin`, "-"]);
  equal(got.code, 0, got.stderr);
  equal(sha256(got.stdoutBytes), sha256(data));
});

test("scripts/cluster down stops the heads, unmounts and deletes the volume", async () => {
  const s = await cluster();
  const down = await runCluster("down");
  equal(down.success, true, new TextDecoder().decode(down.stderr));
  isDown = true;
  const status = await runCluster("status");
  equal(status.success, false);
  for (const pid of [s.get("head_a_pid"), s.get("head_b_pid"), s.get("mount_a_pid")]) {
    ok(!(await Deno.stat(`/proc/${pid}`).then(() => true, () => false)), `pid ${pid} is gone`);
  }
  const mounts = await Deno.readTextFile("/proc/self/mountinfo");
  ok(!mounts.includes(dir), mounts);
  const volumes = await new Deno.Command("gluster", { args: ["volume", "list"] }).output();
  ok(!new TextDecoder().decode(volumes.stdout).includes(s.get("volume")!));
  await Deno.remove(dir, { recursive: true });
});
