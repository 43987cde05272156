/**
 * The reference request decoder, written from docs/PROTOCOL.md apart from
 * lib/protocol/messages.ts: {@linkcode referenceRequest} says which request a
 * payload must decode to, or `null` for BAD_REQUEST, with its checks of sizes,
 * times, modes, hex digests, paths and file versions; and
 * {@linkcode parseObject}, the payload's JSON object as the spec reads it,
 * which the reply's reference decoder uses too.
 *
 * @module
 */

import { MAX_REQUEST_DEPTH } from "../../lib/protocol/limits.ts";
import type { Request } from "../../lib/protocol/messages.ts";
import { parseStrictJson } from "../../lib/protocol/strict_json.ts";

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

/**
 * Parses a payload as the spec says: UTF-8 (strict) JSON holding an object, with no BOM, no
 * duplicate or `__proto__` key, no lone surrogate, nested at most MAX_REQUEST_DEPTH levels;
 * `null` otherwise; a reply (not `strict`) as JSON.parse takes it. (The strictness is lib's own: tests/protocol/strict_json_test.ts checks it.)
 */
export function parseObject(bytes: Uint8Array, strict: boolean): Record<string, unknown> | null {
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
export function referenceRequest(bytes: Uint8Array): Request | null {
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
