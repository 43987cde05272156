import { deepEqual, ok, rejects } from "node:assert/strict";
import { LocalIoError } from "../../lib/errors.ts";
import { OutputFile } from "../../lib/http/output_file.ts";
import { tempDir } from "../helpers.ts";

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("http: OutputFile writes beside FILE under a hidden name, then renames", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const out = await OutputFile.create(`${dir}/page.html`);
  ok(/^\.page\.html\.bftp-tmp-[0-9a-f-]{36}$/.test(out.tempPath.slice(dir.length + 1)));
  await out.write(new TextEncoder().encode("<p>hi</p>"));
  deepEqual(await names(dir), [out.tempPath.slice(dir.length + 1)]);
  await out.commit();
  deepEqual(await names(dir), ["page.html"]);
  deepEqual(await Deno.readTextFile(`${dir}/page.html`), "<p>hi</p>");
});

Deno.test("http: OutputFile.discard() leaves no file and keeps an existing FILE", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/keep.txt`, "old");
  const out = await OutputFile.create(`${dir}/keep.txt`);
  await out.write(new TextEncoder().encode("new, partial"));
  await out.discard();
  await out.discard();
  deepEqual(await names(dir), ["keep.txt"]);
  deepEqual(await Deno.readTextFile(`${dir}/keep.txt`), "old");
});

Deno.test("http: OutputFile reports a missing folder and a FILE that is a folder", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await rejects(OutputFile.create(`${dir}/no/such/x.txt`), (e: unknown) => {
    ok(e instanceof LocalIoError);
    deepEqual(e.message, `Cannot write "${dir}/no/such/x.txt": no such folder`);
    return true;
  });
  await Deno.mkdir(`${dir}/sub`);
  const out = await OutputFile.create(`${dir}/sub`);
  await rejects(out.commit(), LocalIoError);
  deepEqual(await names(dir), ["sub"]);
});

Deno.test("http: OutputFile writes a device such as /dev/null in place", async () => {
  const out = await OutputFile.create("/dev/null");
  try {
    deepEqual(out.tempPath, "/dev/null");
    await out.write(new TextEncoder().encode("gone"));
    await out.commit();
  } finally {
    await out.discard();
  }
  ok(Deno.statSync("/dev/null").isCharDevice);
});
