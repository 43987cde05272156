import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  localFacts,
  localFactsIn,
  openLocalFolder,
  openSourceFile,
} from "../../lib/client/source_file.ts";
import { Libc } from "../../lib/libc/libc.ts";
import { concatBytes } from "../../lib/framing/concat.ts";
import { SYNC_READ_MAX } from "../../lib/framing/file_reader.ts";
import { tempDir } from "../e2e/helpers.ts";

async function readAll(reader: { read(p: Uint8Array): Promise<number | null> }): Promise<string> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(64 * 1024);
    const n = await reader.read(buf);
    if (n === null) break;
    chunks.push(buf.subarray(0, n));
  }
  return new TextDecoder().decode(concatBytes(chunks));
}

Deno.test("client: openSourceFile() reads a small file and sees it change", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/a.txt`;
  await Deno.writeTextFile(path, "hello");
  await Deno.chmod(path, 0o640);
  await Deno.utime(path, new Date(), new Date(1_600_000_000_123));
  const source = await openSourceFile(path);
  try {
    deepEqual(source.facts, { type: "file", size: 5, mtime: 1_600_000_000_123, mode: 0o640 });
    equal(await readAll(source.reader()), "hello");
    ok(source.unchanged());
    await Deno.writeTextFile(path, "!", { append: true });
    equal(source.unchanged(), false);
  } finally {
    source.close();
  }
});

Deno.test("client: a small file opened through libc fills a buffer at once, short when it shrank since", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/a.txt`;
  await Deno.writeTextFile(path, "hello there");
  const source = await openSourceFile(path);
  try {
    if (Libc.load() === null) return equal(source.fill, undefined);
    const data = new Uint8Array(source.facts.size);
    equal(source.fill!(data), 11);
    equal(new TextDecoder().decode(data), "hello there");
  } finally {
    source.close();
  }
  const shrinking = await openSourceFile(path);
  try {
    await Deno.truncate(path, 4);
    equal(shrinking.fill!(new Uint8Array(shrinking.facts.size)), 4);
    equal(shrinking.unchanged(), false);
  } finally {
    shrinking.close();
  }
});

Deno.test("client: openSourceFile() gives Deno's own file when asked, and for a large file", async () => {
  await using tmp = await tempDir();
  const small = `${tmp.path}/small`;
  const large = `${tmp.path}/large`;
  await Deno.writeTextFile(small, "hi");
  await Deno.writeFile(large, new Uint8Array(SYNC_READ_MAX + 1).fill(97));
  for (const [path, seekable] of [[small, true], [large, false]] as const) {
    const source = await openSourceFile(path, seekable);
    try {
      ok(source.file !== null, path);
      equal((await readAll(source.reader())).length, source.facts.size);
    } finally {
      source.close();
    }
  }
});

Deno.test({
  name: "client: openSourceFile() streams a FIFO without cutting off its writer",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using tmp = await tempDir();
    const path = `${tmp.path}/fifo`;
    equal((await new Deno.Command("mkfifo", { args: [path] }).output()).code, 0);
    const writer = new Deno.Command("sh", { args: ["-c", `printf streamed > '${path}'`] }).spawn();
    // The writer waits in its open for a reader; an open that pairs with it and closes again
    // cuts it off (it dies of SIGPIPE), and the open that follows waits for a writer forever.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const opening = openSourceFile(path);
    const status = await writer.status;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), 2000));
    const source = await Promise.race([opening, late]);
    clearTimeout(timer);
    if (source === null) {
      // Free the stuck open, then fail.
      Deno.openSync(path, { write: true }).close();
      (await opening).close();
    }
    ok(source !== null, "the open waited for a writer that was cut off");
    try {
      equal(source.facts.type, "other");
      equal(await readAll(source.reader()), "streamed");
    } finally {
      source.close();
    }
    ok(status.success, `the writer ended with ${status.code}`);
  },
});

Deno.test({
  name:
    "client: a file a tree listed is opened without a look first; a FIFO found there since is refused, not waited on",
  ignore: Deno.build.os === "windows" || Libc.load() === null,
  fn: async () => {
    await using tmp = await tempDir();
    const path = `${tmp.path}/a.txt`;
    await Deno.writeTextFile(path, "listed");
    const source = await openSourceFile(path, false, true);
    try {
      deepEqual([source.facts.type, source.facts.size], ["file", 6]);
      const data = new Uint8Array(6);
      equal(source.fill!(data), 6);
      equal(new TextDecoder().decode(data), "listed");
      ok(source.unchanged());
    } finally {
      source.close();
    }
    // Replaced by a FIFO after the listing: no writer ever comes, and the open does not wait.
    await Deno.remove(path);
    equal((await new Deno.Command("mkfifo", { args: [path] }).output()).code, 0);
    await rejects(openSourceFile(path, false, true), /changed while it was opened/);
  },
});

Deno.test("client: localFacts() follows links and throws Deno's errors", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/f`, "abc");
  await Deno.symlink(`${tmp.path}/f`, `${tmp.path}/link`);
  equal(localFacts(`${tmp.path}/link`).size, 3);
  equal(localFacts(tmp.path).type, "dir");
  throws(() => localFacts(`${tmp.path}/missing`), Deno.errors.NotFound);
  // The same through the folder's descriptor (where there is libc), name by name.
  {
    using folder = openLocalFolder(tmp.path);
    const { fd } = folder;
    equal(fd !== null, Libc.load() !== null);
    equal(localFactsIn(fd, "link", `${tmp.path}/link`).size, 3);
    equal(localFactsIn(fd, "f", `${tmp.path}/f`).type, "file");
    throws(() => localFactsIn(fd, "missing", `${tmp.path}/missing`), Deno.errors.NotFound);
  }
  using missing = openLocalFolder(`${tmp.path}/missing`);
  equal(missing.fd, null);
});
