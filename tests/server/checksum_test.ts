import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import { encodeSizeHeader } from "../../lib/framing/size_header.ts";
import { readFixed } from "../../lib/framing/fixed.ts";
import { type ChecksumName, CHECKSUMS } from "../../lib/protocol/limits.ts";
import { EAGER_PUT_MAX } from "../../lib/client/transfers.ts";
import { MemoryReader, MemoryWriter, randomBytes, seededRandom } from "../framing/helpers.ts";
import { hostTree, type RawSession, settle, startTestServer } from "./helpers.ts";
import { hashIn, sha256 } from "../helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads a sized GET body from a raw session: its bytes and its trailer of `digits` hex digits. */
async function readSizedBody(raw: RawSession, digits: number) {
  const size = parseInt(decoder.decode(await readFixed(raw.reader, 16)), 16);
  const bytes = await readFixed(raw.reader, size);
  const trailer = decoder.decode(await readFixed(raw.reader, digits));
  return { bytes, trailer };
}

Deno.test("server: the hello settles the client's first checksum the server speaks", async () => {
  await using srv = await startTestServer();
  for (
    const [line, checksum] of [
      ["BFTP/2 xxh3-128,sha256", "xxh3-128"],
      ["BFTP/2 sha256,xxh3-128", "sha256"],
      ["BFTP/2 xxh3-128", "xxh3-128"],
      ["BFTP/2 sha256", "sha256"],
      ["BFTP/2 md5,xxh3-128", "xxh3-128"],
      // No list: SHA-256, as version 1.
      ["BFTP/2", "sha256"],
    ]
  ) {
    using raw = await srv.raw(line);
    equal(raw.hello?.ok && raw.hello.checksum, checksum, line);
    deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" }, `${line}: goes on`);
  }
  // Version 1 hears of no checksum: its trailers are SHA-256.
  using old = await srv.raw("BFTP/1");
  ok(old.hello?.ok && !("checksum" in old.hello), JSON.stringify(old.hello));
  // A peer that offers only what the server does not speak gets a one-line refusal.
  await rejects(srv.raw("BFTP/2 md5"), /handshake was refused/);
});

Deno.test("server: held to SHA-256, it refuses a client offering only XXH3-128, in one line", async () => {
  await using srv = await startTestServer({ server: { checksums: ["sha256"] } });
  using both = await srv.raw("BFTP/2 xxh3-128,sha256");
  equal(both.hello?.ok && both.hello.checksum, "sha256");
  // The client library: the default offer settles SHA-256 here...
  using client = await srv.connect();
  equal(client.checksum, "sha256");
  // ...and an offer of XXH3-128 alone is refused, saying both lists.
  await rejects(
    srv.connect({ checksums: ["xxh3-128"] }),
    (e) =>
      e instanceof RemoteError && e.code === "BAD_REQUEST" &&
      e.message ===
        'No checksum in common: the client offers "xxh3-128", this server speaks "sha256"',
  );
  // A client that speaks only SHA-256 against a server that prefers XXH3: SHA-256.
  await using fast = await startTestServer();
  using sha = await fast.connect({ checksums: ["sha256"] });
  equal(sha.checksum, "sha256");
  equal(sha.hello.checksum, "sha256");
});

Deno.test("server: a GET's trailer is the session's checksum: 32 hex digits of XXH3-128, 64 of SHA-256 (and for version 1)", async () => {
  const data = randomBytes(seededRandom(0x3c), 100_000);
  await using srv = await startTestServer({ files: { "f.bin": data } });
  // Settled, so that the first GET of each checksum remembers its hash and the second sends it.
  await settle();
  for (
    const [line, checksum] of [
      ["BFTP/2 xxh3-128", "xxh3-128"],
      ["BFTP/2 sha256", "sha256"],
      ["BFTP/1", "sha256"],
    ] as const
  ) {
    using raw = await srv.raw(line);
    // Twice: the second is sent from the hash cache, which keeps each checksum apart.
    for (let i = 0; i < 2; i++) {
      const reply = await raw.request({ op: "GET", path: "f.bin" });
      equal(reply.ok && reply.size, data.byteLength, line);
      const body = await readSizedBody(raw, checksum === "sha256" ? 64 : 32);
      deepEqual(body.bytes, data);
      equal(body.trailer, await hashIn(checksum, data), line);
      deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" }, `${line}: in step`);
    }
  }
});

Deno.test("server: a PUT in an XXH3-128 session is checked against an XXH3-128 trailer, and its reply names it so", async () => {
  await using srv = await startTestServer();
  using raw = await srv.raw("BFTP/2 xxh3-128");
  const put = async (path: string, trailer: string) => {
    deepEqual(await raw.request({ op: "PUT", path, size: 5, overwrite: true }), {
      ok: true,
      ready: true,
    });
    await raw.write(encodeSizeHeader(5, { wide: true }));
    await raw.write(encoder.encode("hello" + trailer));
    return await raw.receive();
  };
  // A wrong trailer (the XXH3-128 of other bytes) is INTEGRITY; nothing is stored.
  const wrong = await put("bad.txt", await hashIn("xxh3-128", "HELLO"));
  equal(wrong.ok ? "ok" : wrong.code, "INTEGRITY");
  deepEqual(await raw.request({ op: "PWD" }), { ok: true, cwd: "/" });
  deepEqual(await hostTree(srv.root), []);
  // The right one stores the file; the reply confirms the hash under its checksum's name.
  const right = await put("good.txt", await hashIn("xxh3-128", "hello"));
  deepEqual(right, { ok: true, size: 5, "xxh3-128": await hashIn("xxh3-128", "hello") });
  equal(await Deno.readTextFile(`${srv.root}/good.txt`), "hello");
  // A SHA-256 trailer is not an XXH3-128 one: its first 32 digits are read, and do not match.
  const sha = await put("sha.txt", sha256("hello").slice(0, 32));
  equal(sha.ok ? "ok" : sha.code, "INTEGRITY");
});

Deno.test("server: a version 1 PUT still ends with a 64-digit SHA-256 trailer and a sha256 reply", async () => {
  await using srv = await startTestServer();
  using raw = await srv.raw("BFTP/1");
  deepEqual(await raw.request({ op: "PUT", path: "a.txt", size: 5, overwrite: true }), {
    ok: true,
    ready: true,
  });
  await raw.write(encodeSizeHeader(5, { wide: true }));
  await raw.write(encoder.encode("hello" + sha256("hello")));
  deepEqual(await raw.receive(), { ok: true, size: 5, sha256: sha256("hello") });
});

for (const checksum of CHECKSUMS) {
  Deno.test(`client: GET and PUT verified end to end with ${checksum}`, async () => {
    await using srv = await startTestServer();
    using client = await srv.connect({ checksums: [checksum] as ChecksumName[] });
    equal(client.checksum, checksum);
    // One body sent eagerly (small), one after the server's ready (over EAGER_PUT_MAX), one chunked.
    for (
      const [size, sized] of [[70_000, true], [EAGER_PUT_MAX + 1, true], [50_000, false]] as const
    ) {
      const data = randomBytes(seededRandom(size), size);
      const put = await client.put("f.bin", new MemoryReader(data, [65536]), {
        size: sized ? size : null,
      });
      deepEqual(put, { size, checksum, hash: await hashIn(checksum, data) });
      equal(sha256(await Deno.readFile(`${srv.root}/f.bin`)), sha256(data));
      const sink = new MemoryWriter();
      const got = await client.get("f.bin", sink);
      deepEqual(got, put);
      equal(sha256(sink.bytes), sha256(data));
    }
    // HASH stays SHA-256 whatever the session's checksum.
    equal((await client.hash("f.bin")).sha256, sha256(await Deno.readFile(`${srv.root}/f.bin`)));
  });
}
