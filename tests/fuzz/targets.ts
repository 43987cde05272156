/**
 * The decoders under fuzzing. For each one: a fast-check arbitrary of random
 * and mutated inputs, and a runner that feeds one input to the real decoder
 * (over an in-memory stream, in the chunks the input says) and checks it
 * against an independent reference decoder written from docs/PROTOCOL.md.
 * Shared by the property test (tests/fuzz/decoder_property_test.ts, a few
 * thousand inputs per run) and `scripts/fuzz` (100,000 and more).
 *
 * What every run checks:
 * - the decoder returns a value or throws one of the typed protocol errors
 *   (`ProtocolError`, `UnexpectedEofError`, `IntegrityError`); anything else
 *   (a `TypeError`, a `RangeError`...) is a {@linkcode Violation};
 * - its answer is the reference decoder's: the same messages, the same kind
 *   of error at the same place;
 * - it never asks its stream for more bytes at once than its limit allows
 *   (the reads are recorded: `readExact` allocates the announced size and
 *   reads into it, so the largest read is the largest allocation), and a
 *   size over the limit is refused having read nothing past its header.
 *
 * Never hanging is the caller's part: each run is raced against a timer
 * ({@linkcode runWithTimeout}), and `scripts/fuzz` also watches its worker
 * from outside, which catches a loop that never yields.
 *
 * @module
 */

import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import {
  BftpError,
  IntegrityError,
  isRemoteErrorCode,
  LocalIoError,
  ProtocolError,
  UnexpectedEofError,
} from "../../lib/errors.ts";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { readDelimited } from "../../lib/framing/delimited.ts";
import { readSized, readSizeHeader } from "../../lib/framing/size_header.ts";
import type { ByteReader } from "../../lib/framing/types.ts";
import { MAX_CHUNK_BYTES, MAX_REQUEST_DEPTH } from "../../lib/protocol/limits.ts";
import { parseStrictJson } from "../../lib/protocol/strict_json.ts";
import {
  decodeReply,
  decodeRequest,
  encodeMessage,
  type Reply,
  type Request,
} from "../../lib/protocol/messages.ts";
import { type BodyResult, receiveBody } from "../../lib/transfer/body.ts";
import { concat, MemoryReader } from "../framing/helpers.ts";
import { sha256 } from "../helpers.ts";

const encoder = new TextEncoder();
const enc = (text: string) => encoder.encode(text);

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
function outcomeOf(e: unknown, allowLocal = false): Outcome {
  if (e instanceof UnexpectedEofError) return "UnexpectedEofError";
  if (e instanceof ProtocolError) return "ProtocolError";
  if (e instanceof IntegrityError) return "IntegrityError";
  if (allowLocal && e instanceof LocalIoError) return "LocalIoError";
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  throw new Violation(`untyped error escaped: ${what}`);
}

function expectSame(what: string, got: unknown, want: unknown): void {
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
class RecordingReader implements ByteReader {
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

function checkLargest(reader: RecordingReader, bound: number): { asked: number; bound: number } {
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
const chunksArb = fc.oneof(
  fc.constant<number[]>([]),
  fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 64 }),
  fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 16 }),
);

// ---------------------------------------------------------------------------
// Requests and replies.

const OPS = [
  "PWD",
  "CD",
  "LIST",
  "STAT",
  "GET",
  "PUT",
  "DELETE",
  "MKDIR",
  "RMDIR",
  "RENAME",
  "HASH",
  "SETSTAT",
  "QUIT",
  "BLOCKS",
  "AUTH",
  "MGET",
  "MPUT",
];
const PATH_OPS = new Set(["CD", "LIST", "STAT", "DELETE", "RMDIR", "HASH"]);

// Well-formed strings only: a lone surrogate makes a request invalid (BAD_REQUEST).
const pathArb = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 20 }).filter((p) => p.isWellFormed()),
  fc.constantFrom("", "/", "..", "../x", "a\0b", "\x1b]0;x\x07", "C:\\x"),
);

const hexArb = (length: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });

/** A file's version, as GET's `expect` and a delta PUT's `base` name it. */
const versionArb = fc.record({
  size: fc.maxSafeNat(),
  mtime: fc.option(fc.integer({ min: -8.64e15, max: 8.64e15 }), { nil: null }),
  sha256: hexArb(64),
}, { requiredKeys: ["size", "mtime"] });

/** Every valid request. */
export const requestArb: fc.Arbitrary<Request> = fc.oneof(
  fc.constantFrom<Request>({ op: "PWD" }, { op: "QUIT" }),
  fc.record({
    op: fc.constantFrom("CD", "LIST", "STAT", "GET", "DELETE", "RMDIR", "HASH"),
    path: pathArb,
  }) as fc.Arbitrary<Request>,
  fc.record({ op: fc.constant("AUTH" as const), token: fc.string({ maxLength: 40 }) }),
  fc.record({
    op: fc.constant("GET" as const),
    path: pathArb,
    offset: fc.maxSafeNat(),
    length: fc.maxSafeNat(),
    expect: versionArb,
  }, { requiredKeys: ["op", "path"] }) as fc.Arbitrary<Request>,
  fc.record({
    op: fc.constant("PUT" as const),
    path: pathArb,
    size: fc.option(fc.maxSafeNat(), { nil: null }),
    overwrite: fc.boolean(),
  }),
  fc.record({
    op: fc.constant("PUT" as const),
    path: pathArb,
    size: fc.maxSafeNat(),
    overwrite: fc.boolean(),
    resume: fc.constant(true),
    sha256: hexArb(64),
  }),
  fc.record({
    op: fc.constant("PUT" as const),
    path: pathArb,
    size: fc.maxSafeNat(),
    overwrite: fc.boolean(),
    eager: fc.constant(true),
    base: versionArb,
    blockSize: fc.integer({ min: 4096, max: 16 * 1024 * 1024 }),
    reuse: fc.array(fc.maxSafeNat(), { maxLength: 6 }).map((a) => a.length % 2 ? a.slice(1) : a),
    whole: fc.oneof(hexArb(32), hexArb(64)),
  }, {
    requiredKeys: ["op", "path", "size", "overwrite", "base", "blockSize", "reuse", "whole"],
  }) as fc.Arbitrary<Request>,
  fc.record({
    op: fc.constant("MGET" as const),
    paths: fc.array(pathArb, { minLength: 1, maxLength: 4 }),
  }),
  fc.array(fc.tuple(pathArb, fc.maxSafeNat()), { minLength: 1, maxLength: 4 }).map((files) => ({
    op: "MPUT" as const,
    paths: files.map(([p]) => p),
    sizes: files.map(([, n]) => n),
    overwrite: files.length % 2 === 0,
    mtimes: files.map(([, n], i) => i % 2 ? null : n % 1e12),
  })) as fc.Arbitrary<Request>,
  fc.record({ op: fc.constant("MKDIR" as const), path: pathArb, parents: fc.boolean() }),
  fc.record({
    op: fc.constant("BLOCKS" as const),
    path: pathArb,
    blockSize: fc.integer({ min: 4096, max: 16 * 1024 * 1024 }),
  }),
  fc.record({ op: fc.constant("RENAME" as const), from: pathArb, to: pathArb }),
  fc.record(
    {
      op: fc.constant("SETSTAT" as const),
      path: pathArb,
      mtime: fc.integer({ min: -1e15, max: 1e15 }),
      mode: fc.integer({ min: 0, max: 0o777 }),
    },
    { requiredKeys: ["op", "path"] },
  ).filter((r) => r.mtime !== undefined || r.mode !== undefined),
);

const KEYS = [
  "op",
  "path",
  "size",
  "overwrite",
  "offset",
  "length",
  "expect",
  "resume",
  "sha256",
  "eager",
  "base",
  "blockSize",
  "reuse",
  "whole",
  "mtime",
  "mode",
  "paths",
  "sizes",
  "mtimes",
  "modes",
  "token",
  "parents",
  "from",
  "to",
  "ok",
  "code",
  "message",
  "__proto__",
  "constructor",
  "toString",
];

const jsonValueArb = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(-1, 1.5, 2 ** 53, -0, 1e308, "", "PUT", true, false, null, [], {}),
);

/** A valid object with one field set to something random (maybe a wrong type). */
function structural<T extends object>(arb: fc.Arbitrary<T>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(arb, fc.constantFrom(...KEYS), jsonValueArb, fc.boolean())
    .map(([value, key, v, drop]) => {
      const o: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      if (drop) delete o[key];
      else Object.defineProperty(o, key, { value: v, enumerable: true, writable: true });
      return enc(JSON.stringify(o));
    });
}

const SPECIAL_PAYLOADS = [
  "",
  "null",
  "[]",
  '"PWD"',
  "{}",
  '{"op":"GET","path":"a","path":"b"}',
  '{"op":"PUT","path":"a","size":1e400}',
  '{"op":"PUT","path":"a","size":-0}',
  '{"op":"PUT","path":"a","size":9007199254740993}',
  '{"ok":true,"ok":false}',
  '{"op":"PWD","__proto__":{}}',
  '{"op":"CD","path":"\\ud800"}',
  '{"op":"CD","path":"\\udc00\\ud800"}',
  '{"op":"PWD","x":[[1]]}',
  "\ufeff{}",
  "[".repeat(20000) + "]".repeat(20000),
  '{"a":'.repeat(5000) + "1" + "}".repeat(5000),
].map(enc).concat([
  new Uint8Array([0x7b, 0xc0, 0xae, 0x7d]),
  new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]),
  new Uint8Array([0xff, 0xfe]),
]);

function messageBytesArb<T extends object>(valid: fc.Arbitrary<T>): fc.Arbitrary<Uint8Array> {
  const validBytes = valid.map((v) => enc(JSON.stringify(v)));
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 200 }), weight: 2 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => enc(JSON.stringify(v))), weight: 2 },
    { arbitrary: validBytes, weight: 2 },
    { arbitrary: mutated(validBytes), weight: 3 },
    { arbitrary: structural(valid), weight: 3 },
    { arbitrary: fc.constantFrom(...SPECIAL_PAYLOADS), weight: 1 },
  );
}

/**
 * Parses a payload as the spec says: UTF-8 (strict) JSON holding an object, with no BOM, no
 * duplicate or `__proto__` key, no lone surrogate, nested at most MAX_REQUEST_DEPTH levels;
 * `null` otherwise; a reply (not `strict`) as JSON.parse takes it. (The strictness is lib's own: tests/protocol/strict_json_test.ts checks it.)
 */
function parseObject(bytes: Uint8Array, strict: boolean): Record<string, unknown> | null {
  let v: unknown;
  try {
    // A byte order mark is not JSON, in a request or a reply.
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    v = strict ? parseStrictJson(text, { maxDepth: MAX_REQUEST_DEPTH }) : JSON.parse(text);
  } catch {
    return null;
  }
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : null;
}

/** The request a payload must decode to, per docs/PROTOCOL.md, or `null` for BAD_REQUEST. */
function referenceRequest(bytes: Uint8Array): Request | null {
  const o = parseObject(bytes, true);
  if (o === null || typeof o.op !== "string" || !OPS.includes(o.op)) return null;
  const op = o.op;
  const isStr = (k: string) => typeof o[k] === "string";
  const boolOr = (k: string, d: boolean) =>
    o[k] === undefined ? d : typeof o[k] === "boolean" ? o[k] : null;
  if (op === "PWD" || op === "QUIT") return { op } as Request;
  if (PATH_OPS.has(op)) return isStr("path") ? { op, path: o.path } as Request : null;
  if (op === "AUTH") return isStr("token") ? { op, token: o.token } as Request : null;
  if (op === "GET") return referenceGet(o);
  if (op === "MGET") return isPaths(o.paths) ? { op, paths: o.paths } as Request : null;
  if (op === "MPUT") return referenceMput(o);
  if (op === "RENAME") {
    return isStr("from") && isStr("to") ? { op, from: o.from, to: o.to } as Request : null;
  }
  if (op === "BLOCKS") {
    // A block size: an integer from 4 KiB to 16 MiB (MIN_BLOCK_SIZE, MAX_BLOCK_SIZE).
    const b = o.blockSize;
    const ok = typeof b === "number" && Number.isInteger(b) && b >= 4096 && b <= 16777216;
    return isStr("path") && ok ? { op, path: o.path, blockSize: b } as Request : null;
  }
  // PUT and SETSTAT: an optional time (ms, at most 8.64e15 either way) and permission bits.
  const mtime = o.mtime, mode = o.mode;
  const timeOk = mtime === undefined || isTime(mtime);
  const modeOk = mode === undefined || isMode(mode);
  const attributes = {
    ...(mtime === undefined ? {} : { mtime }),
    ...(mode === undefined ? {} : { mode }),
  };
  if (op === "SETSTAT") {
    if (!isStr("path") || !timeOk || !modeOk || (mtime === undefined && mode === undefined)) {
      return null;
    }
    return { op, path: o.path, ...attributes } as Request;
  }
  if (op === "MKDIR") {
    const parents = boolOr("parents", false);
    return isStr("path") && parents !== null ? { op, path: o.path, parents } as Request : null;
  }
  // PUT
  const size = o.size ?? null;
  const overwrite = boolOr("overwrite", true);
  const resume = boolOr("resume", false), eager = boolOr("eager", false);
  if (!isStr("path") || overwrite === null || !timeOk || !modeOk) return null;
  if (size !== null && !isSize(size)) return null;
  // A resumable PUT: a size, a SHA-256, not eager. A sha256 is 64 hex digits (any case).
  if (resume === null || eager === null || (resume && (size === null || eager))) return null;
  const sha256 = o.sha256 === undefined ? (resume ? null : undefined) : o.sha256;
  if (sha256 !== undefined && !isHex(sha256, 64, true)) return null;
  const put: Record<string, unknown> = { op: "PUT", path: o.path, size, overwrite };
  if (resume) put.resume = true;
  if (sha256 !== undefined) put.sha256 = (sha256 as string).toLowerCase();
  Object.assign(put, attributes);
  if (eager) put.eager = true;
  if (o.base === undefined) return put as unknown as Request;
  // A delta (see the BLOCKS section): a size, no resume; a base version; a block size; `reuse`
  // pairs (at most MAX_REUSE_NUMBERS numbers); `whole`, 32 or 64 lowercase hex digits.
  const base = referenceVersion(o.base);
  const b = o.blockSize, reuse = o.reuse, whole = o.whole;
  const blockOk = isSize(b) && b >= 4096 && b <= 16777216;
  const reuseOk = Array.isArray(reuse) && reuse.length % 2 === 0 && reuse.length <= 2048 &&
    reuse.every(isSize);
  const wholeOk = isHex(whole, 32, false) || isHex(whole, 64, false);
  if (size === null || resume || base === null || !blockOk || !reuseOk || !wholeOk) return null;
  return { ...put, base, blockSize: b, reuse, whole } as unknown as Request;
}

/** A size: a non-negative integer JSON holds exactly. */
function isSize(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** A time in ms: an integer at most 8.64e15 (MAX_TIME_MS) either way. */
function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= 8.64e15;
}

/** Permission bits: an integer from 0 to 0o777. */
function isMode(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0o777;
}

/** `length` hex digits (lowercase only unless `anyCase`). */
function isHex(v: unknown, length: number, anyCase: boolean): v is string {
  return typeof v === "string" && v.length === length &&
    (anyCase ? /^[0-9a-fA-F]+$/ : /^[0-9a-f]+$/).test(v);
}

/** 1 to MAX_MGET_PATHS strings. */
function isPaths(v: unknown): v is string[] {
  return Array.isArray(v) && v.length >= 1 && v.length <= 1024 &&
    v.every((p) => typeof p === "string");
}

/** A file version (`expect`, `base`): size and mtime (or null) required, sha256 optional. */
function referenceVersion(v: unknown): Record<string, unknown> | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (!isSize(o.size) || !(o.mtime === null || isTime(o.mtime))) return null;
  if (o.sha256 === undefined) return { size: o.size, mtime: o.mtime };
  return isHex(o.sha256, 64, true)
    ? { size: o.size, mtime: o.mtime, sha256: o.sha256.toLowerCase() }
    : null;
}

/** GET: a path; `offset` and `length` sizes, `expect` a version, each optional. */
function referenceGet(o: Record<string, unknown>): Request | null {
  if (typeof o.path !== "string") return null;
  const get: Record<string, unknown> = { op: "GET", path: o.path };
  for (const key of ["offset", "length"]) {
    if (o[key] === undefined) continue;
    if (!isSize(o[key])) return null;
    get[key] = o[key];
  }
  if (o.expect !== undefined) {
    const expect = referenceVersion(o.expect);
    if (expect === null) return null;
    get.expect = expect;
  }
  return get as unknown as Request;
}

/** MPUT: paths, sizes as many, overwrite; mtimes and modes as many, each null or valid. */
function referenceMput(o: Record<string, unknown>): Request | null {
  if (!isPaths(o.paths)) return null;
  const n = o.paths.length;
  const column = (v: unknown, ok: (x: unknown) => boolean) =>
    Array.isArray(v) && v.length === n && v.every(ok);
  const time = (x: unknown) => x === null || isTime(x);
  const mode = (x: unknown) => x === null || isMode(x);
  const overwrite = o.overwrite === undefined ? true : o.overwrite;
  if (!column(o.sizes, isSize) || typeof overwrite !== "boolean") return null;
  const mput: Record<string, unknown> = { op: "MPUT", paths: o.paths, sizes: o.sizes, overwrite };
  if (o.mtimes !== undefined) {
    if (!column(o.mtimes, time)) return null;
    mput.mtimes = o.mtimes;
  }
  if (o.modes !== undefined) {
    if (!column(o.modes, mode)) return null;
    mput.modes = o.modes;
  }
  return mput as unknown as Request;
}

/** `decodeRequest()`: a request or a ProtocolError, as the reference decodes it. */
export const decodeRequestTarget: FuzzTarget<Uint8Array> = {
  name: "decodeRequest",
  arbitrary: messageBytesArb(requestArb),
  describe: (input) => showBytes(input),
  run(input) {
    let got: Request;
    try {
      got = decodeRequest(input);
    } catch (e) {
      const outcome = outcomeOf(e);
      if (outcome !== "ProtocolError") throw new Violation(`threw ${outcome}`);
      if (referenceRequest(input) !== null) throw new Violation("refused a valid request");
      return Promise.resolve({ outcome });
    }
    const want = referenceRequest(input);
    if (want === null) throw new Violation(`accepted an invalid request as ${JSON.stringify(got)}`);
    expectSame("request", got, want);
    // What it returns encodes and decodes to itself (as JSON sees it: a size of -0 is 0).
    expectSame(
      "re-decoded request",
      JSON.stringify(decodeRequest(encodeMessage(got))),
      JSON.stringify(got),
    );
    return Promise.resolve({ outcome: "value" });
  },
};

const replyArb: fc.Arbitrary<Reply> = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    .map((fields) => ({ ...fields, ok: true as const })),
  fc.record({
    ok: fc.constant(false as const),
    code: fc.constantFrom("NOT_FOUND", "BUSY", "SERVER", "INTEGRITY", "NO_SPACE"),
    message: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom("\x1b[2J", "a\nb", "x".repeat(1500)),
    ),
  }) as fc.Arbitrary<Reply>,
);

/** The reply a payload must decode to, per docs/PROTOCOL.md, or `null` for a protocol error. */
function referenceReply(bytes: Uint8Array): Reply | null {
  const o = parseObject(bytes, false);
  if (o === null || typeof o.ok !== "boolean") return null;
  if (o.ok) return o as Reply;
  const code = typeof o.code === "string" && isRemoteErrorCode(o.code) ? o.code : "SERVER";
  const text = typeof o.message === "string" ? o.message : "Unknown error";
  return { ok: false, code, message: text.replace(/[\x00-\x1f\x7f-\x9f]/g, " ").slice(0, 1000) };
}

/** `decodeReply()`: a reply (error messages made safe to show) or a ProtocolError. */
export const decodeReplyTarget: FuzzTarget<Uint8Array> = {
  name: "decodeReply",
  arbitrary: messageBytesArb(replyArb),
  describe: (input) => showBytes(input),
  run(input) {
    let got: Reply;
    try {
      got = decodeReply(input);
    } catch (e) {
      const outcome = outcomeOf(e);
      if (outcome !== "ProtocolError") throw new Violation(`threw ${outcome}`);
      if (referenceReply(input) !== null) throw new Violation("refused a valid reply");
      return Promise.resolve({ outcome });
    }
    const want = referenceReply(input);
    if (want === null) throw new Violation(`accepted an invalid reply as ${JSON.stringify(got)}`);
    expectSame("reply", got, want);
    if (!got.ok && /[\x00-\x1f\x7f-\x9f]/.test(got.message)) {
      throw new Violation("an error message kept a control character");
    }
    return Promise.resolve({ outcome: "value" });
  },
};

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

function header(size: number, wide: boolean): Uint8Array {
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

/** Every target, in the order reports list them. */
export const TARGETS: readonly FuzzTarget<unknown>[] = [
  decodeRequestTarget,
  decodeReplyTarget,
  readSizedNarrowTarget,
  readSizedWideTarget,
  readDelimitedTarget,
  receiveBodyTarget,
];

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
