// End-to-end: `bftp sync -u` and `--ignore-existing` against a real `bftp serve`, both ways: a
// file the target has with a later time (-u), or at all (--ignore-existing), is left as it is;
// the rest goes as without them.
import { deepEqual, equal } from "node:assert/strict";
import { runBftp, startServe, tempDir } from "./helpers.ts";

/** Writes `text` at `path` with the modification time `seconds` after the epoch. */
async function write(path: string, text: string, seconds: number): Promise<void> {
  await Deno.writeTextFile(path, text);
  await Deno.utime(path, seconds, seconds);
}

for (const direction of ["push", "pull"] as const) {
  Deno.test(`e2e: sync -u and --ignore-existing leave the target's files alone (${direction})`, async () => {
    await using root = await tempDir();
    await using local = await tempDir();
    // The source and target folders, on whichever side the direction puts them.
    const [source, target] = direction === "push"
      ? [local.join("site"), root.join("site")]
      : [root.join("site"), local.join("site")];
    const [from, to] = direction === "push" ? [source, "URL/site"] : ["URL/site", target];
    await using server = await startServe(root.path);
    const arg = (end: string) => end.replace("URL", server.url);
    for (const dir of [source, target]) await Deno.mkdir(dir);
    await write(`${source}/older.txt`, "source, newer", 2_000_000_000);
    await write(`${target}/older.txt`, "target, older", 1_000_000_000);
    await write(`${source}/newer.txt`, "source, older", 1_000_000_000);
    await write(`${target}/newer.txt`, "target, newer", 2_000_000_000);
    await write(`${source}/new.txt`, "new", 1_000_000_000);

    const updated = await runBftp(["sync", "-q", "-u", arg(from), arg(to)]);
    equal(updated.code, 0, updated.stderr);
    equal(await Deno.readTextFile(`${target}/older.txt`), "source, newer");
    equal(await Deno.readTextFile(`${target}/newer.txt`), "target, newer");
    equal(await Deno.readTextFile(`${target}/new.txt`), "new");

    await write(`${source}/older.txt`, "source, newest", 2_100_000_000);
    await write(`${source}/another.txt`, "another", 1_000_000_000);
    const existing = await runBftp(["sync", "--json", "--ignore-existing", arg(from), arg(to)]);
    equal(existing.code, 0, existing.stderr);
    deepEqual(JSON.parse(existing.stdout).changes.map((c: { path: string }) => c.path), [
      "another.txt",
    ]);
    equal(await Deno.readTextFile(`${target}/older.txt`), "source, newer");
    // Without either, the source wins: the target is a copy again.
    const plain = await runBftp(["sync", "-q", arg(from), arg(to)]);
    equal(plain.code, 0, plain.stderr);
    for (const name of ["older.txt", "newer.txt", "new.txt", "another.txt"]) {
      equal(
        await Deno.readTextFile(`${target}/${name}`),
        await Deno.readTextFile(`${source}/${name}`),
      );
    }
  });
}
