// docs/PIPE.md's wire examples are what a real sender writes.

import { ok } from "node:assert/strict";
import { sendPipe } from "../../lib/pipe/pipe.ts";
import type { ChecksumName } from "../../lib/checksum.ts";

async function wire(size: number | null, checksum: ChecksumName): Promise<string> {
  const parts: Uint8Array[] = [];
  let done = false;
  await sendPipe({ write: (p) => (parts.push(p.slice()), Promise.resolve(p.byteLength)) }, {
    read: (p) => {
      if (done) return Promise.resolve(null);
      done = true;
      p.set(new TextEncoder().encode("hello"));
      return Promise.resolve(5);
    },
  }, { size, checksum });
  return parts.map((p) => new TextDecoder().decode(p)).join("").replace("\n", "\\n");
}

Deno.test("docs: PIPE.md's wire examples of 'hello' are what bftp send writes", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/PIPE.md", import.meta.url));
  for (
    const [size, checksum] of [[5, "sha256"], [null, "sha256"], [5, "xxh3-128"]] as const
  ) {
    const line = await wire(size, checksum);
    ok(doc.includes("```\n" + line + "\n```"), `docs/PIPE.md shows ${line}`);
  }
});
