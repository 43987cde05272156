// A local user racing a pull: while a racer process swaps a folder of DEST with a link to a
// folder outside (renameat2 with RENAME_EXCHANGE, as fast as it can), `bftp get -r`,
// `get -r --resume` and `sync` pull a tree into DEST again and again. Nothing outside may be
// created, changed or removed: each file lands in the folder the download holds, or fails.

import { deepEqual, equal, ok } from "node:assert/strict";
import { snapshot } from "../root/hostile_root.ts";
import { requirePeers } from "../peers.ts";
import { hostTree, writeLayout } from "../server/helpers.ts";
import { frame, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { runBftp, startServe, tempDir } from "./helpers.ts";

/** Seconds the folder is raced. */
const RACE_SECONDS = 4;
/** The most pulls while it is (each is a whole process). */
const MAX_PULLS = 30;

/**
 * The racer: swaps two names until its time is up. A sync replaces a link where a folder goes,
 * so when one name is gone it plants the link again under it, as an attacker would.
 */
const RACER = `
import ctypes, errno, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, target, secs = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3], float(sys.argv[4])
end, n = time.monotonic() + secs, 0
while time.monotonic() < end:
    if libc.renameat2(-100, a, -100, b, 2) == 0:
        n += 1
        continue
    if ctypes.get_errno() != errno.ENOENT:
        raise OSError(ctypes.get_errno(), "renameat2")
    for name in (a, b):
        if not os.path.lexists(name):
            try:
                os.symlink(target, name)
            except FileExistsError:
                pass
print(n)
`;

Deno.test("e2e: a DEST folder swapped with a link to the outside while get -r and sync pull leads nothing outside", async () => {
  requirePeers("python3");
  await using root = await tempDir();
  await using local = await tempDir();
  const files: Record<string, string | Uint8Array> = {};
  for (let i = 0; i < 300; i++) files[`t/d/f${i}`] = `small ${i}`;
  for (let i = 0; i < 30; i++) files[`t/d/sub/g${i}`] = `deeper ${i}`;
  files["t/d/large"] = new Uint8Array(400_000).fill(1);
  await writeLayout(root.path, files);
  await using server = await startServe(root.path);
  // `get -r URL/t DEST` lands in DEST/t, as `sync URL/t DEST/t` does: d/ is below the top.
  const dest = local.join("dest");
  const top = `${dest}/t`;
  const outside = local.join("outside");
  await writeLayout(top, { "d/f0": "already here" });
  await writeLayout(outside, { "f0": "not yours", "sub/g0": "not yours either" });
  await Deno.symlink(outside, `${top}/link`);
  const before = await snapshot(outside);
  const racer = new Deno.Command("python3", {
    args: ["-c", RACER, `${top}/d`, `${top}/link`, outside, String(RACE_SECONDS)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let finished = false;
  const raced = racer.output().finally(() => finished = true);
  const codes: number[] = [];
  for (let round = 0; round < MAX_PULLS && !finished; round++) {
    const args = [
      ["get", "-r", "-q", `${server.url}/t`, dest],
      ["get", "-r", "-q", "--resume", `${server.url}/t`, dest],
      ["sync", "-q", `${server.url}/t`, top],
    ][round % 3]!;
    // Every file newer on the server each round: the sync sends them all again.
    if (round % 3 === 2) {
      const when = new Date(Date.now() + round * 1000);
      for (const name of Object.keys(files)) await Deno.utime(`${root.path}/${name}`, when, when);
    }
    const r = await runBftp(args);
    ok([0, 3, 15].includes(r.code), `${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
    codes.push(r.code);
  }
  const out = await raced;
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  ok(Number(new TextDecoder().decode(out.stdout).trim()) > 100, "the racer swapped");
  ok(codes.length >= 3, `only ${codes.length} pulls`);
  equal(await snapshot(outside), before, "the outside changed");
});

Deno.test("e2e: get -r refuses a link planted where it names its folder in DEST, and follows DEST itself when it is one", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await writeLayout(root.path, { "t/a.txt": "a", "t/sub/b.txt": "b" });
  await using server = await startServe(root.path);
  const outside = local.join("outside");
  await Deno.mkdir(outside);
  await Deno.mkdir(local.join("dest"));
  await Deno.symlink(outside, local.join("dest", "t"));
  const planted = await runBftp(["get", "-r", "-q", `${server.url}/t`, local.join("dest")]);
  equal(planted.code, 3, planted.stderr);
  equal(
    planted.stderr.trim(),
    `bftp: Cannot write into "${local.join("dest", "t")}": it is a symbolic link`,
  );
  // A file there is not a folder, as before.
  await Deno.remove(local.join("dest", "t"));
  await Deno.writeTextFile(local.join("dest", "t"), "");
  const file = await runBftp(["get", "-r", "-q", `${server.url}/t`, local.join("dest")]);
  equal(file.code, 3, file.stderr);
  equal(file.stderr.trim(), `bftp: Cannot create folder "${local.join("dest", "t")}": file exists`);
  equal((await Array.fromAsync(Deno.readDir(outside))).length, 0);
  // DEST is the user's own: a link there leads the tree where it points.
  await Deno.symlink(outside, local.join("named"));
  const named = await runBftp(["get", "-r", "-q", `${server.url}/t`, local.join("named")]);
  equal(named.code, 0, named.stderr);
  equal(await Deno.readTextFile(`${outside}/t/sub/b.txt`), "b");
});

Deno.test("e2e: a failed get -r removes the folders it made through their parents' descriptors: a parent swapped for a link leads the removal nowhere", async () => {
  await using local = await tempDir();
  const dest = local.join("dest");
  const victim = local.join("victim");
  await writeLayout(victim, { "b/": "", "c/": "" });
  const dir = { type: "dir", size: 0, mtime: 0, mode: 0o755 };
  const listings: Record<string, unknown[]> = {
    "/t": [{ name: "a", ...dir }, { name: "z.txt", ...dir, type: "file", size: 1 }],
    "/t/a": [{ name: "b", ...dir }, { name: "c", ...dir }],
  };
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "STAT") await send(frame({ ok: true, entry: { name: "t", ...dir } }));
    else if (req.op === "LIST") {
      await send(frame({ ok: true, entries: listings[String(req.path)] ?? [] }));
    } else if (req.op === "GET") {
      // Every folder is made by now: another local user swaps a/ for a link to their folder,
      // and the connection is lost, so the download removes the folders it made.
      await Deno.rename(`${dest}/a`, `${dest}/a.moved`);
      await Deno.symlink(victim, `${dest}/a`);
      return "close";
    } else if (req.op !== "QUIT") await send(frame({ ok: false, code: "DENIED", message: "no" }));
    return undefined;
  });
  const r = await runBftp(["get", "-r", "-q", `${server.url}/t`, dest]);
  equal(r.code, 4, r.stderr);
  deepEqual(await hostTree(victim), ["b/", "c/"]);
  // Its own empty folders went, where they are now; the link and what holds it stay.
  deepEqual(await hostTree(dest), ["a", "a.moved/"]);
});
