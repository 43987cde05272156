/**
 * The message decoders under fuzzing: `decodeRequest()` and `decodeReply()`.
 * Their inputs are random bytes, random JSON, valid messages
 * ({@linkcode requestArb} makes every kind of valid request), mutated ones,
 * valid objects with one field dropped or set to something random, and
 * hand-picked edge cases; each answer is checked against a reference decoder
 * (tests/fuzz/reference_request.ts for requests, `referenceReply` here).
 *
 * @module
 */

import fc from "fast-check";
import { isRemoteErrorCode } from "../../lib/errors.ts";
import {
  decodeReply,
  decodeRequest,
  encodeMessage,
  type Reply,
  type Request,
} from "../../lib/protocol/messages.ts";
import {
  enc,
  expectSame,
  type FuzzTarget,
  mutated,
  outcomeOf,
  showBytes,
  Violation,
} from "./fuzz_core.ts";
import { parseObject, referenceRequest } from "./reference_request.ts";

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
