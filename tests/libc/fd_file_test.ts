import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { FdFile } from "../../lib/libc/fd_file.ts";
import { O } from "../../lib/libc/flags.ts";
import { Libc } from "../../lib/libc/libc.ts";
import { tempDir } from "../e2e/helpers.ts";

const libc = Libc.load();
const linux = libc !== null;

function create(path: string): number {
  return libc!.openat(-100, path, O.O_RDWR | O.O_CREAT | O.O_EXCL | O.O_CLOEXEC, 0o600);
}

/** A new file at `path`, through a descriptor of its own. */
function createOwned(path: string): FdFile {
  return new FdFile(create(path), true);
}

Deno.test({
  name: "libc: FdFile writes, reads back, cuts and flushes through its own descriptor",
  ignore: !linux,
  fn: async () => {
    await using tmp = await tempDir();
    const file = createOwned(`${tmp.path}/a`);
    try {
      equal(file.writeSync(new TextEncoder().encode("hello world")), 11);
      await file.syncData();
      file.truncateSync(5);
      equal(await Deno.readTextFile(`${tmp.path}/a`), "hello");
      // Reads go on from the position the writes left: at the end, so nothing.
      equal(await file.read(new Uint8Array(8)), null);
    } finally {
      file.close();
    }
    const reader = new FdFile(libc!.openat(-100, `${tmp.path}/a`, O.O_RDWR | O.O_CLOEXEC), true);
    try {
      const buf = new Uint8Array(8);
      equal(await reader.read(buf), 5);
      deepEqual(new TextDecoder().decode(buf.subarray(0, 5)), "hello");
    } finally {
      reader.close();
    }
  },
});

Deno.test({
  name: "libc: FdFile sets times to the millisecond, before 1970 too",
  ignore: !linux,
  fn: async () => {
    await using tmp = await tempDir();
    const file = createOwned(`${tmp.path}/t`);
    try {
      for (const ms of [1_700_000_000_123, -1_500, 0]) {
        file.utimeSync(new Date(ms + 7), new Date(ms));
        const info = Deno.statSync(`${tmp.path}/t`);
        equal(info.mtime?.getTime(), ms);
        equal(info.atime?.getTime(), ms + 7);
      }
    } finally {
      file.close();
    }
  },
});

Deno.test({
  name: "libc: FdFile's lock excludes another opening's, and a closed FdFile refuses every call",
  ignore: !linux,
  fn: async () => {
    await using tmp = await tempDir();
    const fd = create(`${tmp.path}/l`);
    const file = new FdFile(fd);
    try {
      ok(file.tryLockSync(true));
      using other = Deno.openSync(`${tmp.path}/l`, { read: true });
      equal(other.tryLockSync(true), false);
      file.close();
      throws(() => file.writeSync(new Uint8Array(1)), Deno.errors.BadResource);
      await rejects(() => file.syncData(), Deno.errors.BadResource);
      // The lock lasts until the descriptor itself is closed (its creator's release).
      equal(other.tryLockSync(true), false);
      libc!.close(fd);
      equal(other.tryLockSync(true), true);
    } finally {
      file.close();
    }
  },
});

Deno.test({
  name: "libc: an owning FdFile seeks, reads again, and closes its descriptor once",
  ignore: !linux,
  fn: async () => {
    await using tmp = await tempDir();
    await Deno.writeTextFile(`${tmp.path}/r`, "abcdef");
    const fd = libc!.openat(-100, `${tmp.path}/r`, O.O_RDONLY | O.O_CLOEXEC);
    const file = new FdFile(fd, true);
    const buf = new Uint8Array(4);
    equal(file.readSync(buf), 4);
    equal(await file.seek(1, Deno.SeekMode.Start), 1);
    equal(await file.read(buf), 4);
    equal(new TextDecoder().decode(buf), "bcde");
    ok(Deno.readLinkSync(`/proc/self/fd/${fd}`).endsWith("/r"));
    file.close();
    file.close();
    // Closed: the number no longer names the file (another thread of the runtime may have been
    // given the same number meanwhile, for a file of its own).
    let after: string | null = null;
    try {
      after = Deno.readLinkSync(`/proc/self/fd/${fd}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    ok(after === null || !after.endsWith(`${tmp.path}/r`), `still open: ${after}`);
  },
});

Deno.test({
  name: "libc: linkFd names an unnamed file, never over an existing name",
  ignore: !linux,
  fn: async () => {
    await using tmp = await tempDir();
    await Deno.writeTextFile(`${tmp.path}/taken`, "old");
    const fd = libc!.openat(-100, tmp.path, O.O_WRONLY | O.O_TMPFILE | O.O_CLOEXEC, 0o600);
    const file = new FdFile(fd, true);
    try {
      file.writeSync(new TextEncoder().encode("unnamed"));
      deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["taken"]);
      throws(() => libc!.linkFd(fd, -100, `${tmp.path}/taken`), Deno.errors.AlreadyExists);
      libc!.linkFd(fd, -100, `${tmp.path}/named`);
    } finally {
      file.close();
    }
    equal(await Deno.readTextFile(`${tmp.path}/named`), "unnamed");
    equal(await Deno.readTextFile(`${tmp.path}/taken`), "old");
  },
});

Deno.test("libc: widenPipe widens a pipe on stdin to 1 MiB; a descriptor that is no pipe is left alone", async () => {
  const script = `import { widenPipe } from ${
    JSON.stringify(new URL("../../lib/libc/fd_file.ts", import.meta.url).href)
  };
    console.log(JSON.stringify(widenPipe(0, 1 << 20)));`;
  const run = async (stdin: "piped" | "null") => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdin,
      stdout: "piped",
    }).spawn();
    if (stdin === "piped") await child.stdin.close();
    const out = await child.output();
    equal(out.code, 0);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  // Linux only: elsewhere (or without libc) nothing is widened.
  const linux = Deno.build.os === "linux";
  equal(await run("piped"), linux ? 1 << 20 : null);
  equal(await run("null"), null);
});
