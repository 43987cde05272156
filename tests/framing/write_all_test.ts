import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { writeAll } from "../../lib/framing/write_all.ts";
import { readUntilClose } from "../../lib/framing/until_close.ts";
import { ConnectionError } from "../../lib/errors.ts";
import { MemoryWriter, randomBytes, seededRandom, socketPair } from "./helpers.ts";
import { sha256 } from "../helpers.ts";

Deno.test("framing: writeAll() loops over partial writes of random sizes", async () => {
  for (const seed of [1, 2, 3]) {
    const rng = seededRandom(seed);
    const data = randomBytes(rng, 5000);
    const writer = new MemoryWriter(17, rng);
    await writeAll(writer, data);
    deepEqual(writer.bytes, data, `seed ${seed}`);
    ok(writer.writes >= 5000 / 17, `seed ${seed}: ${writer.writes} writes`);
  }
  const oneByte = new MemoryWriter(1);
  await writeAll(oneByte, new Uint8Array([9, 8, 7]));
  equal(oneByte.writes, 3);
});

Deno.test("framing: writeAll() treats a writer that takes nothing as a broken connection", async () => {
  await rejects(writeAll({ write: () => Promise.resolve(0) }, new Uint8Array(3)), ConnectionError);
  // Nothing to write: no call at all.
  const writer = new MemoryWriter();
  await writeAll(writer, new Uint8Array());
  equal(writer.writes, 0);
});

Deno.test("framing: writeAll() delivers a buffer larger than the socket buffers whole", async () => {
  using pair = await socketPair();
  const data = randomBytes(seededRandom(6), 4 << 20);
  const reading = readUntilClose(pair.server, { maxBytes: 8 << 20 });
  await writeAll(pair.client, data);
  await pair.client.closeWrite();
  const got = await reading;
  equal(got.byteLength, data.byteLength);
  deepEqual(
    sha256(got),
    sha256(data),
  );
});
