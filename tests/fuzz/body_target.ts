/**
 * `receiveBody()` under fuzzing: sized and chunked file bodies (valid,
 * mutated, with edge-case headers, or random bytes) handed out in random read
 * sizes, with a limit, maybe an announced size, and a sink that may fail.
 * Each run is checked against a reference reading of the body: the same
 * outcome and payload, never more bytes to the sink than the limit or the
 * announced size allows, no read larger than the buffer (or the trailer).
 *
 * @module
 */

import fc from "fast-check";
import { BftpError, LocalIoError } from "../../lib/errors.ts";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { MAX_CHUNK_BYTES } from "../../lib/protocol/limits.ts";
import { type BodyResult, receiveBody } from "../../lib/transfer/body.ts";
import { concat, MemoryReader } from "../framing/helpers.ts";
import { sha256 } from "../helpers.ts";
import {
  checkLargest,
  chunksArb,
  enc,
  expectSame,
  type FuzzTarget,
  mutated,
  type Outcome,
  outcomeOf,
  RecordingReader,
  showBytes,
  Violation,
} from "./fuzz_core.ts";
import { header } from "./frame_targets.ts";

// ---------------------------------------------------------------------------
// File bodies.

/** An input of receiveBody(). */
export interface BodyInput {
  /** What the stream holds. */
  bytes: Uint8Array;
  /** The size the preceding reply announced, if any. */
  expectedSize: number | null;
  /** The limit. */
  maxSize: number;
  /** receiveBody()'s buffer size. */
  bufferSize: number;
  /** The read schedule. */
  chunks: number[];
  /** The sink fails on the write that would take it past this many bytes; never when null. */
  sinkFailsAfter: number | null;
  /** Throw the sink's error at once. */
  stopOnSinkError: boolean;
}

const CHUNKED = "ffffffffffffffff";

const payloadArb = fc.uint8Array({ maxLength: 1500 });

const sizedBodyArb = fc.tuple(payloadArb, fc.boolean()).map(([payload, upper]) => {
  const hash = sha256(payload);
  return concat(header(payload.byteLength, true), payload, enc(upper ? hash.toUpperCase() : hash));
});

const chunkedBodyArb = fc.tuple(
  payloadArb,
  fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 20 }),
)
  .map(([payload, cuts]) => {
    const parts: Uint8Array[] = [enc(CHUNKED)];
    let offset = 0;
    for (const cut of cuts) {
      if (offset >= payload.byteLength) break;
      const piece = payload.subarray(offset, offset + cut);
      parts.push(header(piece.byteLength, false), piece);
      offset += piece.byteLength;
    }
    if (offset < payload.byteLength) {
      parts.push(header(payload.byteLength - offset, false), payload.subarray(offset));
    }
    parts.push(enc("00000000"), enc(sha256(payload)));
    return concat(...parts);
  });

const bodyHeaders = [
  "FFFFFFFFFFFFFFFF",
  "fffffffffffffffe",
  "-000000000000001",
  "0020000000000000",
  "001fffffffffffff",
  "00000000ffffffff",
  CHUNKED + "01000001",
  CHUNKED + "ffffffff",
  CHUNKED + "0000000g",
  CHUNKED + "00000001x00000000",
].map(enc);

const bodyBytesArb = fc.oneof(
  { arbitrary: sizedBodyArb, weight: 2 },
  { arbitrary: chunkedBodyArb, weight: 2 },
  { arbitrary: mutated(fc.oneof(sizedBodyArb, chunkedBodyArb)), weight: 5 },
  {
    arbitrary: fc.tuple(fc.constantFrom(...bodyHeaders), fc.uint8Array({ maxLength: 100 }))
      .map(([h, rest]) => concat(h, rest)),
    weight: 1,
  },
  { arbitrary: fc.uint8Array({ maxLength: 200 }), weight: 1 },
);

const bodyArb: fc.Arbitrary<BodyInput> = bodyBytesArb.chain((bytes) => {
  // Sizes near the body's real one make the interesting cases (exact, one off) common.
  const near = Math.max(0, bytes.byteLength - 80);
  const sizeArb = fc.oneof(
    fc.integer({ min: 0, max: 2000 }),
    fc.integer({ min: near, max: near + 10 }),
  );
  return fc.record({
    bytes: fc.constant(bytes),
    expectedSize: fc.oneof(fc.constant(null), sizeArb),
    maxSize: fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), sizeArb),
    bufferSize: fc.oneof(fc.integer({ min: 1, max: 700 }), fc.constant(1 << 20)),
    chunks: chunksArb,
    sinkFailsAfter: fc.oneof(
      { arbitrary: fc.constant(null), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 1500 }), weight: 1 },
    ),
    stopOnSinkError: fc.boolean(),
  });
});

type BodyEnding = Outcome;

/**
 * A body as the spec reads it, with the sink's failure placed where the
 * failing byte arrives: the outcome, and the payload when it is a value.
 */
function referenceBody(input: BodyInput): { ending: BodyEnding; payload?: Uint8Array } {
  const { bytes, maxSize, stopOnSinkError } = input;
  const expected = input.expectedSize;
  const failAfter = input.sinkFailsAfter ?? Infinity;
  const pieces: Uint8Array[] = [];
  let streamed = 0;
  let sinkError: BodyEnding | null = null;
  let offset = 16;
  /** Streams `n` bytes at `offset`; returns an ending when the body stops here. */
  const stream = (n: number): BodyEnding | null => {
    const available = Math.min(n, bytes.byteLength - offset);
    if (sinkError === null && streamed + available > failAfter) {
      if (stopOnSinkError) return "LocalIoError";
      sinkError = "LocalIoError";
    }
    pieces.push(bytes.subarray(offset, offset + available));
    streamed += available;
    offset += available;
    return available < n ? "UnexpectedEofError" : null;
  };
  if (bytes.byteLength < 16) return { ending: "UnexpectedEofError" };
  const head = new TextDecoder().decode(bytes.subarray(0, 16));
  if (head === CHUNKED) {
    while (true) {
      if (bytes.byteLength - offset < 8) return { ending: "UnexpectedEofError" };
      const text = new TextDecoder().decode(bytes.subarray(offset, offset + 8));
      if (!/^[0-9a-fA-F]{8}$/.test(text)) return { ending: "ProtocolError" };
      const n = parseInt(text, 16);
      if (n > MAX_CHUNK_BYTES) return { ending: "ProtocolError" };
      offset += 8;
      if (n === 0) break;
      if (streamed + n > maxSize) return { ending: "ProtocolError" };
      if (expected !== null && streamed + n > expected && sinkError === null) {
        if (stopOnSinkError) return { ending: "IntegrityError" };
        sinkError = "IntegrityError";
      }
      const end = stream(n);
      if (end !== null) return { ending: end };
    }
  } else {
    if (!/^[0-9a-fA-F]{16}$/.test(head)) return { ending: "ProtocolError" };
    const size = BigInt("0x" + head);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return { ending: "ProtocolError" };
    if (size > BigInt(maxSize)) return { ending: "ProtocolError" };
    if (expected !== null && size !== BigInt(expected)) return { ending: "ProtocolError" };
    const end = stream(Number(size));
    if (end !== null) return { ending: end };
  }
  if (bytes.byteLength - offset < 64) return { ending: "UnexpectedEofError" };
  let trailerBytes = bytes.subarray(offset, offset + 64);
  let t = trailerBytes.byteLength;
  while (t > 0 && trailerBytes[t - 1] === 0) t--;
  trailerBytes = trailerBytes.subarray(0, t);
  const trailer = new TextDecoder().decode(trailerBytes).toLowerCase();
  const payload = concat(...pieces);
  if (sinkError !== null) return { ending: sinkError };
  if (expected !== null && streamed !== expected) return { ending: "IntegrityError" };
  if (trailer !== sha256(payload)) return { ending: "IntegrityError" };
  return { ending: "value", payload };
}

/** `receiveBody()`: sized and chunked bodies, limits, an announced size, a failing sink. */
export const receiveBodyTarget: FuzzTarget<BodyInput> = {
  name: "receiveBody",
  arbitrary: bodyArb,
  describe: (i) =>
    `${
      showBytes(i.bytes)
    } expectedSize=${i.expectedSize} maxSize=${i.maxSize} bufferSize=${i.bufferSize} chunks=[${i.chunks}] sinkFailsAfter=${i.sinkFailsAfter} stopOnSinkError=${i.stopOnSinkError}`,
  async run(input) {
    const reader = new BufferedReader(new MemoryReader(input.bytes, input.chunks));
    const recording = new RecordingReader(reader);
    const received: Uint8Array[] = [];
    let written = 0;
    const sink = {
      write(p: Uint8Array): Promise<number> {
        if (input.sinkFailsAfter !== null && written + p.byteLength > input.sinkFailsAfter) {
          return Promise.reject(new LocalIoError("Cannot write: the test sink is full"));
        }
        received.push(p.slice());
        written += p.byteLength;
        return Promise.resolve(p.byteLength);
      },
    };
    let ending: BodyEnding;
    let result: BodyResult | null = null;
    try {
      // receiveBody reads from a BufferedReader; the recording wrapper stands in for it.
      result = await receiveBody(recording as unknown as BufferedReader, sink, {
        expectedSize: input.expectedSize,
        maxSize: input.maxSize,
        bufferSize: input.bufferSize,
        stopOnSinkError: input.stopOnSinkError,
      });
      ending = "value";
    } catch (e) {
      ending = outcomeOf(e, input.sinkFailsAfter !== null);
      if (!(e instanceof BftpError)) throw new Violation("untyped error");
    }
    const got = concat(...received);
    if (got.byteLength > input.maxSize) {
      throw new Violation(`the sink got ${got.byteLength} bytes, over the limit ${input.maxSize}`);
    }
    if (input.expectedSize !== null && got.byteLength > input.expectedSize) {
      throw new Violation(
        `the sink got ${got.byteLength} bytes, over the announced ${input.expectedSize}`,
      );
    }
    const want = referenceBody(input);
    expectSame("ending", ending, want.ending);
    if (result !== null) {
      expectSame("body", got, want.payload);
      expectSame("result", result, { size: got.byteLength, checksum: "sha256", hash: sha256(got) });
    }
    return {
      outcome: ending,
      largestRead: checkLargest(recording, Math.max(input.bufferSize, 64)),
    };
  },
};
