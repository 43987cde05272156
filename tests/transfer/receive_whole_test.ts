// A body taken whole (lib/transfer/receive_body.ts): at once when it is
// buffered whole, the same as the reading way takes it; one of another size
// left to the reading way, one with a wrong trailer read past and refused.

import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { readDelimited } from "../../lib/framing/delimited.ts";
import { createChecksum } from "../../lib/checksum.ts";
import { sendBody } from "../../lib/transfer/body.ts";
import { receiveWhole, receiveWholeBuffered } from "../../lib/transfer/receive_whole.ts";
import { IntegrityError, ProtocolError } from "../../lib/errors.ts";
import {
  concat,
  MemoryReader,
  MemoryWriter,
  randomBytes,
  seededRandom,
} from "../framing/helpers.ts";

const encoder = new TextEncoder();

Deno.test("transfer: a small body buffered whole is taken at once, the same as receiveWhole takes it", async () => {
  // Within the 4 KiB a new reader's buffer holds.
  const data = randomBytes(seededRandom(0x44), 1000);
  for (const checksum of ["xxh3-128", "sha256"] as const) {
    const writer = new MemoryWriter();
    const sent = await sendBody(writer, new MemoryReader(data), {
      size: data.byteLength,
      checksum,
    });
    const wire = concat(encoder.encode("x"), writer.bytes, encoder.encode("NEXT"));
    // Everything after the first byte arrives with it; then only part of the body is buffered.
    for (const sizes of [[wire.byteLength], [500]]) {
      const reader = new BufferedReader(new MemoryReader(wire, sizes));
      equal(await reader.read(new Uint8Array(1)), 1);
      const before = reader.buffered;
      // A spent hash, kept for reuse: XXH3's is made asynchronously the first time.
      (await createChecksum(checksum)).digest();
      const held = new Uint8Array(data.byteLength);
      const now = receiveWholeBuffered(reader, held, "a", checksum);
      if (sizes[0] === 500) {
        // Not all there: nothing taken, and the reading way gets the same.
        equal(now, null);
        equal(reader.buffered, before);
        deepEqual(await receiveWhole(reader, held, "a", checksum), sent);
      } else deepEqual(now, sent);
      deepEqual(held, data);
      equal(new TextDecoder().decode((await readDelimited(reader, { delimiter: "T" }))!), "NEX");
    }
  }
});

Deno.test("transfer: a buffered body of another size is left to receiveWhole, one with a wrong trailer is read past and refused", async () => {
  const data = randomBytes(seededRandom(0x45), 300);
  const writer = new MemoryWriter();
  await sendBody(writer, new MemoryReader(data), { size: data.byteLength, checksum: "sha256" });
  const wire = concat(encoder.encode("x"), writer.bytes, encoder.encode("NEXT"));
  const reader = new BufferedReader(new MemoryReader(wire));
  await reader.read(new Uint8Array(1));
  const before = reader.buffered;
  // A shorter body announced than expected: nothing taken, and the reading way says why.
  equal(receiveWholeBuffered(reader, new Uint8Array(299), "a", "sha256"), null);
  equal(reader.buffered, before);
  await rejects(receiveWhole(reader, new Uint8Array(299), "a", "sha256"), ProtocolError);
  // A flipped trailer digit: the body and trailer are taken (the stream stays in step), then refused.
  const bad = wire.slice();
  const at = bad.byteLength - 5;
  bad[at] = bad[at] === 0x30 ? 0x31 : 0x30;
  const badReader = new BufferedReader(new MemoryReader(bad));
  await badReader.read(new Uint8Array(1));
  throws(
    () => receiveWholeBuffered(badReader, new Uint8Array(300), "a", "sha256"),
    (e) => e instanceof IntegrityError && /Checksum mismatch for "a"/.test(e.message),
  );
  equal(new TextDecoder().decode((await readDelimited(badReader, { delimiter: "T" }))!), "NEX");
});
