// The body checksums (lib/checksum.ts): each algorithm's digest of known
// bytes, at once or after loading, natively and where there is no FFI.

import { equal, notEqual } from "node:assert/strict";
import { createChecksum, createChecksumNow, sha256Hex } from "../lib/checksum.ts";
import { tempDir } from "./helpers.ts";

const HELLO = new TextEncoder().encode("hello");
// xxhsum -H2 and sha256sum of the five bytes "hello".
const XXH3_HELLO = "b5e9c1ad071b3e7fc779cfaa5e523818";
const SHA256_HELLO = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

Deno.test("checksum: XXH3-128 and SHA-256 of 'hello', made at once or after loading", async () => {
  for (const [name, hex] of [["xxh3-128", XXH3_HELLO], ["sha256", SHA256_HELLO]] as const) {
    const loaded = await createChecksum(name);
    loaded.update(HELLO);
    equal(loaded.digest(), hex);
    const now = createChecksumNow(name);
    notEqual(now, null);
    now!.update(HELLO.subarray(0, 2));
    now!.update(HELLO.subarray(2));
    equal(now!.digest(), hex);
  }
  equal(sha256Hex("hello"), SHA256_HELLO);
});

Deno.test("checksum: without FFI, XXH3-128 comes from WebAssembly with the same digest", async () => {
  const script = `
    import { createChecksum, createChecksumNow } from ${
    JSON.stringify(new URL("../lib/checksum.ts", import.meta.url).href)
  };
    const before = createChecksumNow("xxh3-128");
    const hash = await createChecksum("xxh3-128");
    hash.update(new TextEncoder().encode("hello"));
    console.log(JSON.stringify({ before: before === null, hex: hash.digest(), kind: hash.constructor.name }));
  `;
  await using tmp = await tempDir();
  await Deno.writeTextFile(tmp.join("no_ffi.ts"), script);
  const config = new URL("../deno.json", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", config, "--allow-read", "--allow-env", tmp.join("no_ffi.ts")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const seen = JSON.parse(new TextDecoder().decode(out.stdout));
  // No WebAssembly hasher is ready before the first one is made; then it gives the same digest.
  equal(seen.before, true);
  equal(seen.hex, XXH3_HELLO);
  equal(seen.kind, "Xxh3Hash");
});
