// Changed large files moved as deltas (lib/sync/delta.ts) against a real
// server, in process: only the blocks that differ move, each way; the new
// file is the source's, byte for byte, with its time; a file that differs
// too much goes whole (null); a remote file that changes between its
// blocks and their fetching is refused (CHANGED) and nothing lands.
import { deepEqual, equal, rejects } from "node:assert/strict";
import type { BftpClient } from "../../lib/client/client.ts";
import { RemoteError } from "../../lib/errors.ts";
import { DELTA_MIN, deltaBlockSize, pullDelta, pushDelta } from "../../lib/sync/delta.ts";
import { startTestServer } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

const SIZE = 2 * DELTA_MIN + 12_345;
const BLOCK = deltaBlockSize(SIZE);

/** Random bytes of `SIZE`, and a copy with `blocks` rewritten. */
function versions(blocks: number[]): [Uint8Array, Uint8Array] {
  const old = new Uint8Array(SIZE);
  for (let at = 0; at < SIZE; at += 65536) crypto.getRandomValues(old.subarray(at, at + 65536));
  const next = old.slice();
  for (const b of blocks) next.fill(b + 1, b * BLOCK, Math.min((b + 1) * BLOCK, SIZE));
  return [old, next];
}

Deno.test("sync/delta: a pull fetches only the changed blocks and lands the remote file whole, with its time", async () => {
  await using server = await startTestServer();
  await using tmp = await tempDir();
  const [old, next] = versions([3, 10]);
  await Deno.writeFile(`${server.root}/f.bin`, next);
  await Deno.writeFile(tmp.join("f.bin"), old);
  using client = await server.connect();
  const mtime = 1_700_000_000_000;
  const got = await pullDelta(client, "/f.bin", tmp.join("f.bin"), { mtime, mode: 0o600 });
  equal(got?.fetched, 2 * BLOCK);
  equal(got?.result.size, SIZE);
  deepEqual(await Deno.readFile(tmp.join("f.bin")), next);
  const info = await Deno.stat(tmp.join("f.bin"));
  deepEqual([info.mtime?.getTime(), info.mode! & 0o777], [mtime, 0o600]);
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["f.bin"]);
});

Deno.test("sync/delta: a push sends only the changed blocks, and the server makes the file whole", async () => {
  await using server = await startTestServer();
  await using tmp = await tempDir();
  const [old, next] = versions([0, 7]);
  // The new file is also longer: its last block is new.
  const longer = new Uint8Array(SIZE + 1000);
  longer.set(next);
  longer.fill(42, SIZE);
  await Deno.writeFile(`${server.root}/f.bin`, old);
  await Deno.writeFile(tmp.join("f.bin"), longer);
  using client = await server.connect();
  const got = await pushDelta(client, tmp.join("f.bin"), "/f.bin", { mtime: 1_600_000_000_000 });
  const lastBlock = Math.floor(SIZE / BLOCK);
  const expected = 2 * BLOCK + (longer.length - lastBlock * BLOCK);
  equal(got?.sent, expected);
  deepEqual(await Deno.readFile(`${server.root}/f.bin`), longer);
  equal((await Deno.stat(`${server.root}/f.bin`)).mtime?.getTime(), 1_600_000_000_000);
});

Deno.test("sync/delta: a file that differs in most of its blocks, or is small, goes whole", async () => {
  await using server = await startTestServer();
  await using tmp = await tempDir();
  const all = Array.from({ length: Math.ceil(SIZE / BLOCK) }, (_, i) => i);
  const [old, next] = versions(all);
  await Deno.writeFile(`${server.root}/f.bin`, next);
  await Deno.writeFile(tmp.join("f.bin"), old);
  await Deno.writeFile(tmp.join("small.bin"), new Uint8Array(1000));
  await Deno.writeFile(`${server.root}/small.bin`, new Uint8Array(DELTA_MIN));
  using client = await server.connect();
  equal(await pullDelta(client, "/f.bin", tmp.join("f.bin"), { mtime: null, mode: null }), null);
  equal(await pushDelta(client, tmp.join("f.bin"), "/f.bin", {}), null);
  equal(
    await pullDelta(client, "/small.bin", tmp.join("small.bin"), { mtime: null, mode: null }),
    null,
  );
  deepEqual(await Deno.readFile(tmp.join("f.bin")), old);
});

Deno.test("sync/delta: a remote file that changes after its blocks were read is refused, and nothing lands", async () => {
  await using server = await startTestServer();
  await using tmp = await tempDir();
  const [old, next] = versions([5]);
  await Deno.writeFile(`${server.root}/f.bin`, next);
  await Deno.writeFile(tmp.join("f.bin"), old);
  using real = await server.connect();
  // The file is rewritten (longer) between BLOCKS and the fetching of the changed block.
  const client = new Proxy(real, {
    get(target, key) {
      if (key !== "blocks") {
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (path: string, blockSize: number) => {
        const blocks = await target.blocks(path, blockSize);
        await Deno.writeFile(`${server.root}/f.bin`, new Uint8Array(SIZE + 1));
        return blocks;
      };
    },
  }) as BftpClient;
  await rejects(
    pullDelta(client, "/f.bin", tmp.join("f.bin"), { mtime: null, mode: null }),
    (e) => e instanceof RemoteError && e.code === "CHANGED",
  );
  deepEqual(await Deno.readFile(tmp.join("f.bin")), old);
  deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["f.bin"]);
});
