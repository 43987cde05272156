// Property-based tests of the framing and the request decoder, with fast-check:
// encode/decode round trips, and a few thousand random and mutated inputs per
// run against every decoder (tests/fuzz/targets.ts says what each run checks;
// scripts/fuzz runs 100,000 and more). A failure prints fast-check's seed and
// the shrunk input, which reproduce it.

import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { encodeDelimited, readDelimited } from "../../lib/framing/delimited.ts";
import { encodeSized, readSized } from "../../lib/framing/size_header.ts";
import { decodeReply, decodeRequest, encodeMessage } from "../../lib/protocol/messages.ts";
import { receiveBody, sendBody } from "../../lib/transfer/body.ts";
import { concat, MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { type FuzzTarget, type Outcome, requestArb, runWithTimeout, TARGETS } from "./targets.ts";
import { sha256 } from "../helpers.ts";

/** Random and mutated inputs per decoder in the normal suite (6 decoders). */
const RUNS_PER_TARGET = 700;
const chunks = fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 30 });

for (const target of TARGETS) {
  Deno.test(`fuzz: ${target.name} answers ${RUNS_PER_TARGET} random and mutated inputs with a value or a typed error, within its limit`, async () => {
    const outcomes = new Map<Outcome, number>();
    await fc.assert(
      fc.asyncProperty(target.arbitrary, async (input) => {
        const report = await runWithTimeout(target as FuzzTarget<unknown>, input, 2000);
        outcomes.set(report.outcome, (outcomes.get(report.outcome) ?? 0) + 1);
      }),
      { numRuns: RUNS_PER_TARGET },
    );
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    equal(total, RUNS_PER_TARGET);
    // Both sides were exercised: inputs it accepted and inputs it refused.
    const accepted = (outcomes.get("value") ?? 0) + (outcomes.get("end") ?? 0);
    ok(accepted > 0 && accepted < total, JSON.stringify([...outcomes]));
  });
}

Deno.test("fuzz: every request survives encodeMessage() then decodeRequest()", () => {
  fc.assert(
    fc.property(requestArb, (req) => {
      deepEqual(decodeRequest(encodeMessage(req)), req);
    }),
    { numRuns: 500 },
  );
});

Deno.test("fuzz: every reply survives encodeMessage() then decodeReply(), error texts made safe", () => {
  const safeText = fc.string({ maxLength: 60 }).filter((s) => !/[\x00-\x1f\x7f-\x9f]/.test(s));
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
      fc.constantFrom("NOT_FOUND", "EXISTS", "BUSY", "NO_SPACE", "SERVER"),
      safeText,
      (fields, code, message) => {
        const okReply = { ...fields, ok: true as const };
        deepEqual(decodeReply(encodeMessage(okReply)), okReply);
        const errReply = { ok: false as const, code: code as "NOT_FOUND", message };
        deepEqual(decodeReply(encodeMessage(errReply)), errReply);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("fuzz: encodeSized() then readSized() round-trips under any chunking, narrow and wide", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 500 }), { maxLength: 5 }),
      fc.boolean(),
      chunks,
      async (messages, wide, schedule) => {
        const framed = concat(...messages.map((m) => encodeSized(m, { wide })));
        const reader = new MemoryReader(framed, schedule);
        const limit = Math.max(0, ...messages.map((m) => m.byteLength));
        for (const m of messages) deepEqual(await readSized(reader, { wide, maxBytes: limit }), m);
        equal(await readSized(reader, { wide, maxBytes: limit }), null);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("fuzz: encodeDelimited() then readDelimited() round-trips with any delimiter and buffer", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 4, min: 0x61, max: 0x63 }),
      fc.array(fc.uint8Array({ maxLength: 60, min: 0x61, max: 0x63 }), { maxLength: 8 }),
      fc.integer({ min: 1, max: 200 }),
      chunks,
      async (delimiter, candidates, bufferSize, schedule) => {
        // Only messages that do not hold the delimiter can be encoded.
        const messages = candidates.filter((m) => {
          try {
            encodeDelimited(m, { delimiter });
            return true;
          } catch {
            return false;
          }
        });
        const wire = concat(...messages.map((m) => encodeDelimited(m, { delimiter })));
        const reader = new BufferedReader(new MemoryReader(wire, schedule), { bufferSize });
        const limit = Math.max(0, ...messages.map((m) => m.byteLength));
        const got: Uint8Array[] = [];
        while (true) {
          const m = await readDelimited(reader, { delimiter, maxBytes: limit });
          if (m === null) break;
          got.push(m);
        }
        deepEqual(got, messages);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("fuzz: sendBody() then receiveBody() round-trips sized and chunked bodies", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 3000 }),
      fc.boolean(),
      chunks,
      fc.integer({ min: 1, max: 1000 }),
      async (payload, sized, schedule, bufferSize) => {
        const wire = new MemoryWriter();
        await sendBody(wire, new MemoryReader(payload, schedule), {
          size: sized ? payload.byteLength : null,
          bufferSize: bufferSize + 8,
        });
        const sink = new MemoryWriter();
        const reader = new BufferedReader(new MemoryReader(wire.bytes, schedule));
        const result = await receiveBody(reader, sink, {
          expectedSize: payload.byteLength,
          bufferSize,
        });
        deepEqual(sink.bytes, payload);
        deepEqual(result, {
          size: payload.byteLength,
          checksum: "sha256",
          hash: sha256(payload),
        });
      },
    ),
    { numRuns: 400 },
  );
});
