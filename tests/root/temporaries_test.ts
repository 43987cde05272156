import { deepEqual, equal, ok } from "node:assert/strict";
import {
  createUploadTemporary,
  openResumeTemporary,
  removeUnowned,
  RESUME_TEMP_NAME,
  resumeTemporaryName,
  UPLOAD_TEMP_NAME,
} from "../../lib/root/temporaries.ts";
import { FdBackend } from "../../lib/root/fd_backend.ts";
import { PathBackend, type TreeBackend } from "../../lib/root/tree_backend.ts";
import { tempDir } from "../e2e/helpers.ts";

Deno.test("root: the temporary-name patterns take the server's own names and nothing else", () => {
  ok(UPLOAD_TEMP_NAME.test(`.bftp-tmp-${crypto.randomUUID()}.part`));
  ok(RESUME_TEMP_NAME.test(resumeTemporaryName("0123456789abcdef".repeat(4))));
  for (
    const name of [
      ".bftp-tmp-mine.part",
      ".bftp-tmp-1234.part",
      `.bftp-tmp-${crypto.randomUUID()}.part.bak`,
      `.bftp-tmp-${crypto.randomUUID().toUpperCase()}.part`,
      `x.bftp-tmp-${crypto.randomUUID()}.part`,
      `.bftp-tmp-${crypto.randomUUID()}`,
      ".bftp-tmp-resume-mine.part",
      resumeTemporaryName("a".repeat(63)),
      resumeTemporaryName("A".repeat(64)),
    ]
  ) {
    ok(!UPLOAD_TEMP_NAME.test(name) && !RESUME_TEMP_NAME.test(name), name);
  }
});

/** The served root's two backends over one folder: descriptors (Linux) and host paths. */
function backends(dir: string): [string, TreeBackend][] {
  const fd = FdBackend.open(dir);
  return [["path", new PathBackend(dir)], ...(fd ? [["fd", fd] as [string, TreeBackend]] : [])];
}

function closeBackend(fs: TreeBackend): void {
  if (fs instanceof FdBackend) fs.close();
}

Deno.test("root: createUploadTemporary() makes a new, locked file with a server name", async () => {
  await using tmp = await tempDir();
  const dir = await Deno.realPath(tmp.path);
  for (const [kind, fs] of backends(dir)) {
    const temp = createUploadTemporary(fs, fs.root, 0o644);
    const other = createUploadTemporary(fs, fs.root, 0o644);
    try {
      ok(UPLOAD_TEMP_NAME.test(temp.name), temp.name);
      ok(temp.name !== other.name, kind);
      // Another open of it cannot lock it while the upload holds it.
      using probe = await Deno.open(`${dir}/${temp.name}`, { read: true });
      equal(await probe.tryLock(true), false, kind);
    } finally {
      for (const t of [temp, other]) {
        t.file.close();
        fs.release(t.ref);
      }
      closeBackend(fs);
    }
  }
});

Deno.test("root: createUploadTemporary() starts again when a clean-up removes its file before the lock", async () => {
  await using tmp = await tempDir();
  const dir = await Deno.realPath(tmp.path);
  for (const [kind, fs] of backends(dir)) {
    // The first file made is removed at once, as another server's clean-up would between
    // the create and the lock (it found the file unlocked).
    let removed = 0;
    const createFile: TreeBackend["createFile"] = (at, name, mode, exclusive) => {
      const created = fs.createFile(at, name, mode, exclusive);
      if (removed++ === 0) fs.unlinkAt(at, name, false);
      return created;
    };
    const racing = new Proxy(fs, {
      get: (target, key) => {
        if (key === "createFile") return createFile;
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const temp = createUploadTemporary(racing, fs.root, 0o644);
    try {
      equal(removed, 2, kind);
      // The file it holds is the one under its name, and the only temporary there.
      deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [temp.name], kind);
      const named = Deno.lstatSync(`${dir}/${temp.name}`);
      equal(BigInt(named.ino ?? -1), fs.stat(temp.ref).ino, kind);
    } finally {
      temp.file.close();
      fs.release(temp.ref);
      closeBackend(fs);
      await Deno.remove(`${dir}/${temp.name}`);
    }
  }
});

Deno.test("root: openResumeTemporary() continues a kept part, and answers null while another holds it", async () => {
  await using tmp = await tempDir();
  const dir = await Deno.realPath(tmp.path);
  for (const [kind, fs] of backends(dir)) {
    const name = resumeTemporaryName(kind === "fd" ? "d".repeat(64) : "e".repeat(64));
    const first = openResumeTemporary(fs, fs.root, name, 0o644);
    ok(first !== null);
    first.file.writeSync(new TextEncoder().encode("kept"));
    equal(openResumeTemporary(fs, fs.root, name, 0o644), null, kind);
    first.file.close();
    fs.release(first.ref);
    const again = openResumeTemporary(fs, fs.root, name, 0o644);
    ok(again !== null);
    equal(fs.stat(again.ref).size, 4, kind);
    again.file.close();
    fs.release(again.ref);
    closeBackend(fs);
  }
});

Deno.test("root: openResumeTemporary() refuses a link planted under its name", async () => {
  await using tmp = await tempDir();
  const dir = await Deno.realPath(tmp.path);
  await Deno.writeTextFile(`${dir}/victim`, "keep me");
  const name = resumeTemporaryName("f".repeat(64));
  await Deno.symlink(`${dir}/victim`, `${dir}/${name}`);
  for (const [kind, fs] of backends(dir)) {
    let threw = false;
    try {
      openResumeTemporary(fs, fs.root, name, 0o644);
    } catch (e) {
      threw = e instanceof Deno.errors.FilesystemLoop;
    }
    ok(threw, kind);
    equal(await Deno.readTextFile(`${dir}/victim`), "keep me");
    closeBackend(fs);
  }
});

Deno.test("root: removeUnowned() removes an unlocked file only, and checks its condition under the lock", async () => {
  await using tmp = await tempDir();
  const dir = await Deno.realPath(tmp.path);
  for (const [kind, fs] of backends(dir)) {
    const name = `.bftp-tmp-${crypto.randomUUID()}.part`;
    const path = `${dir}/${name}`;
    await Deno.writeTextFile(path, "left");
    {
      using holder = await Deno.open(path, { write: true });
      await holder.lock(true);
      equal(removeUnowned(fs, fs.root, name), false, kind);
    }
    equal(removeUnowned(fs, fs.root, name, (stat) => stat.size > 100), false);
    equal(removeUnowned(fs, fs.root, name, (stat) => stat.size === 4), true);
    deepEqual([...Deno.readDirSync(dir)], []);
    equal(removeUnowned(fs, fs.root, name), false, "already gone");
    // A link of a temporary's name is not the server's: never followed, never removed.
    await Deno.writeTextFile(`${dir}/target`, "x");
    await Deno.symlink(`${dir}/target`, path);
    equal(removeUnowned(fs, fs.root, name), false, kind);
    await Deno.remove(path);
    await Deno.remove(`${dir}/target`);
    closeBackend(fs);
  }
});
