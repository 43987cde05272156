import { deepEqual, equal, rejects } from "node:assert/strict";
import { LocalIoError } from "../../lib/errors.ts";
import { landWhole } from "../../lib/local_file/mod.ts";
import { tempDir } from "../helpers.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("local_file: landWhole replaces a file whole, keeping its bits unless -p gives others", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/a.txt`;
  await Deno.writeTextFile(path, "old and longer");
  await Deno.chmod(path, 0o600);
  await landWhole(path, bytes("new"), { mtime: null, mode: null });
  equal(await Deno.readTextFile(path), "new");
  equal((await Deno.stat(path)).mode! & 0o777, 0o600, "a private file stays private");
  await landWhole(path, bytes("newer"), { mtime: 1_000_000_000_000, mode: 0o640 });
  const info = await Deno.stat(path);
  deepEqual([info.mode! & 0o777, info.mtime?.getTime()], [0o640, 1_000_000_000_000]);
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["a.txt"]);
});

Deno.test("local_file: landWhole that cannot land leaves the target and no temporary", async () => {
  await using tmp = await tempDir();
  // A folder where the file should go: the rename is refused.
  await Deno.mkdir(`${tmp.path}/a.txt/inside`, { recursive: true });
  await rejects(
    landWhole(`${tmp.path}/a.txt`, bytes("x"), { mtime: null, mode: null, absent: true }),
    LocalIoError,
  );
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["a.txt"]);
  // A missing folder: refused at the create, worded as the folder's absence (listed absent or
  // not: an unnamed file's folder is missing too).
  for (const absent of [false, true]) {
    await rejects(
      landWhole(`${tmp.path}/none/b.txt`, bytes("x"), { mtime: null, mode: null, absent }),
      (e) => e instanceof LocalIoError && /none\/b\.txt/.test(e.message),
    );
  }
});

Deno.test("local_file: landWhole times each create for a lander still deciding", async () => {
  await using tmp = await tempDir();
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    await landWhole(`${tmp.path}/f${i}`, bytes(`${i}`), {
      mtime: null,
      mode: null,
      absent: true,
      onCreate: (ms) => times.push(ms),
    });
  }
  equal(times.length, Deno.build.os === "linux" ? 3 : 0);
  equal(await Deno.readTextFile(`${tmp.path}/f2`), "2");
});

Deno.test("local_file: landWhole of a listed-absent file lands it whole, or replaces one made meanwhile", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/a.txt`;
  await landWhole(path, bytes("fresh"), { mtime: 1_000_000_000_000, mode: 0o640, absent: true });
  const info = await Deno.stat(path);
  deepEqual(
    [await Deno.readTextFile(path), info.mode! & 0o777, info.mtime?.getTime(), info.nlink],
    ["fresh", 0o640, 1_000_000_000_000, 1],
  );
  // Listed absent, but made since: replaced whole all the same (by a temporary).
  await landWhole(path, bytes("second"), { mtime: null, mode: null, absent: true });
  equal(await Deno.readTextFile(path), "second");
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["a.txt"]);
});

Deno.test("local_file: landWhole keeps the bits of a file put there since the listing, gives a new one the server's, and drops set-user-ID", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const umask = Deno.umask();
  const bits = async (name: string) => (await Deno.lstat(`${dir}/${name}`)).mode! & 0o7777;
  await landWhole(`${dir}/new`, bytes("n"), {
    absent: true,
    mtime: null,
    mode: null,
    newMode: 0o750,
  });
  equal(await bits("new"), 0o750 & ~umask);
  await Deno.writeTextFile(`${dir}/raced`, "someone's");
  await Deno.chmod(`${dir}/raced`, 0o600);
  await landWhole(`${dir}/raced`, bytes("r"), {
    absent: true,
    mtime: null,
    mode: null,
    newMode: 0o777,
  });
  equal(await bits("raced"), 0o600);
  await Deno.writeTextFile(`${dir}/suid`, "old");
  await Deno.chmod(`${dir}/suid`, 0o4755);
  await landWhole(`${dir}/suid`, bytes("s"), { mtime: null, mode: null, newMode: 0o644 });
  equal(await bits("suid"), 0o755);
  deepEqual([...Deno.readDirSync(dir)].length, 3, "no temporary left");
});
