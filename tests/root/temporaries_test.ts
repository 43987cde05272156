import { deepEqual, equal, ok } from "node:assert/strict";
import { basename } from "node:path";
import {
  createUploadTemporary,
  openResumeTemporary,
  removeUnowned,
  RESUME_TEMP_NAME,
  resumeTemporaryName,
  UPLOAD_TEMP_NAME,
} from "../../lib/root/temporaries.ts";
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

Deno.test("root: createUploadTemporary() makes a new, locked file with a server name", async () => {
  {
    await using tmp = await tempDir();
    const dir = tmp.path;
    const { temp, file } = await createUploadTemporary(dir, 0o644);
    const other = await createUploadTemporary(dir, 0o644);
    try {
      ok(UPLOAD_TEMP_NAME.test(basename(temp)), temp);
      ok(temp !== other.temp);
      // Another open of it cannot lock it while the upload holds it.
      using probe = await Deno.open(temp, { read: true });
      equal(await probe.tryLock(true), false);
    } finally {
      file.close();
      other.file.close();
    }
  }
});

Deno.test("root: openResumeTemporary() continues a kept part, and answers null while another holds it", async () => {
  {
    await using tmp = await tempDir();
    const path = `${tmp.path}/${resumeTemporaryName("d".repeat(64))}`;
    const first = await openResumeTemporary(path, 0o644);
    ok(first !== null);
    await first.write(new TextEncoder().encode("kept"));
    equal(await openResumeTemporary(path, 0o644), null);
    first.close();
    const again = await openResumeTemporary(path, 0o644);
    ok(again !== null);
    equal((await again.stat()).size, 4);
    again.close();
  }
});

Deno.test("root: removeUnowned() removes an unlocked file only, and checks its condition under the lock", async () => {
  {
    await using tmp = await tempDir();
    const dir = tmp.path;
    const path = `${dir}/.bftp-tmp-${crypto.randomUUID()}.part`;
    await Deno.writeTextFile(path, "left");
    {
      using holder = await Deno.open(path, { write: true });
      await holder.lock(true);
      equal(await removeUnowned(path), false);
    }
    equal(await removeUnowned(path, (info) => info.size > 100), false);
    equal(await removeUnowned(path, (info) => info.size === 4), true);
    deepEqual([...Deno.readDirSync(dir)], []);
    equal(await removeUnowned(path), false, "already gone");
  }
});
