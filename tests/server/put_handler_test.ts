// A PUT's body, as the server takes it (lib/server/put_handler.ts): either form, sized or chunked,
// whatever the request's `size` said (docs/PROTOCOL.md, "GET and PUT on the wire"), for a small
// body read whole and a large one streamed alike.
import { deepEqual, equal, ok } from "node:assert/strict";
import { startTestServer } from "./helpers.ts";
import { sha256 } from "../helpers.ts";

const encoder = new TextEncoder();

/** `data` as a chunked body: the marker, chunks of at most `piece` bytes, the end, the trailer. */
function chunked(data: Uint8Array, piece: number, trailerOf: Uint8Array = data): Uint8Array[] {
  const out: Uint8Array[] = [encoder.encode("ffffffffffffffff")];
  for (let at = 0; at < data.byteLength; at += piece) {
    const chunk = data.subarray(at, at + piece);
    out.push(encoder.encode(chunk.byteLength.toString(16).padStart(8, "0")), chunk);
  }
  out.push(encoder.encode("00000000"), encoder.encode(sha256(trailerOf)));
  return out;
}

// 11 bytes are read whole (at most 256 KiB), 300,000 stream through.
for (const size of [11, 300_000]) {
  Deno.test(`server: a PUT of size ${size} takes a chunked body; another total is INTEGRITY and the session goes on`, async () => {
    await using srv = await startTestServer({ files: { "old.bin": "old" } });
    using raw = await srv.raw();
    const data = new Uint8Array(size).map((_, i) => i * 7);
    for (
      const [path, body, stored] of [
        ["a.bin", data, true],
        ["old.bin", new Uint8Array(size + 1), false],
        ["b.bin", data.subarray(0, size - 1), false],
      ] as const
    ) {
      const ready = await raw.request({ op: "PUT", path, size, overwrite: true });
      ok(ready.ok, JSON.stringify(ready));
      for (const part of chunked(body, 4096)) await raw.write(part);
      const done = await raw.receive();
      if (stored) {
        deepEqual(done, { ok: true, size, sha256: sha256(data) });
        deepEqual(await Deno.readFile(`${srv.root}/${path}`), data);
      } else {
        equal(done.ok, false, JSON.stringify(done));
        equal(!done.ok && done.code, "INTEGRITY");
        ok(!done.ok && /Size mismatch/.test(done.message), JSON.stringify(done));
      }
      // In step: the next request is answered.
      deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
    }
    equal(await Deno.readTextFile(`${srv.root}/old.bin`), "old");
    ok(!(await Array.fromAsync(Deno.readDir(srv.root))).some((e) => e.name === "b.bin"));
  });
}
