// End-to-end: `bftp sync` against a real `bftp serve`, both ways, on real
// folders: every kind of change, a second run that sends nothing, a dry run
// that changes nothing, times and modes kept, --delete kept inside the
// target (and refused on a hostile listing), --checksum, filters, a kill
// mid-sync then a rerun, the shell's sync.
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import {
  assertFailure,
  findTemporaries,
  readText,
  readTree,
  runBftp,
  sha256,
  spawnBftp,
  startServe,
  tempDir,
  unprivileged,
  writeRandomFile,
} from "./helpers.ts";
import { frame, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { cuttingProxy, putRequestsIn } from "./faulty_heads.ts";
import type { SyncReport } from "../../lib/sync/report.ts";

/** Files (path -> content) written under `root`, each with a time in the past. */
async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    await Deno.mkdir(join(full, ".."), { recursive: true });
    await Deno.writeTextFile(full, content);
    await Deno.utime(full, new Date(), new Date(1_600_000_000_000 + content.length * 1000));
  }
}

/** A tree as text: each entry's path, content hash (or "dir"), mtime and mode. */
async function digest(root: string, times = true): Promise<string[]> {
  const out: string[] = [];
  for (const [path, content] of await readTree(root)) {
    if (typeof content === "string") {
      out.push(`${path} ${content}`);
      continue;
    }
    const info = await Deno.stat(join(root, path));
    const attrs = times ? ` ${info.mtime?.getTime()} ${(info.mode! & 0o777).toString(8)}` : "";
    out.push(`${path} ${sha256(content).slice(0, 12)}${attrs}`);
  }
  return out;
}

/** Runs `bftp sync --json ...` and parses its report. */
async function syncJson(args: string[]): Promise<SyncReport & { code: number; stderr: string }> {
  const result = await runBftp(["sync", "--json", ...args]);
  ok(result.stdout !== "", `no JSON; exit ${result.code}; stderr: ${result.stderr}`);
  return { ...JSON.parse(result.stdout), code: result.code, stderr: result.stderr };
}

const kinds = (r: SyncReport) =>
  r.changes.map((c) => `${c.kind} ${c.path}${c.folder ? "/" : ""}`).sort();

const START = {
  "same.txt": "same",
  "size.txt": "grows",
  "time.txt": "touched",
  "gone.txt": "deleted from the source",
  "sub/deep/a.txt": "deep",
  "old/x.txt": "a folder that goes",
};

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: sync (${direction}) sends every kind of change, then nothing; --delete removes`, async () => {
    await using served = await tempDir();
    await using local = await tempDir();
    await using server = await startServe(served.path);
    // The source: a local folder for a push, a folder on the server for a pull.
    const sourceDir = direction === "push" ? local.join("src") : join(served.path, "src");
    const targetDir = direction === "push" ? join(served.path, "dst") : local.join("dst");
    const ends = (src: string, dst: string) =>
      direction === "push" ? [src, `${server.url}/dst`] : [`${server.url}/src`, dst];
    const args = ends(local.join("src"), local.join("dst"));
    await writeFiles(sourceDir, START);
    await Deno.chmod(join(sourceDir, "same.txt"), 0o600);

    const first = await syncJson(args);
    equal(first.code, 0, first.stderr);
    deepEqual([first.checked, first.sent, first.new, first.changed], [6, 6, 6, 0]);
    // Times and modes kept: the trees are the same, attributes included.
    deepEqual(await digest(targetDir), await digest(sourceDir));

    const gets = server.logLines(/ (GET|PUT) /).length;
    const second = await syncJson(args);
    deepEqual([second.checked, second.sent, second.deleted, second.code], [6, 0, 0, 0]);
    equal(server.logLines(/ (GET|PUT) /).length, gets, "the second run sends no file body");

    await writeFiles(sourceDir, { "size.txt": "grows longer", "new/n.txt": "new" });
    await Deno.utime(join(sourceDir, "time.txt"), new Date(), new Date(1_700_000_000_000));
    await Deno.remove(join(sourceDir, "gone.txt"));
    await Deno.remove(join(sourceDir, "old"), { recursive: true });
    const third = await syncJson(args);
    deepEqual(kinds(third), ["changed size.txt", "changed time.txt", "new new/", "new new/n.txt"]);
    // Without --delete nothing is removed.
    ok(await Deno.stat(join(targetDir, "gone.txt")));

    const fourth = await syncJson(["--delete", ...args]);
    deepEqual(kinds(fourth), ["deleted gone.txt", "deleted old/", "deleted old/x.txt"]);
    deepEqual(await digest(targetDir), await digest(sourceDir));
  });
}

Deno.test("e2e: sync prints a line per change and a summary; -q prints nothing", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(local.join("src"), { "a b.txt": "a", "d/c.txt": "c" });
  await writeFiles(join(served.path, "dst"), { "old.txt": "old", "a b.txt": "different" });
  const result = await runBftp(["sync", "--delete", local.join("src"), `${server.url}/dst`]);
  equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  // A folder made is a line of its own, as rsync -v tells it.
  deepEqual(lines.slice(0, -1).sort(), ["* a b.txt", "+ d/", "+ d/c.txt", "- old.txt"]);
  ok(
    /^Checked 2 files: sent 2 \(1 new, 1 changed\), deleted 1; 2 B in [\d.]+ s \(.*\/s\)$/.test(
      lines.at(-1)!,
    ),
    lines.at(-1),
  );
  equal(result.stderr, "");
  const quiet = await runBftp(["sync", "-q", local.join("src"), `${server.url}/dst`]);
  deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, "", ""]);
  // A pull's summary says the files were received.
  const pull = await runBftp(["sync", `${server.url}/dst`, local.join("back")]);
  equal(pull.code, 0, pull.stderr);
  ok(
    /^Checked 2 files: received 2 \(2 new, 0 changed\), deleted 0; /m.test(pull.stdout),
    pull.stdout,
  );
});

Deno.test("e2e: a dry run lists the changes and changes nothing, either way", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(local.join("a"), { "new.txt": "n", "changed.txt": "v2, longer" });
  await writeFiles(join(served.path, "a"), { "changed.txt": "v1", "extra.txt": "x" });
  await writeFiles(local.join("b"), { "extra.txt": "x" });
  for (
    const [src, dst, tree, lines] of [
      [local.join("a"), `${server.url}/a`, join(served.path, "a"), [
        "* changed.txt",
        "+ new.txt",
        "- extra.txt",
      ]],
      [`${server.url}/a`, local.join("b"), local.join("b"), ["+ changed.txt"]],
    ] as const
  ) {
    const before = await digest(tree);
    const result = await runBftp(["sync", "-n", "--delete", src, dst]);
    equal(result.code, 0, result.stderr);
    const out = result.stdout.trimEnd().split("\n");
    deepEqual(out.slice(0, -1).sort(), [...lines].sort());
    // A pull receives what a push sends.
    const verb = src.startsWith("bftp://") ? "receive" : "send";
    ok(new RegExp(`^Dry run, checked 2 files: would ${verb} \\d`).test(out.at(-1)!), result.stdout);
    deepEqual(await digest(tree), before);
  }
  // A dry run does not create a missing target either.
  const missing = await runBftp(["sync", "-n", local.join("a"), `${server.url}/none`]);
  equal(missing.code, 0, missing.stderr);
  ok(/^\+ new\.txt$/m.test(missing.stdout), missing.stdout);
  deepEqual(await Array.fromAsync(Deno.readDir(served.path)).then((e) => e.length), 1);
});

Deno.test("e2e: a pull skips a name no request can carry as a failure (exit 12), syncs the rest, and --delete keeps the local one", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  // macOS puts "Icon\r" in a folder with a custom icon; a folder can have such a name too.
  await writeFiles(served.join("src"), { "a.txt": "a", "Dir\r/in.txt": "x" });
  await writeFiles(served.join("src2"), { "a.txt": "a", "Icon\r": "icon" });
  await writeFiles(local.join("dst"), { "Icon\r": "mine", "old.txt": "old" });
  await using server = await startServe(served.path);
  const report = await syncJson(["--delete", `${server.url}/src2`, local.join("dst")]);
  equal(report.code, 12, report.stderr);
  deepEqual(report.errors.map((e) => [e.path, e.code]), [["Icon\r", "BAD_PATH"]]);
  equal(report.failed, 1);
  ok(
    /^bftp: Cannot fetch "\/src2\/Icon\\x0d": a name with a control character/.test(report.stderr),
  );
  deepEqual(kinds(report), ["deleted old.txt", "new a.txt"]);
  // The local file of that name is the source's, left out: kept, not deleted.
  deepEqual((await digest(local.join("dst"), false)).map((l) => l.split(" ")[0]), [
    "Icon\r",
    "a.txt",
  ]);
  equal(await Deno.readTextFile(local.join("dst", "Icon\r")), "mine");
  // A folder of that name is neither listed nor fetched; the summary line counts the failure.
  const plain = await runBftp(["sync", `${server.url}/src`, local.join("new")]);
  equal(plain.code, 12, plain.stderr);
  ok(/failed 1;/.test(plain.stdout), plain.stdout);
  deepEqual([...(await readTree(local.join("new"))).keys()], ["a.txt"]);
});

Deno.test("e2e: a push whose folder the server refuses (a control character in its name) tells that folder once, and sends the rest", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await writeFiles(local.join("src"), { "ok.txt": "ok", "Dir\r/a.txt": "a", "Dir\r/b.txt": "b" });
  await using server = await startServe(served.path);
  const result = await runBftp(["sync", local.join("src"), `${server.url}/dst`]);
  equal(result.code, 12, result.stderr);
  // Once, not again when the folders' times are set at the end; found by the listing pass, so
  // nothing is asked of the server for it.
  deepEqual(result.stderr.trimEnd().split("\n"), [
    `bftp: Cannot send "${
      local.join("src")
    }/Dir\\x0d": a name with a control character cannot be sent`,
  ]);
  ok(/failed 1;/.test(result.stdout), result.stdout);
  deepEqual([...(await readTree(served.join("dst"))).keys()], ["ok.txt"]);
});

Deno.test("e2e: --delete refuses a hostile listing of the target before removing anything", async () => {
  await using local = await tempDir();
  await writeFiles(local.join("src"), { "a.txt": "a" });
  for (const name of ["../x", "/etc", "a/../../b", ".."]) {
    const removals: string[] = [];
    await using server = startScriptedBftpServer(async (req, send) => {
      const dir = { name: "dst", type: "dir", size: 0, mtime: 0, mode: 0o755 };
      if (req.op === "STAT") await send(frame({ ok: true, entry: dir }));
      else if (req.op === "LIST") {
        const entry = { name, type: "file", size: 1, mtime: 0, mode: 0o644 };
        await send(frame({ ok: true, entries: [entry] }));
      } else if (req.op !== "QUIT") {
        removals.push(`${req.op} ${req.path}`);
        await send(frame({ ok: false, code: "DENIED", message: "no" }));
      }
    });
    const result = await runBftp(["sync", "--delete", local.join("src"), `${server.url}/dst`]);
    assertFailure(result, 5, /Refused a name from the server/);
    deepEqual(removals, [], name);
  }
});

Deno.test("e2e: sync refuses to run with two local or two remote ends, or a file for a folder", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await Deno.writeTextFile(join(served.path, "f"), "file");
  await Deno.mkdir(local.join("src"));
  assertFailure(await runBftp(["sync", local.path, local.path]), 2, /One of SRC and DST/);
  assertFailure(
    await runBftp(["sync", `${server.url}/a`, `${server.url}/b`]),
    2,
    /One of SRC and DST/,
  );
  assertFailure(
    await runBftp(["sync", local.join("src"), `${server.url}/f`]),
    2,
    /"\/f" is not a folder on the server/,
  );
  assertFailure(await runBftp(["sync", `${server.url}/nope`, local.join("x")]), 10);
});

Deno.test("e2e: sync -c sends a file whose content changed but not its size or time", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(join(served.path, "src"), { "a.txt": "abc", "b.txt": "xyz" });
  const args = [`${server.url}/src`, local.join("dst")];
  equal((await runBftp(["sync", "-q", ...args])).code, 0);
  const path = local.join("dst", "a.txt");
  const { mtime } = await Deno.stat(path);
  await Deno.writeTextFile(path, "ABC");
  await Deno.utime(path, new Date(), mtime!);
  deepEqual((await syncJson(args)).sent, 0);
  const checked = await syncJson(["-c", ...args]);
  deepEqual(kinds(checked), ["changed a.txt"]);
  equal(await Deno.readTextFile(path), "abc");
});

Deno.test("e2e: --exclude, --include and --exclude-from leave paths out of sending and deleting", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(local.join("src"), {
    "a.txt": "a",
    "a.tmp": "tmp",
    "keep.tmp": "kept",
    "cache/c": "c",
    "logs/l.log": "l",
  });
  await writeFiles(join(served.path, "dst"), { "b.tmp": "theirs", "z.txt": "goes" });
  await Deno.writeTextFile(local.join("rules"), "# logs stay home\nlogs/\n");
  const report = await syncJson([
    "--delete",
    "--include",
    "keep.tmp",
    "--exclude",
    "*.tmp",
    "--exclude",
    "cache/",
    "--exclude-from",
    local.join("rules"),
    local.join("src"),
    `${server.url}/dst`,
  ]);
  equal(report.code, 0, report.stderr);
  deepEqual(kinds(report), ["deleted z.txt", "new a.txt", "new keep.tmp"]);
  deepEqual([...(await readTree(join(served.path, "dst"))).keys()], ["a.txt", "b.tmp", "keep.tmp"]);
  assertFailure(
    await runBftp(["sync", "--exclude", "a[b", local.join("src"), `${server.url}/dst`]),
    2,
    /Bad exclude pattern/,
  );
});

Deno.test("e2e: sync skips links and FIFOs with a message and sends the rest", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(local.join("src"), { "a.txt": "a", "d/b.txt": "b" });
  await Deno.symlink(local.join("src", "d"), local.join("src", "link-to-d"));
  await new Deno.Command("mkfifo", { args: [local.join("src", "fifo")] }).output();
  const result = await runBftp(["sync", "-q", local.join("src"), `${server.url}/dst`]);
  equal(result.code, 0, result.stderr);
  ok(/Skipping ".*fifo": not a regular file/.test(result.stderr), result.stderr);
  ok(/Skipping ".*link-to-d": a symbolic link to a folder/.test(result.stderr), result.stderr);
  deepEqual([...(await readTree(join(served.path, "dst"))).keys()], ["a.txt", "d", "d/b.txt"]);
});

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: a sync (${direction}) killed midway leaves no half file; a rerun finishes it`, async () => {
    await using served = await tempDir();
    await using local = await tempDir();
    await using server = await startServe(served.path);
    const sourceDir = direction === "push" ? local.join("src") : join(served.path, "src");
    const targetDir = direction === "push" ? join(served.path, "dst") : local.join("dst");
    await Deno.mkdir(sourceDir);
    const sums = new Map<string, string>();
    for (let i = 0; i < 12; i++) {
      const name = `f${String(i).padStart(2, "0")}.bin`;
      sums.set(name, await writeRandomFile(join(sourceDir, name), 4 << 20));
    }
    const args = direction === "push"
      ? ["sync", "-q", local.join("src"), `${server.url}/dst`]
      : ["sync", "-q", `${server.url}/src`, local.join("dst")];
    const child = spawnBftp(args);
    const [stdout, stderr] = [readText(child.stdout), readText(child.stderr)];
    // Killed once the first file body is moving.
    await server.waitForLog(direction === "push" ? / PUT / : / GET /);
    child.kill("SIGKILL");
    await child.status;
    await Promise.all([stdout, stderr]);
    // Every file under its final name is whole.
    const landed = await readTree(targetDir).catch(() => new Map<string, Uint8Array | string>());
    for (const [name, bytes] of landed) {
      if (sums.has(name)) equal(sha256(bytes), sums.get(name), name);
    }
    // The kill came before the end (else this test proves nothing).
    ok([...landed.keys()].filter((n) => sums.has(n)).length < sums.size, [...landed.keys()].join());
    const rerun = await runBftp(args);
    equal(rerun.code, 0, rerun.stderr);
    deepEqual(await digest(targetDir), await digest(sourceDir));
    if (direction === "pull") deepEqual(await findTemporaries(targetDir), []);
  });
}

Deno.test("e2e: the shell's sync pushes, and with --pull pulls", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(local.join("src"), { "a.txt": "a", "d/b.txt": "b" });
  const script = "sync src site\nsync --pull back site\nsync src site\n";
  const result = await runBftp(["shell", server.url], { stdin: script, cwd: local.path });
  equal(result.code, 0, result.stderr);
  deepEqual(await digest(join(served.path, "site")), await digest(local.join("src")));
  deepEqual(await digest(local.join("back")), await digest(local.join("src")));
  const summaries = result.stdout.split("\n").filter((l) => l.startsWith("Checked"));
  equal(summaries.length, 3, result.stdout);
  ok(summaries[2]!.includes("sent 0"), summaries[2]);
});

Deno.test("e2e: a push to a read-only server is refused once (exit 15); one with nothing to do is fine", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await writeFiles(local.join("src"), { "a.txt": "a", "b.txt": "b" });
  await writeFiles(join(served.path, "dst"), { "a.txt": "a" });
  await using server = await startServe(served.path, ["--read-only"]);
  assertFailure(
    await runBftp(["sync", local.join("src"), `${server.url}/dst`]),
    15,
    /read-only/,
  );
  // A dry run shows what it would send, then says the real run would be refused.
  const dry = await runBftp(["sync", "-n", local.join("src"), `${server.url}/dst`]);
  equal(dry.code, 15, dry.stderr);
  ok(/^\+ b\.txt$/m.test(dry.stdout), dry.stdout);
  equal(dry.stderr, "bftp: The session is read-only: nothing can be synced into it\n");
  // The JSON report says so too (it said nothing failed).
  const dryJson = await runBftp(["sync", "-n", "--json", local.join("src"), `${server.url}/dst`]);
  equal(dryJson.code, 15, dryJson.stderr);
  const report = JSON.parse(dryJson.stdout) as SyncReport;
  deepEqual([report.failed, report.errors.map((e) => e.code)], [1, ["DENIED"]]);
  await Deno.remove(local.join("src", "b.txt"));
  const nothing = await runBftp(["sync", local.join("src"), `${server.url}/dst`]);
  equal(nothing.code, 0, nothing.stderr);
  // A pull from it works.
  equal((await runBftp(["sync", "-q", `${server.url}/dst`, local.join("back")])).code, 0);
});

Deno.test("e2e: Ctrl-C stops a sync with exit 130, and a rerun finishes it", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await Deno.mkdir(local.join("src"));
  for (let i = 0; i < 12; i++) await writeRandomFile(local.join("src", `f${i}.bin`), 4 << 20);
  const args = ["sync", "-q", local.join("src"), `${server.url}/dst`];
  const child = spawnBftp(args);
  const [stdout, stderr] = [readText(child.stdout), readText(child.stderr)];
  await server.waitForLog(/ PUT /);
  child.kill("SIGINT");
  const status = await child.status;
  equal(status.code, 130, await stderr);
  ok((await stderr).includes("bftp: Interrupted"), await stderr);
  equal(await stdout, "");
  const rerun = await runBftp(args);
  equal(rerun.code, 0, rerun.stderr);
  deepEqual(await digest(join(served.path, "dst")), await digest(local.join("src")));
});

Deno.test("e2e: one file that fails is reported, the others are sent, and the exit code is its", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(local.join("src"), { "a.txt": "a", "b.txt": "b", "c.txt": "c" });
  // On the server, b.txt is a folder (with a file in it): the upload over it is refused.
  await writeFiles(join(served.path, "dst"), { "b.txt/inside": "x" });
  const report = await syncJson([local.join("src"), `${server.url}/dst`]);
  equal(report.code, 13, report.stderr);
  deepEqual(kinds(report), ["new a.txt", "new c.txt"]);
  deepEqual(report.errors.map((e) => [e.path, e.code]), [["b.txt", "IS_DIR"]]);
  equal(report.stderr.trimEnd().split("\n").length, 1, report.stderr);
  equal(await Deno.readTextFile(join(served.path, "dst", "c.txt")), "c");
});

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: sync (${direction}) gives the target's folders the source's times; a rerun touches none`, async () => {
    await using served = await tempDir();
    await using local = await tempDir();
    await using server = await startServe(served.path);
    const sourceDir = direction === "push" ? local.join("src") : join(served.path, "src");
    const targetDir = direction === "push" ? join(served.path, "dst") : local.join("dst");
    const args = direction === "push"
      ? [local.join("src"), `${server.url}/dst`]
      : [`${server.url}/src`, local.join("dst")];
    await writeFiles(sourceDir, { "a.txt": "a", "sub/b.txt": "b", "sub/deep/c.txt": "c" });
    await Deno.mkdir(join(sourceDir, "empty"));
    const times: Record<string, number> = {
      "": 1_500_000_000_000,
      "sub": 1_500_000_100_000,
      "sub/deep": 1_500_000_200_000,
      "empty": 1_500_000_300_000,
    };
    const stamp = async () => {
      for (const [relative, t] of Object.entries(times)) {
        await Deno.utime(join(sourceDir, relative), new Date(), new Date(t));
      }
    };
    const stat = (relative: string) => Deno.stat(join(targetDir, relative));
    const targetTimes = async () => {
      const out: Record<string, number | undefined> = {};
      for (const relative of Object.keys(times)) {
        out[relative] = (await stat(relative)).mtime?.getTime();
      }
      return out;
    };
    await stamp();
    const first = await syncJson(args);
    deepEqual([first.code, first.sent], [0, 3], first.stderr);
    deepEqual(await targetTimes(), times);
    // A rerun sends nothing and sets no folder's time: their change times stay.
    const ctimes = await Promise.all(Object.keys(times).map(async (r) => (await stat(r)).ctime));
    await new Promise((r) => setTimeout(r, 20));
    const second = await syncJson(args);
    deepEqual([second.code, second.sent], [0, 0], second.stderr);
    deepEqual(
      await Promise.all(Object.keys(times).map(async (r) => (await stat(r)).ctime)),
      ctimes,
    );
    // A file added to a folder: the target's folder ends with the source's time all the same.
    await writeFiles(sourceDir, { "sub/new.txt": "new" });
    times["sub"] = 1_500_000_400_000;
    await stamp();
    const third = await syncJson(args);
    deepEqual([third.code, third.sent], [0, 1], third.stderr);
    deepEqual(await targetTimes(), times);
  });
}

Deno.test("e2e: a file whose bits alone changed gets them in place, no body: by SETSTAT on a push, on the file itself on a pull", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await writeFiles(local.join("src"), { "a.txt": "alpha", "b.txt": "beta" });
  const push = [local.join("src"), `${server.url}/dst`];
  deepEqual((await syncJson(push)).sent, 2);
  const remoteA = join(served.path, "dst", "a.txt");
  const inode = (await Deno.stat(remoteA)).ino;
  await Deno.chmod(local.join("src", "a.txt"), 0o600);
  const pushed = await syncJson(push);
  deepEqual([pushed.code, pushed.changed, pushed.bytes, kinds(pushed)], [0, 1, 0, [
    "changed a.txt",
  ]]);
  const after = await Deno.stat(remoteA);
  deepEqual([after.mode! & 0o777, after.ino], [0o600, inode], "the same file, its bits changed");
  deepEqual(await digest(join(served.path, "dst")), await digest(local.join("src")));
  // A pull gives the local file its bits in place (opened without following a link).
  const pull = [`${server.url}/dst`, local.join("back")];
  deepEqual((await syncJson(pull)).sent, 2);
  const localInode = (await Deno.stat(local.join("back", "a.txt"))).ino;
  await Deno.chmod(remoteA, 0o640);
  const pulled = await syncJson(pull);
  deepEqual([pulled.code, pulled.changed, pulled.bytes], [0, 1, 0]);
  const back = await Deno.stat(local.join("back", "a.txt"));
  deepEqual([back.mode! & 0o777, back.ino], [0o640, localInode]);
});

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: sync (${direction}) sends a changed large file as its changed blocks only`, async () => {
    await using served = await tempDir();
    await using local = await tempDir();
    await using server = await startServe(served.path);
    const [source, target] = direction === "push"
      ? [local.join("t"), `${server.url}/t`]
      : [`${server.url}/t`, local.join("t")];
    const sourceDir = direction === "push" ? local.join("t") : served.join("t");
    await Deno.mkdir(sourceDir);
    await writeRandomFile(join(sourceDir, "big.bin"), 3 << 20);
    equal((await syncJson(["-q", source, target])).code, 0);
    // 100 KiB rewritten in the middle: two blocks of 64 KiB, 128 KiB sent.
    using file = await Deno.open(join(sourceDir, "big.bin"), { write: true });
    await file.seek(1 << 20, Deno.SeekMode.Start);
    await file.write(new Uint8Array(100 << 10).fill(0x5a));
    const report = await syncJson([source, target]);
    equal(report.code, 0, report.stderr);
    deepEqual(kinds(report), ["changed big.bin"]);
    equal(report.bytes, 128 << 10);
    deepEqual(await digest(local.join("t")), await digest(served.join("t")));
    deepEqual(await findTemporaries(served.path), []);
    equal((await syncJson([source, target])).sent, 0);
    // -W: the whole file, however little changed.
    using again = await Deno.open(join(sourceDir, "big.bin"), { write: true });
    await again.write(new Uint8Array(10).fill(1));
    const whole = await syncJson(["-W", source, target]);
    deepEqual([whole.code, whole.bytes], [0, 3 << 20]);
    deepEqual(await digest(local.join("t")), await digest(served.join("t")));
  });
}

Deno.test("e2e: a sync push and a put -r send each large file's body right behind its request (eager)", async () => {
  await using served = await tempDir();
  await using local = await tempDir();
  await using server = await startServe(served.path);
  await Deno.mkdir(local.join("src"));
  const sums = new Map<string, string>();
  for (const name of ["big1.bin", "big2.bin"]) {
    sums.set(name, await writeRandomFile(local.join("src", name), 9 << 20));
  }
  for (const args of [["sync", "-q"], ["put", "-r", "-q"]]) {
    const dst = args[0] === "sync" ? "dst-sync" : "dst-put";
    // Through a proxy that keeps what the client sends: each request shows whether it is eager.
    const sent: Uint8Array[] = [];
    await using proxy = cuttingProxy(new URL(server.url).host, {
      direction: "up",
      limit: Infinity,
      keepUp: sent,
    });
    const result = await runBftp([...args, local.join("src"), `bftp://${proxy.head}/${dst}`]);
    equal(result.code, 0, result.stderr);
    const puts = putRequestsIn(sent);
    equal(puts.length, 2, args.join(" "));
    ok(puts.every((p) => p.includes('"eager":true')), puts.join("\n"));
    for (const [name, sum] of sums) {
      equal(sha256(await Deno.readFile(join(served.path, dst, name))), sum, `${dst}/${name}`);
    }
  }
});

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: a dry run foresees what the sync fails on: a folder where a file goes, and names no request can carry (${direction})`, async () => {
    // Found by an audit: -n listed them as sends and exited 0; the sync then failed on them.
    await using served = await tempDir();
    await using local = await tempDir();
    const [source, target] = direction === "push"
      ? [local.join("src"), join(served.path, "dst")]
      : [join(served.path, "src"), local.join("dst")];
    await writeFiles(source, { "x": "file", "ok.txt": "ok" });
    await writeFiles(target, { "x/in": "a folder where the file goes" });
    if (direction === "push") await Deno.writeTextFile(join(source, "del\x7f"), "odd");
    await using server = await startServe(served.path);
    const ends = direction === "push"
      ? [source, `${server.url}/dst`]
      : [`${server.url}/src`, target];
    const code = direction === "push" ? 13 : 3;
    const runs = [];
    for (const args of [["-n", "--json"], ["--json"]]) {
      const run = await runBftp(["sync", ...args, ...ends]);
      const report = JSON.parse(run.stdout) as SyncReport;
      runs.push({
        code: run.code,
        errors: report.errors.map((e) => `${e.path} ${e.code}`).sort(),
        sends: report.changes.map((c) => `${c.kind} ${c.path}`),
      });
    }
    const errors = direction === "push" ? ["del\x7f BAD_PATH", "x IS_DIR"] : ["x LOCAL_IO"];
    // The dry run and the sync agree, and the folder in the way is left as it was.
    deepEqual(runs, [
      { code, errors, sends: ["new ok.txt"] },
      { code, errors, sends: ["new ok.txt"] },
    ]);
    equal(await Deno.readTextFile(join(target, "x", "in")), "a folder where the file goes");
  });
}

Deno.test("e2e: a sync writes into and removes from folders the last one kept read-only (0500), both ways, as a user root is not, and leaves them so", async () => {
  await using dir = await tempDir();
  const [src, served, pulled] = ["src", "served", "pulled"].map((p) => dir.join(p));
  await writeFiles(src!, { "ro/a.txt": "one", "ro/deep/d.txt": "d", "gone/g.txt": "g" });
  await Deno.mkdir(served!);
  const readOnly = ["ro/deep", "ro", "gone"];
  const chmodAll = async (top: string, folders: string[], mode: number) => {
    for (const f of folders) await Deno.chmod(join(top, f), mode);
  };
  await chmodAll(src!, readOnly, 0o500);
  const user = await unprivileged(dir.path);
  await using server = await startServe(served!, [], { user });
  const sync = async (...args: string[]) => {
    const r = await runBftp(["sync", "-q", "--delete", ...args], { user });
    deepEqual([r.code, r.stderr], [0, ""], args.join(" "));
  };
  try {
    await sync(src!, `${server.url}/dst`);
    await sync(`${server.url}/dst`, pulled!);
    await chmodAll(src!, readOnly.slice(0, 2).reverse(), 0o700);
    await writeFiles(src!, { "ro/a.txt": "changed", "ro/b.txt": "new", "ro/deep/d.txt": "dd" });
    await chmodAll(src!, readOnly.slice(0, 2), 0o500);
    await Deno.chmod(join(src!, "gone"), 0o700);
    await Deno.remove(join(src!, "gone"), { recursive: true });
    await sync(src!, `${server.url}/dst`);
    await sync(`${server.url}/dst`, pulled!);
    for (const copy of [join(served!, "dst"), pulled!]) {
      deepEqual(await readTree(copy), await readTree(src!), copy);
      for (const f of ["ro", "ro/deep"]) {
        equal((await Deno.stat(join(copy, f))).mode! & 0o777, 0o500, `${copy}/${f}`);
      }
    }
  } finally {
    // Writable again, for the removal of the folder (as the user who made them, if not root).
    for (const top of [src!, join(served!, "dst"), pulled!]) {
      await chmodAll(top, readOnly, 0o700).catch(() => {});
    }
  }
});

Deno.test("e2e: a sync lists, writes into and removes from target folders their owner may not list (0000, 0100, 0200), both ways, as a user root is not; a dry run leaves their bits", async () => {
  await using dir = await tempDir();
  const [src, served, pulled] = ["src", "served", "pulled"].map((p) => dir.join(p));
  await writeFiles(src!, { "a/one.txt": "new one", "b/c/two.txt": "new two", "d/three.txt": "3" });
  // The targets: stale files, one the source lacks, in folders locked in three ways.
  const stale = {
    "a/one.txt": "old",
    "b/c/two.txt": "old",
    "b/c/gone.txt": "x",
    "d/three.txt": "3",
  };
  const targets = [join(served!, "dst"), pulled!];
  const locked: [string, number][] = [["b/c", 0o000], ["a", 0o100], ["b", 0o200], ["d", 0o000]];
  for (const top of targets) {
    await writeFiles(top, stale);
    for (const [f, mode] of locked) await Deno.chmod(join(top, f), mode);
  }
  const user = await unprivileged(dir.path);
  await using server = await startServe(served!, [], { user });
  const bits = async (top: string) => {
    const out = [];
    for (const [f] of locked) out.push((await Deno.stat(join(top, f))).mode! & 0o777);
    return out;
  };
  try {
    for (
      const [from, to, top] of [[src!, `${server.url}/dst`, targets[0]!], [
        `${server.url}/dst`,
        pulled!,
        pulled!,
      ]]
    ) {
      // A dry run changes nothing, so it cannot look inside: it says so, for each such folder.
      const dry = await runBftp(["sync", "-n", "--delete", from!, to!], { user });
      ok(dry.code !== 0, `dry run ${to}: ${dry.code}`);
      const told = dry.stderr.trim().split("\n");
      deepEqual(told.length, 3, dry.stderr);
      ok(told.every((l) => l.endsWith("a sync, not a dry run, opens it to list it)")), dry.stderr);
      deepEqual(await bits(top!), locked.map(([, mode]) => mode), `bits after the dry run ${to}`);
      const r = await runBftp(["sync", "-q", "--delete", from!, to!], { user });
      deepEqual([r.code, r.stderr], [0, ""], `${from} -> ${to}: ${r.code} ${r.stderr}`);
      deepEqual(await readTree(top!), await readTree(src!), top);
      // The source's bits now, as rsync -a gives them.
      deepEqual(await bits(top!), await bits(src!), top);
    }
  } finally {
    for (const top of targets) {
      for (const [f] of locked) await Deno.chmod(join(top, f), 0o700).catch(() => {});
    }
  }
});

Deno.test("e2e: folders a sync opens on its way to a change, a locked target top, and a locked folder the source replaced by a file end with the source's bits, both ways", async () => {
  await using dir = await tempDir();
  const [src, served, pulled] = ["src", "served", "pulled"].map((p) => dir.join(p));
  await writeFiles(src!, { "a/b/c/f.txt": "one", "x/in/deeper/y.txt": "y" });
  await Deno.mkdir(served!);
  const user = await unprivileged(dir.path);
  await using server = await startServe(served!, [], { user });
  const targets = [join(served!, "dst"), pulled!];
  const sync = async (...args: string[]) => {
    for (const [from, to] of [[src!, `${server.url}/dst`], [`${server.url}/dst`, pulled!]]) {
      const r = await runBftp(["sync", "-q", "--delete", ...args, from!, to!], { user });
      deepEqual([r.code, r.stderr], [0, ""], `${from} -> ${to}: ${r.stderr}`);
    }
  };
  const modes = async (top: string, paths: string[]) => {
    const out = [];
    for (const p of paths) out.push((await Deno.stat(join(top, p))).mode! & 0o777);
    return out;
  };
  try {
    await Deno.chmod(join(src!, "a", "b"), 0o500);
    await Deno.chmod(join(src!, "a"), 0o500);
    await sync();
    // A change two folders below the read-only ones: both are opened on the way, and closed.
    await Deno.writeTextFile(join(src!, "a", "b", "c", "f.txt"), "two");
    await sync();
    for (const top of targets) {
      deepEqual(await modes(top, ["a", "a/b", "a/b/c"]), [0o500, 0o500, 0o755], top);
      deepEqual(await readTree(top), await readTree(src!), top);
    }
    // The targets' top locked (0100), and x locked with locked folders in it, which the source
    // now has as a file.
    for (const top of targets) {
      await Deno.chmod(join(top, "x", "in", "deeper"), 0o000);
      await Deno.chmod(join(top, "x", "in"), 0o100);
      await Deno.chmod(join(top, "x"), 0o000);
      await Deno.chmod(top, 0o100);
    }
    await Deno.remove(join(src!, "x"), { recursive: true });
    await Deno.writeTextFile(join(src!, "x"), "now a file");
    await Deno.chmod(join(src!, "x"), 0o640);
    if (user !== undefined) await Deno.chown(join(src!, "x"), user.uid, user.gid);
    await sync();
    for (const top of targets) {
      deepEqual(await modes(top, ["", "x"]), [0o755, 0o640], top);
      deepEqual(await readTree(top), await readTree(src!), top);
    }
  } finally {
    for (const top of [src!, ...targets]) {
      await Deno.chmod(top, 0o755).catch(() => {});
      for (const f of ["a", "a/b", "x", "x/in", "x/in/deeper"]) {
        await Deno.chmod(join(top, f), 0o755).catch(() => {});
      }
    }
  }
});

Deno.test("e2e: a dry run into a locked target top plans and tells it; a locked source folder is a plain failure, not one a sync would open", async () => {
  await using dir = await tempDir();
  const [src, served, pulled] = ["src", "served", "pulled"].map((p) => dir.join(p));
  await writeFiles(src!, { "a.txt": "a", "k/in.txt": "k" });
  const targets = [join(served!, "dst"), pulled!];
  for (const top of targets) await writeFiles(top, { "old.txt": "old" });
  const user = await unprivileged(dir.path);
  await using server = await startServe(served!, [], { user });
  try {
    // A push into the server's locked dst, and a pull from an open dst into the locked pulled.
    await Deno.chmod(targets[0]!, 0o100);
    const push = await runBftp(["sync", "-n", "--delete", src!, `${server.url}/dst`], { user });
    await Deno.chmod(targets[0]!, 0o755);
    await Deno.chmod(pulled!, 0o100);
    const pull = await runBftp(["sync", "-n", "--delete", `${server.url}/dst`, pulled!], { user });
    for (const [dry, top] of [[push, targets[0]!], [pull, pulled!]] as const) {
      ok(dry.code !== 0, `${top}: ${dry.code}`);
      equal(dry.stderr.trim().split("\n").length, 1, dry.stderr);
      ok(dry.stderr.includes("a sync, not a dry run, opens it to list it)"), dry.stderr);
      ok(/^\+ /m.test(dry.stdout), dry.stdout);
    }
    equal((await Deno.stat(pulled!)).mode! & 0o777, 0o100);
    await Deno.chmod(pulled!, 0o755);
    // A locked folder of the source: nothing opens it, and nothing says a sync would.
    await Deno.chmod(join(src!, "k"), 0o100);
    const runs = [["put", "-r", src!, `${server.url}/put`], ["sync", src!, `${server.url}/dst`]];
    for (const args of runs) {
      const r = await runBftp(args, { user });
      ok(r.code !== 0, `${args[0]}: ${r.code}`);
      ok(/k": permission denied$/m.test(r.stderr) && !r.stderr.includes("dry run"), r.stderr);
    }
  } finally {
    for (const top of targets) await Deno.chmod(top, 0o755).catch(() => {});
    await Deno.chmod(join(src!, "k"), 0o755).catch(() => {});
  }
});

Deno.test({
  name:
    "e2e: a target folder another user owns, which the sync's user cannot list, is one failure, neither removed nor a file in the way; the rest is synced, both ways",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await using dir = await tempDir();
    const [src, served, pulled] = ["src", "served", "pulled"].map((p) => dir.join(p));
    const mine = { "ok.txt": "ok", "r/mine.txt": "mine" };
    await writeFiles(src!, mine);
    await writeFiles(join(served!, "src"), mine);
    const targets = [join(served!, "dst"), pulled!];
    for (const top of targets) await writeFiles(top, { "r/theirs.txt": "theirs" });
    const user = await unprivileged(dir.path);
    // Root's, and closed to others: the sync's user (nobody) can neither list nor open it.
    for (const top of targets) {
      await Deno.chown(join(top, "r"), 0, 0);
      await Deno.chmod(join(top, "r"), 0o700);
    }
    await using server = await startServe(served!, [], { user });
    for (
      const [from, to, top] of [
        [src!, `${server.url}/dst`, targets[0]!],
        [`${server.url}/src`, pulled!, pulled!],
      ]
    ) {
      const r = await runBftp(["sync", "--json", "--delete", from!, to!], { user });
      ok(r.code !== 0, `${to}: ${r.code}`);
      // Its listing's failure and the file that cannot go into it, each once; no try at its bits.
      const errors = (JSON.parse(r.stdout) as SyncReport).errors.map((e) => e.path).sort();
      deepEqual(errors, ["r", "r/mine.txt"], r.stdout);
      ok(!r.stderr.includes("is a folder"), r.stderr);
      equal(await Deno.readTextFile(join(top!, "ok.txt")), "ok");
      equal(await Deno.readTextFile(join(top!, "r", "theirs.txt")), "theirs");
    }
  },
});

Deno.test("e2e: a read-only folder the source lacks that --delete cannot remove (it holds an excluded file) keeps its bits, both ways", async () => {
  await using dir = await tempDir();
  const [src, served, pulled] = ["src", "served", "pulled"].map((p) => dir.join(p));
  await writeFiles(src!, { "a/keep.txt": "k" });
  const gone = { "gone/x.txt": "x", "gone/keep.tmp": "t" };
  await writeFiles(join(served!, "dst"), { "a/keep.txt": "k", ...gone });
  await writeFiles(pulled!, { "a/keep.txt": "k", ...gone });
  for (const top of [join(served!, "dst"), pulled!]) await Deno.chmod(join(top, "gone"), 0o500);
  const user = await unprivileged(dir.path);
  await using server = await startServe(served!, [], { user });
  try {
    for (const [from, to] of [[src!, `${server.url}/dst`], [`${server.url}/dst`, pulled!]]) {
      const r = await runBftp(["sync", "-q", "--delete", "--exclude", "*.tmp", from!, to!], {
        user,
      });
      deepEqual([r.code, r.stderr], [0, ""], `${from} -> ${to}: ${r.code} ${r.stderr}`);
    }
    for (const top of [join(served!, "dst"), pulled!]) {
      deepEqual(
        [...Deno.readDirSync(join(top, "gone"))].map((e) => e.name),
        ["keep.tmp"],
        top,
      );
      equal((await Deno.stat(join(top, "gone"))).mode! & 0o777, 0o500, top);
    }
  } finally {
    for (const top of [join(served!, "dst"), pulled!]) {
      await Deno.chmod(join(top, "gone"), 0o700).catch(() => {});
    }
  }
});

Deno.test("e2e: a sticky (1777) folder keeps its sticky bit on a pull; a push, which SETSTAT cannot give it, leaves out others' write; a second sync changes nothing either way", async () => {
  await using dir = await tempDir();
  const [src, served, pulled] = ["src", "served", "pulled"].map((p) => dir.join(p));
  await writeFiles(src!, { "shared/a.txt": "a" });
  await Deno.chmod(join(src!, "shared"), 0o1777);
  await writeFiles(join(served!, "there"), { "shared/b.txt": "b" });
  await Deno.chmod(join(served!, "there", "shared"), 0o1777);
  await using server = await startServe(served!);
  const sync = async (from: string, to: string) => {
    const r = await runBftp(["sync", "--json", from, to]);
    equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as SyncReport;
  };
  const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o7777;
  await sync(src!, `${server.url}/dst`);
  equal(await modeOf(join(served!, "dst", "shared")), 0o755);
  await sync(`${server.url}/there`, pulled!);
  equal(await modeOf(join(pulled!, "shared")), 0o1777);
  const setstats = () => server.logLines(/SETSTAT/).length;
  const before = setstats();
  for (const [from, to] of [[src!, `${server.url}/dst`], [`${server.url}/there`, pulled!]]) {
    const again = await sync(from!, to!);
    deepEqual([again.sent, again.deleted, again.changes], [0, 0, []], `${from} -> ${to}`);
  }
  equal(setstats(), before, "no folder's bits given again");
});
