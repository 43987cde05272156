import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { LocalIoError } from "../../lib/errors.ts";
import { AtomicFile, removeStaleTemporaries } from "../../lib/local_file/mod.ts";
import { tempDir } from "../helpers.ts";

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("local_file: a clean-up removes unowned temporaries, old http names too, not a held one", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/.a.txt.bftp-tmp-${crypto.randomUUID()}`, "left");
  await Deno.writeTextFile(`${dir}/.a.txt.bftp-0123456789ab.tmp`, "left by http-get");
  await Deno.writeTextFile(`${dir}/.a.txt.bftp-notours`, "kept");
  const held = await AtomicFile.create(`${dir}/a.txt`);
  try {
    deepEqual(removeStaleTemporaries(dir, "a.txt"), 2);
    deepEqual(await names(dir), [".a.txt.bftp-notours", held.tempPath.slice(dir.length + 1)]);
  } finally {
    await held.discard();
  }
});

Deno.test("local_file: a replaced file keeps its mode; a planted link is replaced, not followed", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/private`, "old");
  await Deno.chmod(`${dir}/private`, 0o600);
  const out = await AtomicFile.create(`${dir}/private`);
  await out.write(new TextEncoder().encode("new"));
  await out.commit();
  deepEqual((await Deno.stat(`${dir}/private`)).mode! & 0o777, 0o600);
  await Deno.writeTextFile(`${dir}/target`, "untouched");
  await Deno.symlink(`${dir}/target`, `${dir}/link`);
  const viaLink = await AtomicFile.create(`${dir}/link`);
  await viaLink.write(new TextEncoder().encode("mine"));
  await viaLink.commit();
  deepEqual(await Deno.readTextFile(`${dir}/target`), "untouched");
  ok((await Deno.lstat(`${dir}/link`)).isFile);
});

Deno.test("local_file: AtomicFile into a missing folder says so in one line, and a full write lands whole", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await rejects(
    () => AtomicFile.create(`${dir}/missing/a.txt`),
    (e: Error) =>
      e instanceof LocalIoError && /^Cannot write ".*\/missing\/a\.txt": /.test(e.message),
  );
  const out = await AtomicFile.create(`${dir}/a.txt`);
  equal(await out.write(new Uint8Array(5000).fill(120)), 5000);
  await out.commit();
  equal((await Deno.readFile(`${dir}/a.txt`)).length, 5000);
  deepEqual(await names(dir), ["a.txt"]);
  // Its temporary is closed once it has landed: a write after the commit is refused.
  await rejects(() => out.write(new Uint8Array(1)));
});

Deno.test("local_file: a temporary is the owner's alone while written; a file put there meanwhile keeps its bits; set-user-ID is not kept", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const umask = Deno.umask();
  const bits = async (name: string) => (await Deno.lstat(`${dir}/${name}`)).mode! & 0o7777;
  const body = new TextEncoder().encode("body");
  const fresh = await AtomicFile.create(`${dir}/fresh`);
  equal(await bits(fresh.tempPath.slice(dir.length + 1)), 0o600, "no one else reads it on its way");
  await fresh.write(body);
  await fresh.commit(null, 0o640);
  equal(await bits("fresh"), 0o640 & ~umask);
  const raced = await AtomicFile.create(`${dir}/raced`);
  await raced.write(body);
  await Deno.writeTextFile(`${dir}/raced`, "someone's", { mode: 0o600 });
  await Deno.chmod(`${dir}/raced`, 0o600);
  await raced.commit(null, 0o777);
  equal(await bits("raced"), 0o600);
  await Deno.writeTextFile(`${dir}/suid`, "old");
  await Deno.chmod(`${dir}/suid`, 0o4755);
  const over = await AtomicFile.create(`${dir}/suid`);
  await over.write(body);
  await over.commit();
  equal(await bits("suid"), 0o755, "new content is not made set-user-ID");
});
