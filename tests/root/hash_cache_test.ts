import { deepEqual } from "node:assert/strict";
import { contentKey, HashCache } from "../../lib/root/hash_cache.ts";

Deno.test("root: HashCache.set() tells onSet, learn() does not", () => {
  const told: [string, string][] = [];
  const cache = new HashCache({ onSet: (key, sha256) => told.push([key, sha256]) });
  cache.set("a", "1");
  cache.learn("b", "2");
  cache.set(null, "3");
  deepEqual(told, [["a", "1"]]);
  deepEqual([cache.get("a"), cache.get("b"), cache.get(null)], ["1", "2", undefined]);
});

Deno.test("root: HashCache forgets the least recently used beyond its capacity", () => {
  const cache = new HashCache({ capacity: 2 });
  cache.set("a", "1");
  cache.set("b", "2");
  cache.get("a");
  cache.learn("c", "3");
  deepEqual([cache.get("a"), cache.get("b"), cache.get("c")], ["1", undefined, "3"]);
});

Deno.test("root: contentKey() changes when a file is rewritten in place", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "one");
    const before = contentKey(await Deno.stat(file));
    await new Promise((r) => setTimeout(r, 10));
    await Deno.writeTextFile(file, "two");
    const after = contentKey(await Deno.stat(file));
    deepEqual(before === after, false);
  } finally {
    await Deno.remove(file);
  }
});
