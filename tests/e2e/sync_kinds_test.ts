// End-to-end: `bftp sync` where a path changes kind (a file where a folder goes, a link where
// either goes) and where links stand in the target, against a real `bftp serve`, as rsync -a
// --delete does it: a link in the target is replaced or removed as a link, never gone through;
// a name the source leaves out (a link of its own) keeps the target's entry and all below it.
// (Found by an audit against rsync: a push with --delete emptied the folder a target link led to.)
import { deepEqual, equal } from "node:assert/strict";
import { readTree, runBftp, startServe, tempDir } from "./helpers.ts";

/**
 * The source and target folders of a sync `direction` (`site` on the server's root and in
 * `local`), and the two ends to give `bftp sync`.
 */
function sides(
  direction: "push" | "pull",
  root: { join(...parts: string[]): string },
  local: { join(...parts: string[]): string },
  url: string,
): { source: string; target: string; ends: string[] } {
  const [source, target] = direction === "push"
    ? [local.join("site"), root.join("site")]
    : [root.join("site"), local.join("site")];
  const ends = direction === "push" ? [source, `${url}/site`] : [`${url}/site`, target];
  return { source, target, ends };
}

Deno.test("e2e: sync --delete (push) replaces a link in the target with a folder, and leaves what it led to alone", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const src = local.join("src");
  const files: [string, string][] = [["keep/k", "k"], ["keep/extra", "x"], ["dl/f", "f"]];
  for (const [path, text] of files) {
    await Deno.mkdir(`${src}/${path.split("/")[0]}`, { recursive: true });
    await Deno.writeTextFile(`${src}/${path}`, text);
  }
  // The target: keep/ as the source has it, and dl a link to keep/ (inside the served root).
  await Deno.mkdir(root.join("site", "keep"), { recursive: true });
  await Deno.writeTextFile(root.join("site", "keep", "k"), "k");
  await Deno.writeTextFile(root.join("site", "keep", "extra"), "x");
  await Deno.symlink("keep", root.join("site", "dl"));
  await using server = await startServe(root.path);
  for (let run = 1; run <= 2; run++) {
    const result = await runBftp(["sync", "--delete", src, `${server.url}/site`]);
    equal(result.code, 0, result.stderr);
    if (run === 1) deepEqual(result.stdout.split("\n").slice(0, 3), ["- dl", "+ dl/", "+ dl/f"]);
    else equal(result.stdout.split("\n")[0]!.startsWith("Checked 3 files: sent 0"), true);
    // keep/ whole, and dl a real folder: nothing removed or written through the link.
    deepEqual(await readTree(root.join("site")), await readTree(src));
    equal((await Deno.lstat(root.join("site", "dl"))).isDirectory, true);
  }
});

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: sync turns a file into a folder and, with --delete, a folder into a file (${direction})`, async () => {
    await using root = await tempDir();
    await using local = await tempDir();
    await using server = await startServe(root.path);
    const { source, target, ends } = sides(direction, root, local, server.url);
    // The source: a/ a folder, d a file; the target: a a file, d/ a folder with files.
    await Deno.mkdir(`${source}/a`, { recursive: true });
    await Deno.writeTextFile(`${source}/a/inner`, "inner");
    await Deno.writeTextFile(`${source}/d`, "now a file");
    await Deno.mkdir(`${target}/d/sub`, { recursive: true });
    await Deno.writeTextFile(`${target}/a`, "was a file");
    await Deno.writeTextFile(`${target}/d/o`, "o");
    await Deno.writeTextFile(`${target}/d/sub/o`, "o");
    // Without --delete the folder d stays, its file is refused, and a/ still comes.
    const kept = await runBftp(["sync", "-q", ...ends]);
    equal(kept.code, direction === "push" ? 13 : 3, kept.stderr);
    equal(await Deno.readTextFile(`${target}/a/inner`), "inner");
    equal(await Deno.readTextFile(`${target}/d/o`), "o");
    // With --delete d/ goes, with all in it, and d comes; a second run has nothing to do.
    const replaced = await runBftp(["sync", "--delete", ...ends]);
    equal(replaced.code, 0, replaced.stderr);
    deepEqual(await readTree(target), await readTree(source));
    const again = await runBftp(["sync", "--json", "--delete", ...ends]);
    deepEqual(JSON.parse(again.stdout).changes, []);
  });
}

Deno.test("e2e: sync --delete (push) keeps what the target has under a name the source leaves out (a link of its own)", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const src = local.join("src");
  await Deno.mkdir(`${src}/real`, { recursive: true });
  await Deno.writeTextFile(`${src}/real/r`, "r");
  await Deno.symlink("real", `${src}/m`);
  await Deno.mkdir(root.join("site", "m"), { recursive: true });
  await Deno.writeTextFile(root.join("site", "m", "o"), "theirs");
  await using server = await startServe(root.path);
  const result = await runBftp(["sync", "--json", "--delete", src, `${server.url}/site`]);
  equal(result.code, 0, result.stderr);
  // The JSON names what it left out on the source's side and below the synced folder.
  deepEqual(JSON.parse(result.stdout).skipped, [
    { path: `${src}/m`, relative: "m", why: "a symbolic link to a folder" },
  ]);
  equal(await Deno.readTextFile(root.join("site", "m", "o")), "theirs");
  equal(await Deno.readTextFile(root.join("site", "real", "r")), "r");
});

Deno.test("e2e: sync (pull) replaces a link in the local target, and sets no time through it", async () => {
  // Found by a security audit: the folders' times, set at the end, went through a link the
  // download itself had refused to write into.
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("site", "s"), { recursive: true });
  await Deno.writeTextFile(root.join("site", "s", "t"), "t");
  await Deno.utime(root.join("site", "s"), 1_700_000_000, 1_700_000_000);
  const victim = local.join("victim");
  await Deno.mkdir(victim);
  await Deno.utime(victim, 1_500_000_000, 1_500_000_000);
  await Deno.mkdir(local.join("dst"));
  await Deno.symlink(victim, local.join("dst", "s"));
  await using server = await startServe(root.path);
  const result = await runBftp(["sync", "-q", `${server.url}/site`, local.join("dst")]);
  // The link is replaced by the folder the server has there, as rsync does; what it led to is
  // left as it was, its time included.
  equal(result.code, 0, result.stderr);
  equal(await Deno.readTextFile(local.join("dst", "s", "t")), "t");
  equal((await Deno.lstat(local.join("dst", "s"))).mtime?.getTime(), 1_700_000_000_000);
  equal((await Deno.stat(victim)).mtime?.getTime(), 1_500_000_000_000);
  deepEqual([...Deno.readDirSync(victim)], []);
});

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: sync gives the target's folders the source's permission bits, as rsync -a does (${direction})`, async () => {
    // Found by the audit against rsync: a folder the source had at 700 became 755 on the target.
    await using root = await tempDir();
    await using local = await tempDir();
    await using server = await startServe(root.path);
    const { source, target, ends } = sides(direction, root, local, server.url);
    await Deno.mkdir(`${source}/private`, { recursive: true });
    await Deno.writeTextFile(`${source}/private/p`, "p");
    await Deno.mkdir(`${target}/shared`, { recursive: true });
    await Deno.mkdir(`${source}/shared`, { recursive: true });
    await Deno.chmod(`${source}/private`, 0o700);
    await Deno.chmod(`${source}/shared`, 0o755);
    await Deno.chmod(`${target}/shared`, 0o750);
    const bits = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
    const result = await runBftp(["sync", "-q", ...ends]);
    equal(result.code, 0, result.stderr);
    deepEqual([await bits(`${target}/private`), await bits(`${target}/shared`)], [0o700, 0o755]);
    const again = await runBftp(["sync", "--json", ...ends]);
    deepEqual(JSON.parse(again.stdout).changes, []);
  });
}

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: sync -c gives a file of the same content the source's time and bits, without its body (${direction})`, async () => {
    // Found by the audit against rsync: -c left them as they were, and the next sync without -c
    // sent the file again.
    await using root = await tempDir();
    await using local = await tempDir();
    await using server = await startServe(root.path);
    const { source, target, ends } = sides(direction, root, local, server.url);
    for (const dir of [source, target]) {
      await Deno.mkdir(dir);
      await Deno.writeTextFile(`${dir}/same.txt`, "same bytes");
    }
    await Deno.chmod(`${source}/same.txt`, 0o600);
    await Deno.utime(`${source}/same.txt`, 1_600_000_000, 1_600_000_000);
    await Deno.chmod(`${target}/same.txt`, 0o644);
    const result = await runBftp(["sync", "-c", "--json", ...ends]);
    equal(result.code, 0, result.stderr);
    equal(JSON.parse(result.stdout).bytes, 0);
    const info = await Deno.stat(`${target}/same.txt`);
    deepEqual([info.mtime?.getTime(), info.mode! & 0o777], [1_600_000_000_000, 0o600]);
    const again = await runBftp(["sync", "--json", ...ends]);
    deepEqual(JSON.parse(again.stdout).changes, []);
  });
}

for (const check of [[], ["-c"]]) {
  Deno.test(`e2e: sync ${check.join("")} (pull) replaces a local link to a file that matches the source's, and leaves what it led to alone`, async () => {
    // Found by an audit: the pull compared the file the link led to, found it the same, and
    // kept the link (rsync -a replaces it).
    await using root = await tempDir();
    await using local = await tempDir();
    await Deno.mkdir(root.join("m"));
    await Deno.writeTextFile(root.join("m", "f"), "same");
    await Deno.mkdir(local.join("outside"));
    await Deno.mkdir(local.join("dst"));
    await Deno.copyFile(root.join("m", "f"), local.join("outside", "f"));
    const { mtime } = await Deno.stat(root.join("m", "f"));
    await Deno.utime(local.join("outside", "f"), mtime!, mtime!);
    await Deno.symlink(local.join("outside", "f"), local.join("dst", "f"));
    await using server = await startServe(root.path);
    const result = await runBftp(["sync", ...check, `${server.url}/m`, local.join("dst")]);
    equal(result.code, 0, result.stderr);
    deepEqual(result.stdout.split("\n").slice(0, 2), ["- f", "+ f"]);
    equal((await Deno.lstat(local.join("dst", "f"))).isFile, true);
    equal(await Deno.readTextFile(local.join("dst", "f")), "same");
    equal(await Deno.readTextFile(local.join("outside", "f")), "same");
  });
}

Deno.test("e2e: sync into a DST that is a link to a folder, either side: the folder it leads to is the target, exit 0, and again", async () => {
  // Found by an audit: locally the folder never got the source's bits (a 700 folder stayed
  // 755); on the server the top's SETSTAT met the link, and every run exited 12.
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("priv"));
  await Deno.writeTextFile(root.join("priv", "p"), "p");
  await Deno.chmod(root.join("priv"), 0o700);
  await Deno.utime(root.join("priv"), 1_600_000_000, 1_600_000_000);
  await Deno.mkdir(local.join("ldst"));
  await Deno.symlink("ldst", local.join("dlink"));
  await Deno.mkdir(root.join("real"));
  await Deno.symlink("real", root.join("alias"));
  await using server = await startServe(root.path);
  const pull = await runBftp(["sync", "-q", `${server.url}/priv`, local.join("dlink")]);
  equal(pull.code, 0, pull.stderr);
  const info = await Deno.stat(local.join("ldst"));
  deepEqual([info.mode! & 0o777, info.mtime?.getTime()], [0o700, 1_600_000_000_000]);
  equal(await Deno.readTextFile(local.join("ldst", "p")), "p");
  for (const round of [1, 2]) {
    const push = await runBftp(["sync", "-q", local.join("ldst"), `${server.url}/alias`]);
    equal(push.code, 0, `round ${round}: ${push.stderr}`);
    equal(push.stderr, "");
  }
  equal(await Deno.readTextFile(root.join("real", "p")), "p");
  equal((await Deno.lstat(root.join("alias"))).isSymlink, true);
});

Deno.test("e2e: sync --delete (pull) removes a local entry whose name no request could carry, when the source lacks it", async () => {
  // The local target's names are compared, never sent: they are not refused as a push's are.
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("src"));
  await Deno.writeTextFile(root.join("src", "a.txt"), "a");
  await Deno.mkdir(local.join("dst", "odd\x01dir"), { recursive: true });
  await Deno.writeTextFile(local.join("dst", "odd\x01dir", "f"), "f");
  await Deno.writeTextFile(local.join("dst", "odd\x02file"), "x");
  await using server = await startServe(root.path);
  const result = await runBftp(["sync", "-q", "--delete", `${server.url}/src`, local.join("dst")]);
  equal(result.code, 0, result.stderr);
  equal(result.stderr, "");
  deepEqual([...(await readTree(local.join("dst"))).keys()], ["a.txt"]);
});
