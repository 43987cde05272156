import { deepEqual } from "node:assert/strict";
import { ok } from "node:assert/strict";
import {
  contentKey,
  HashCache,
  SETTLE_COARSE_MS,
  SETTLE_FINE_MS,
  settled,
} from "../../lib/root/hash_cache.ts";
import { FdBackend, openBackend } from "../../lib/root/fd_backend.ts";
import { tempDir } from "../e2e/helpers.ts";

Deno.test("root: HashCache.set() tells onSet, learn() does not", () => {
  const told: [string, string][] = [];
  const cache = new HashCache({ onSet: (key, hash) => told.push([key, hash]) });
  cache.set("a", "1");
  cache.learn("sha256 b", "2");
  cache.set(null, "3");
  deepEqual(told, [["sha256 a", "1"]]);
  deepEqual([cache.get("a"), cache.get("b"), cache.get(null)], ["1", "2", undefined]);
});

Deno.test("root: HashCache keeps each checksum's hash of a file apart", () => {
  const told: string[] = [];
  const cache = new HashCache({ onSet: (key) => told.push(key) });
  cache.set("k", "s", "sha256");
  cache.set("k", "x", "xxh3-128");
  deepEqual([cache.get("k", "sha256"), cache.get("k", "xxh3-128")], ["s", "x"]);
  // What another worker learns under the key it was told lands under the same checksum.
  const other = new HashCache();
  other.learn(told[1]!, "x");
  deepEqual([other.get("k", "xxh3-128"), other.get("k", "sha256")], ["x", undefined]);
});

Deno.test("root: HashCache forgets the least recently used beyond its capacity", () => {
  const cache = new HashCache({ capacity: 2 });
  cache.set("a", "1");
  cache.set("b", "2");
  cache.get("a");
  cache.learn("sha256 c", "3");
  deepEqual([cache.get("a"), cache.get("b"), cache.get("c")], ["1", undefined, "3"]);
});

Deno.test("root: contentKey() changes when a file is rewritten in place, even with its time put back", async () => {
  await using tmp = await tempDir();
  const dir = await Deno.realPath(tmp.path);
  const fs = openBackend(dir);
  await Deno.writeTextFile(`${dir}/f`, "one");
  const mtime = new Date("2020-01-01T00:00:00Z");
  await Deno.utime(`${dir}/f`, mtime, mtime);
  const before = contentKey(fs.statAt(fs.root, "f"));
  await Deno.writeTextFile(`${dir}/f`, "two");
  await Deno.utime(`${dir}/f`, mtime, mtime);
  const after = contentKey(fs.statAt(fs.root, "f"));
  ok(before !== null);
  deepEqual(before === after, false);
  if (fs instanceof FdBackend) fs.close();
});

Deno.test("root: settled() keeps a file changed in the same instant as it was read out of the cache", () => {
  const stat = (ctimeNs: bigint) => ({
    type: "file" as const,
    size: 1,
    mode: 0o644,
    dev: "1:2",
    ino: 3n,
    mtimeNs: 0n,
    ctimeNs,
  });
  const at = 1_700_000_000_000;
  const ns = (ms: number) => BigInt(ms) * 1_000_000n + 123n;
  deepEqual(settled(stat(ns(at)), at), false);
  deepEqual(settled(stat(ns(at + 5)), at), false, "changed after the opening");
  deepEqual(settled(stat(ns(at - SETTLE_FINE_MS + 1)), at), false);
  deepEqual(settled(stat(ns(at - SETTLE_FINE_MS - 1)), at), true);
  // A change time of whole seconds: a file system that stamps seconds needs more.
  const whole = BigInt(at - 1000) * 1_000_000n;
  deepEqual(settled(stat(whole), at), false);
  deepEqual(settled(stat(whole), at + SETTLE_COARSE_MS), true);
  deepEqual(settled({ ...stat(0n), ctimeNs: null }, at), false);
});
