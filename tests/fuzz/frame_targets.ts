/**
 * The frame readers under fuzzing: `readSized()` and `readSizeHeader()` with
 * 8- and 16-digit size headers, and `readDelimited()` with any delimiter
 * through a BufferedReader of any buffer size. Each reads random, framed and
 * mutated streams, handed out in random read sizes, and is checked against a
 * reference reading of the same bytes: the same messages, the same ending,
 * no read larger than its limit allows, and (for a size header read
 * unbuffered) a size over the limit refused having read nothing past its
 * header.
 *
 * @module
 */

import fc from "fast-check";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { readDelimited } from "../../lib/framing/delimited.ts";
import { readSized, readSizeHeader } from "../../lib/framing/size_header.ts";
import { concat, MemoryReader } from "../framing/helpers.ts";
import {
  checkLargest,
  chunksArb,
  enc,
  expectSame,
  type FuzzTarget,
  mutated,
  outcomeOf,
  RecordingReader,
  type RunReport,
  showBytes,
  Violation,
} from "./fuzz_core.ts";

// ---------------------------------------------------------------------------
// Size-header frames.

/** An input of the size-header readers. */
export interface SizedInput {
  /** What the stream holds. */
  bytes: Uint8Array;
  /** 16-digit headers instead of 8. */
  wide: boolean;
  /** The limit given to the reader. */
  maxBytes: number;
  /** The read schedule. */
  chunks: number[];
  /** Read through a BufferedReader, as the channel does. */
  buffered: boolean;
  /** Call readSizeHeader() once instead of readSized() in a loop. */
  headerOnly: boolean;
}

const HEX = enc("0123456789abcdefABCDEF");

/** A size header: `size` in 16 hex digits when `wide`, else 8. */
export function header(size: number, wide: boolean): Uint8Array {
  return enc(size.toString(16).padStart(wide ? 16 : 8, "0"));
}

function sizedBytesArb(wide: boolean): fc.Arbitrary<Uint8Array> {
  const frames = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 })
    .map((msgs) => concat(...msgs.flatMap((m) => [header(m.byteLength, wide), m])));
  const special = (wide
    ? [
      "ffffffffffffffff",
      "001fffffffffffff",
      "0020000000000000",
      "00000000ffffffff",
      "fffffffffffffff0",
      "-000000000000001",
      "0x00000000000010",
      "00000000000000 1",
    ]
    : [
      "ffffffff",
      "FFFFFFFF",
      "fffffffe",
      "00010000",
      "00010001",
      "-0000001",
      "0x000010",
      "+0000010",
      " 0000010",
    ])
    .map(enc);
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
    {
      arbitrary: fc.array(fc.constantFrom(...HEX), { maxLength: 48 }).map((a) => new Uint8Array(a)),
      weight: 1,
    },
    { arbitrary: frames, weight: 2 },
    { arbitrary: mutated(frames), weight: 4 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...special), fc.uint8Array({ maxLength: 64 }))
        .map(([h, rest]) => concat(h, rest)),
      weight: 2,
    },
  );
}

const limitArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 400 }), weight: 4 },
  { arbitrary: fc.constantFrom(0, 1, 1024, 65536, 1 << 20), weight: 1 },
);

function sizedArb(wide: boolean): fc.Arbitrary<SizedInput> {
  return fc.record({
    bytes: sizedBytesArb(wide),
    wide: fc.constant(wide),
    maxBytes: limitArb,
    chunks: chunksArb,
    buffered: fc.boolean(),
    headerOnly: fc.boolean(),
  });
}

type Ending = "end" | "ProtocolError" | "UnexpectedEofError";

/** Size-header frames as the spec reads them: the messages, then how the stream ends. */
function referenceFrames(input: SizedInput): {
  messages: Uint8Array[];
  ending: Ending;
  overLimitAt?: number;
} {
  const { bytes, wide, maxBytes } = input;
  const width = wide ? 16 : 8;
  const messages: Uint8Array[] = [];
  let offset = 0;
  while (true) {
    if (offset === bytes.byteLength) return { messages, ending: "end" };
    if (bytes.byteLength - offset < width) return { messages, ending: "UnexpectedEofError" };
    const text = new TextDecoder().decode(bytes.subarray(offset, offset + width));
    if (!/^[0-9a-fA-F]+$/.test(text)) return { messages, ending: "ProtocolError" };
    const size = BigInt("0x" + text);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return { messages, ending: "ProtocolError" };
    if (size > BigInt(maxBytes)) {
      return { messages, ending: "ProtocolError", overLimitAt: offset + width };
    }
    const n = Number(size);
    if (input.headerOnly) {
      messages.push(new Uint8Array(n));
      return { messages, ending: "end" };
    }
    if (bytes.byteLength - offset - width < n) return { messages, ending: "UnexpectedEofError" };
    messages.push(bytes.slice(offset + width, offset + width + n));
    offset += width + n;
  }
}

function sizedTarget(wide: boolean): FuzzTarget<SizedInput> {
  return {
    name: `readSized/readSizeHeader (${wide ? "wide, 16 digits" : "narrow, 8 digits"})`,
    arbitrary: sizedArb(wide),
    describe: (i) =>
      `${
        showBytes(i.bytes)
      } maxBytes=${i.maxBytes} chunks=[${i.chunks}] buffered=${i.buffered} headerOnly=${i.headerOnly}`,
    async run(input) {
      const source = new MemoryReader(input.bytes, input.chunks);
      const reader = new RecordingReader(input.buffered ? new BufferedReader(source) : source);
      const options = { wide: input.wide, maxBytes: input.maxBytes };
      const messages: Uint8Array[] = [];
      let ending: Ending;
      try {
        if (input.headerOnly) {
          const size = await readSizeHeader(reader, options);
          if (size !== null) messages.push(new Uint8Array(size));
          ending = "end";
        } else {
          // Bounded: every frame takes at least its header's bytes.
          for (let i = 0;; i++) {
            if (i > input.bytes.byteLength) throw new Violation("more frames than bytes");
            const msg = await readSized(reader, options);
            if (msg === null) break;
            if (msg.byteLength > input.maxBytes) {
              throw new Violation(
                `returned ${msg.byteLength} bytes over the limit ${input.maxBytes}`,
              );
            }
            messages.push(msg);
          }
          ending = "end";
        }
      } catch (e) {
        if (e instanceof Violation) throw e;
        const outcome = outcomeOf(e);
        if (outcome === "IntegrityError") throw new Violation("IntegrityError from a frame reader");
        ending = outcome as Ending;
      }
      const want = referenceFrames(input);
      expectSame(
        "frames",
        messages.map((m) => input.headerOnly ? m.byteLength : m),
        want.messages.map((m) => input.headerOnly ? m.byteLength : m),
      );
      expectSame("ending", ending, want.ending);
      const report: RunReport = {
        outcome: ending === "end" ? (messages.length > 0 ? "value" : "end") : ending,
        largestRead: checkLargest(reader, Math.max(wide ? 16 : 8, input.maxBytes)),
      };
      if (want.overLimitAt !== undefined && !input.buffered) {
        // Over the limit: refused with the header read and not one byte more.
        if (source.delivered !== want.overLimitAt) {
          throw new Violation(
            `read ${source.delivered} bytes, the header ended at ${want.overLimitAt}`,
          );
        }
        report.refusedAtHeader = true;
      }
      return report;
    },
  };
}

/** `readSized()` and `readSizeHeader()` with 8-digit headers. */
export const readSizedNarrowTarget: FuzzTarget<SizedInput> = sizedTarget(false);
/** `readSized()` and `readSizeHeader()` with 16-digit headers. */
export const readSizedWideTarget: FuzzTarget<SizedInput> = sizedTarget(true);

// ---------------------------------------------------------------------------
// Delimited messages.

/** An input of readDelimited(). */
export interface DelimitedInput {
  /** What the stream holds. */
  bytes: Uint8Array;
  /** The delimiter, 1 to 4 bytes. */
  delimiter: Uint8Array;
  /** The longest message allowed. */
  maxBytes: number;
  /** The BufferedReader's initial buffer size. */
  bufferSize: number;
  /** The read schedule. */
  chunks: number[];
}

/** A small alphabet, so delimiters (even overlapping ones, "aa", "aba") turn up often. */
const DELIM_ALPHABET = [0x0a, 0x0d, 0x61, 0x62];

const delimitedArb: fc.Arbitrary<DelimitedInput> = fc.record({
  bytes: fc.oneof(
    {
      arbitrary: fc.array(fc.constantFrom(...DELIM_ALPHABET), { maxLength: 600 }).map((a) =>
        new Uint8Array(a)
      ),
      weight: 4,
    },
    {
      arbitrary: fc.integer({ min: 0, max: 1200 }).map((n) => new Uint8Array(n).fill(0x61)),
      weight: 1,
    },
    { arbitrary: mutated(fc.uint8Array({ maxLength: 300 })), weight: 1 },
  ),
  delimiter: fc.array(fc.constantFrom(...DELIM_ALPHABET), { minLength: 1, maxLength: 4 })
    .map((a) => new Uint8Array(a)),
  maxBytes: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(65536)),
  bufferSize: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.constant(65536)),
  chunks: chunksArb,
});

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.byteLength <= hay.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Delimited messages as the spec reads them. */
function referenceDelimited(input: DelimitedInput): { messages: Uint8Array[]; ending: Ending } {
  const { bytes, delimiter, maxBytes } = input;
  const messages: Uint8Array[] = [];
  let offset = 0;
  while (true) {
    if (offset === bytes.byteLength) return { messages, ending: "end" };
    const idx = indexOfBytes(bytes, delimiter, offset);
    if (idx < 0) {
      // No delimiter before the end: too long once the limit plus a delimiter's room is
      // buffered, else the stream ended inside a message.
      const rest = bytes.byteLength - offset;
      return {
        messages,
        ending: rest >= maxBytes + delimiter.byteLength ? "ProtocolError" : "UnexpectedEofError",
      };
    }
    if (idx - offset > maxBytes) return { messages, ending: "ProtocolError" };
    messages.push(bytes.slice(offset, idx));
    offset = idx + delimiter.byteLength;
  }
}

/** `readDelimited()` through a BufferedReader of any buffer size, with any delimiter. */
export const readDelimitedTarget: FuzzTarget<DelimitedInput> = {
  name: "readDelimited",
  arbitrary: delimitedArb,
  describe: (i) =>
    `${showBytes(i.bytes)} delimiter=${
      showBytes(i.delimiter)
    } maxBytes=${i.maxBytes} bufferSize=${i.bufferSize} chunks=[${i.chunks}]`,
  async run(input) {
    const source = new RecordingReader(new MemoryReader(input.bytes, input.chunks));
    const reader = new BufferedReader(source, { bufferSize: input.bufferSize });
    const messages: Uint8Array[] = [];
    let ending: Ending = "end";
    try {
      for (let i = 0;; i++) {
        if (i > input.bytes.byteLength) throw new Violation("more messages than bytes");
        const msg = await readDelimited(reader, {
          delimiter: input.delimiter,
          maxBytes: input.maxBytes,
        });
        if (msg === null) break;
        messages.push(msg);
      }
    } catch (e) {
      if (e instanceof Violation) throw e;
      const outcome = outcomeOf(e);
      if (outcome === "IntegrityError") throw new Violation("IntegrityError from readDelimited");
      ending = outcome as Ending;
    }
    const want = referenceDelimited(input);
    expectSame("messages", messages, want.messages);
    expectSame("ending", ending, want.ending);
    // The buffer grows only as far as the limit and one delimiter (plus one byte) need.
    const bound = Math.max(input.bufferSize, input.maxBytes + input.delimiter.byteLength + 1);
    return {
      outcome: ending === "end" ? (messages.length > 0 ? "value" : "end") : ending,
      largestRead: checkLargest(source, bound),
    };
  },
};
