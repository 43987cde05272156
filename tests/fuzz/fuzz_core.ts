/**
 * What every fuzz target shares: the {@linkcode Violation} a broken invariant
 * throws, a run's {@linkcode Outcome} and {@linkcode RunReport}, the shape of a
 * {@linkcode FuzzTarget}; the checks that only a typed protocol error escapes
 * ({@linkcode outcomeOf}) and that an answer is the reference decoder's
 * ({@linkcode expectSame}); a reader that records the largest read it was
 * asked for ({@linkcode RecordingReader}, {@linkcode checkLargest}: `readExact`
 * allocates the announced size and reads into it, so the largest read is the
 * largest allocation); the mutations a fuzzer makes of a valid input
 * ({@linkcode mutated}); the read schedules of an in-memory stream
 * ({@linkcode chunksArb}); and the deadline each run is raced against
 * ({@linkcode runWithTimeout}).
 *
 * @module
 */

import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import {
  IntegrityError,
  LocalIoError,
  ProtocolError,
  UnexpectedEofError,
} from "../../lib/errors.ts";
import type { ByteReader } from "../../lib/framing/types.ts";
import { concat } from "../framing/helpers.ts";

const encoder = new TextEncoder();
/** A text as UTF-8 bytes. */
export const enc = (text: string): Uint8Array<ArrayBuffer> => encoder.encode(text);

/** A broken invariant: the fuzzer reports it with the input that caused it. */
export class Violation extends Error {
  /** @param message What went wrong. */
  constructor(message: string) {
    super(message);
    this.name = "Violation";
  }
}

/** How one input ended. */
export type Outcome =
  | "value"
  | "end"
  | "ProtocolError"
  | "UnexpectedEofError"
  | "IntegrityError"
  | "LocalIoError";

/** What one run measured. */
export interface RunReport {
  /** How the decoder ended. */
  outcome: Outcome;
  /** Whether a size over the limit was refused having read only up to its header. */
  refusedAtHeader?: boolean;
  /** The largest single read the decoder asked for, and the bound it had to keep under. */
  largestRead?: { asked: number; bound: number };
}

/** One decoder under test. */
export interface FuzzTarget<I> {
  /** Its name in reports. */
  name: string;
  /** Random and mutated inputs. */
  arbitrary: fc.Arbitrary<I>;
  /** Feeds one input to the decoder and checks the invariants; throws a {@linkcode Violation}. */
  run(input: I): Promise<RunReport>;
  /** The input as a short text, for a report. */
  describe(input: I): string;
}

/** The name of a typed error's class, or a violation for anything else. */
export function outcomeOf(e: unknown, allowLocal = false): Outcome {
  if (e instanceof UnexpectedEofError) return "UnexpectedEofError";
  if (e instanceof ProtocolError) return "ProtocolError";
  if (e instanceof IntegrityError) return "IntegrityError";
  if (allowLocal && e instanceof LocalIoError) return "LocalIoError";
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  throw new Violation(`untyped error escaped: ${what}`);
}

/** Throws a {@linkcode Violation} unless `got` deep-equals `want`. */
export function expectSame(what: string, got: unknown, want: unknown): void {
  if (isDeepStrictEqual(got, want)) return;
  const g = JSON.stringify(got, bytesAsText) ?? String(got);
  const w = JSON.stringify(want, bytesAsText) ?? String(want);
  throw new Violation(`${what}: got ${g.slice(0, 300)}, want ${w.slice(0, 300)}`);
}

function bytesAsText(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? `bytes:${Array.from(value).join(",")}` : value;
}

/** Shows bytes as text with escapes, cut to a readable length. */
export function showBytes(bytes: Uint8Array, max = 120): string {
  const text = Array.from(
    bytes.subarray(0, max),
    (b) =>
      b >= 0x20 && b < 0x7f && b !== 0x5c
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).padStart(2, "0")}`,
  ).join("");
  return `"${text}"${bytes.byteLength > max ? `... (${bytes.byteLength} bytes)` : ""}`;
}

/** A reader that records the largest read it was asked for. */
export class RecordingReader implements ByteReader {
  #inner: ByteReader;
  largest = 0;

  constructor(inner: ByteReader) {
    this.#inner = inner;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (p.byteLength > this.largest) this.largest = p.byteLength;
    return this.#inner.read(p);
  }
}

/** The largest read `reader` was asked for, or a {@linkcode Violation} when it is over `bound`. */
export function checkLargest(
  reader: RecordingReader,
  bound: number,
): { asked: number; bound: number } {
  if (reader.largest > bound) {
    throw new Violation(`asked its stream for ${reader.largest} bytes at once, over ${bound}`);
  }
  return { asked: reader.largest, bound };
}

// ---------------------------------------------------------------------------
// Mutations: what a fuzzer does to a valid input.

const INTERESTING = [
  "ffffffff",
  "FFFFFFFF",
  "ffffffffffffffff",
  "FFFFFFFFFFFFFFFF",
  "0020000000000000",
  "00000000",
  "-1",
  "0x",
  "\0",
  "\n",
  "\r\n",
  '"',
  "{",
  "}",
  "[",
  "\\u0000",
  "1e999",
  "-0",
].map(enc);

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "truncate"; at: number }
  | { kind: "duplicate"; at: number; count: number }
  | { kind: "splice"; at: number; token: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 32 }),
  }),
  fc.record({
    kind: fc.constant("splice" as const),
    at: fc.nat(),
    token: fc.nat(INTERESTING.length - 1),
  }),
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const len = bytes.byteLength;
  const at = len === 0 ? 0 : m.at % (len + 1);
  switch (m.kind) {
    case "flip":
    case "set": {
      if (len === 0) return bytes;
      const out = bytes.slice();
      const i = m.at % len;
      out[i] = m.kind === "flip" ? out[i]! ^ (1 << m.bit) : m.value;
      return out;
    }
    case "insert":
      return concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
    case "delete":
      return concat(bytes.subarray(0, at), bytes.subarray(at + m.count));
    case "truncate":
      return bytes.slice(0, at);
    case "duplicate":
      return concat(bytes.subarray(0, at + m.count), bytes.subarray(at));
    case "splice": {
      const token = INTERESTING[m.token]!;
      return concat(bytes.subarray(0, at), token, bytes.subarray(at + token.byteLength));
    }
  }
}

/**
 * Mutated versions of what `arb` makes: one to four mutations each.
 *
 * @param arb Valid inputs.
 * @returns The mutated inputs.
 */
export function mutated(arb: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(arb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([bytes, ms]) => ms.reduce(mutate, bytes));
}

/** How a stream hands out its bytes: a schedule of read sizes, then the rest at once. */
export const chunksArb = fc.oneof(
  fc.constant<number[]>([]),
  fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 64 }),
  fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 16 }),
);

/**
 * Runs one input with a deadline: a run still pending after `ms` is a hang.
 *
 * @param target The decoder.
 * @param input The input.
 * @param ms The deadline.
 * @returns The run's report.
 * @throws {Violation} On a broken invariant or a hang.
 */
export async function runWithTimeout<I>(
  target: FuzzTarget<I>,
  input: I,
  ms: number,
): Promise<RunReport> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Violation(`no answer within ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([target.run(input), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
