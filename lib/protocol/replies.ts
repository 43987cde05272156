/**
 * BFTP's success replies, one type per request, and their checks: the
 * server writes each reply as its type, and the client reads each through
 * its check, so a reply field is added in one place (here) plus its
 * handler. A reply that fails its check is a {@linkcode ProtocolError}
 * ("Malformed reply"): a hostile or broken server cannot put a value the
 * client would crash on (a time a Date cannot hold, a mode past 0o7777)
 * into its hands. docs/PROTOCOL.md lists the same fields.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { TRAILER_LENGTHS } from "./body_format.ts";
import { type ChecksumName, MAX_TIME_MS } from "./limits.ts";
import type { Entry, OkReply } from "./messages.ts";

/** PWD's and CD's reply. */
export interface CwdReply {
  /** The session's current folder, absolute. */
  cwd: string;
}

/** LIST's reply. */
export interface ListReply {
  /** The folder's entries, sorted by name. */
  entries: Entry[];
}

/** STAT's reply. */
export interface StatReply {
  /** The file or folder. */
  entry: Entry;
}

/** HASH's reply, and the reply that ends a PUT in a SHA-256 session (`offset` there when it was resumed). */
export interface HashReply {
  /** The file's size in bytes. */
  size: number;
  /** Its SHA-256, lowercase hex. */
  sha256: string;
  /** A resumed PUT: where the body it received began. */
  offset?: number;
}

/**
 * The reply that ends a PUT: the size stored and the hash it confirms, in
 * the session's checksum, under that checksum's name (`sha256`, as
 * {@linkcode HashReply}, or `xxh3-128`).
 */
export type PutDoneFields =
  & { size: number; offset?: number; index?: number }
  & ({ sha256: string } | { "xxh3-128": string });

/** GET's reply, before the body. */
export interface GetReply {
  /** The whole file's size. */
  size: number;
  /** Its modification time (ms since the epoch), or `null`. */
  mtime: number | null;
  /** Where the body starts: the requested offset, or 0 when the server sends it all. */
  offset: number;
  /** The whole file's SHA-256, when the server told it. */
  sha256: string | undefined;
  /** Its permission bits (0 to 0o777), when the server told them. */
  mode: number | null;
}

/** BLOCKS's reply (feature `"blocks"`), before the body of the blocks' digests. */
export interface BlocksReply {
  /** The file's size. */
  size: number;
  /** Its modification time (ms since the epoch), or `null`. */
  mtime: number | null;
  /** The block size, as asked. */
  blockSize: number;
  /** How many blocks: the size divided by the block size, rounded up. */
  count: number;
  /** The whole file's checksum in the session's checksum, lowercase hex. */
  hash: string;
}

/** PUT's first reply: send the body (from `offset`, for a resumed upload). */
export interface PutReadyReply {
  /** Always `true`. */
  ready: true;
  /** A resumed upload: the bytes the server already has. */
  offset?: number;
}

/** AUTH's reply. */
export interface AuthReply {
  /** Whether this session may only read. */
  readOnly: boolean;
}

/** A GET reply's fields, as the server sends them. */
export type GetReplyFields = Omit<GetReply, "offset" | "sha256" | "mode"> & {
  offset?: number;
  /** A range's length (a GET with `length`). */
  length?: number;
  sha256?: string;
  mode?: number;
  /** Which of an MGET's paths it answers. */
  index?: number;
};

/** The fields of any success reply a session sends after the hello. */
export type ReplyFields =
  | CwdReply
  | ListReply
  | StatReply
  | HashReply
  | PutDoneFields
  | GetReplyFields
  | BlocksReply
  | PutReadyReply
  | AuthReply
  | Record<string, never>;

function field<T>(reply: OkReply, key: string, check: (v: unknown) => v is T): T {
  const v = reply[key];
  if (!check(v)) throw new ProtocolError(`Malformed reply: "${key}" is missing or invalid`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isSize = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isHash = (v: unknown): v is string => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);
const ENTRY_TYPES: ReadonlySet<unknown> = new Set(["file", "dir", "link", "other"]);
/** A time a Date can hold, or null: anything else would crash a formatter. */
const isTime = (v: unknown): v is number | null =>
  v === null || (typeof v === "number" && Number.isSafeInteger(v) && Math.abs(v) <= MAX_TIME_MS);
const isMode = (v: unknown): v is number | null =>
  v === null || (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0o7777);

function isEntry(v: unknown): v is Entry {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.name === "string" && ENTRY_TYPES.has(e.type) && isSize(e.size) &&
    isTime(e.mtime) && isMode(e.mode) && (e.link === undefined || e.link === true);
}

/**
 * Checks PWD's or CD's reply.
 *
 * @param reply The success reply.
 * @returns The current folder.
 * @throws {ProtocolError} When `cwd` is missing or not a string.
 *
 * @example
 * ```ts
 * import { checkCwdReply } from "./replies.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(checkCwdReply({ ok: true, cwd: "/a" }), { cwd: "/a" });
 * ```
 */
export function checkCwdReply(reply: OkReply): CwdReply {
  return { cwd: field(reply, "cwd", isString) };
}

/**
 * Checks LIST's reply.
 *
 * @param reply The success reply.
 * @returns The entries.
 * @throws {ProtocolError} When an entry is malformed.
 *
 * @example
 * ```ts
 * import { checkListReply } from "./replies.ts";
 * import { throws } from "node:assert/strict";
 *
 * const entry = { name: "a", type: "file", size: 1, mtime: 1e300, mode: 0o644 };
 * throws(() => checkListReply({ ok: true, entries: [entry] }), /Malformed reply/);
 * ```
 */
export function checkListReply(reply: OkReply): ListReply {
  const isEntries = (v: unknown): v is Entry[] => Array.isArray(v) && v.every(isEntry);
  return { entries: field(reply, "entries", isEntries) };
}

/**
 * Checks STAT's reply.
 *
 * @param reply The success reply.
 * @returns The entry.
 * @throws {ProtocolError} When the entry is malformed.
 *
 * @example
 * ```ts
 * import { checkStatReply } from "./replies.ts";
 * import { equal } from "node:assert/strict";
 *
 * const entry = { name: "a", type: "dir", size: 0, mtime: null, mode: 0o755 };
 * equal(checkStatReply({ ok: true, entry }).entry.type, "dir");
 * ```
 */
export function checkStatReply(reply: OkReply): StatReply {
  return { entry: field(reply, "entry", isEntry) };
}

/**
 * Checks HASH's reply, or the reply that ends a PUT.
 *
 * @param reply The success reply.
 * @returns Size and hash.
 * @throws {ProtocolError} When either is missing or malformed.
 *
 * @example
 * ```ts
 * import { checkHashReply } from "./replies.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(checkHashReply({ ok: true, size: 0, sha256: "e3".padEnd(64, "0") }).size, 0);
 * ```
 */
export function checkHashReply(reply: OkReply): HashReply {
  return { size: field(reply, "size", isSize), sha256: field(reply, "sha256", isHash) };
}

/**
 * The fields of the reply that ends a PUT (see {@linkcode PutDoneFields}).
 *
 * @param size The size stored.
 * @param checksum The session's checksum.
 * @param hash The hash the body's trailer gave, verified.
 * @param offset A resumed upload: where the body began.
 * @returns The fields.
 *
 * @example
 * ```ts
 * import { putDoneFields } from "./replies.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(putDoneFields(2, "xxh3-128", "ab".repeat(16)), { size: 2, "xxh3-128": "ab".repeat(16) });
 * ```
 */
export function putDoneFields(
  size: number,
  checksum: ChecksumName,
  hash: string,
  offset?: number,
): PutDoneFields {
  const named = checksum === "sha256" ? { sha256: hash } : { "xxh3-128": hash };
  return { size, ...named, ...(offset === undefined ? {} : { offset }) };
}

/**
 * Checks the reply that ends a PUT: its size, and its hash under the
 * session's checksum's name.
 *
 * @param reply The success reply.
 * @param checksum The session's checksum.
 * @returns Size and hash.
 * @throws {ProtocolError} When either is missing or malformed.
 *
 * @example
 * ```ts
 * import { checkPutDoneReply } from "./replies.ts";
 * import { equal } from "node:assert/strict";
 *
 * const reply = { ok: true as const, size: 0, "xxh3-128": "99aa06d3014798d86001c324468d497f" };
 * equal(checkPutDoneReply(reply, "xxh3-128").hash, "99aa06d3014798d86001c324468d497f");
 * ```
 */
export function checkPutDoneReply(
  reply: OkReply,
  checksum: ChecksumName,
): { size: number; hash: string } {
  const digits = TRAILER_LENGTHS[checksum];
  const isDigest = (v: unknown): v is string =>
    typeof v === "string" && v.length === digits && /^[0-9a-f]+$/.test(v);
  return { size: field(reply, "size", isSize), hash: field(reply, checksum, isDigest) };
}

/**
 * Checks GET's reply. Optional fields that are malformed are dropped
 * (`mtime`, `sha256` and `mode` are advice); `size` and `offset` must hold.
 *
 * @param reply The success reply.
 * @returns What it says of the file and where the body starts.
 * @throws {ProtocolError} For a missing size, a bad offset or one past the size.
 *
 * @example
 * ```ts
 * import { checkGetReply } from "./replies.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(checkGetReply({ ok: true, size: 3, mtime: 5, mode: 0o644 }), {
 *   size: 3,
 *   mtime: 5,
 *   offset: 0,
 *   sha256: undefined,
 *   mode: 0o644,
 * });
 * ```
 */
export function checkGetReply(reply: OkReply): GetReply {
  const size = field(reply, "size", isSize);
  const offset = reply.offset === undefined ? 0 : field(reply, "offset", isSize);
  if (offset > size) {
    throw new ProtocolError(`Malformed reply: offset ${offset} is beyond the size ${size}`);
  }
  const { mtime, mode } = reply;
  return {
    size,
    mtime: typeof mtime === "number" && Number.isSafeInteger(mtime) ? mtime : null,
    offset,
    sha256: isHash(reply.sha256) ? reply.sha256 : undefined,
    mode: typeof mode === "number" && isMode(mode) ? mode & 0o777 : null,
  };
}

/**
 * Checks BLOCKS's reply against the request: the block size asked, the
 * count that the size and it make, a checksum of the session's.
 *
 * @param reply The success reply.
 * @param blockSize The block size asked.
 * @param checksum The session's checksum.
 * @returns The reply's fields.
 * @throws {ProtocolError} When a field is missing, mistyped or does not add up.
 *
 * @example
 * ```ts
 * import { checkBlocksReply } from "./replies.ts";
 * import { equal } from "node:assert/strict";
 *
 * const hash = "0".repeat(32);
 * const reply = { ok: true, size: 10000, mtime: 5, blockSize: 4096, count: 3, hash } as const;
 * equal(checkBlocksReply(reply, 4096, "xxh3-128").count, 3);
 * ```
 */
export function checkBlocksReply(
  reply: OkReply,
  blockSize: number,
  checksum: ChecksumName,
): BlocksReply {
  const size = field(reply, "size", isSize);
  const count = field(reply, "count", isSize);
  const hash = field(reply, "hash", isString);
  if (
    reply.blockSize !== blockSize || count !== Math.ceil(size / blockSize) ||
    hash.length !== TRAILER_LENGTHS[checksum] || !/^[0-9a-f]+$/.test(hash)
  ) {
    throw new ProtocolError("Malformed reply: the blocks do not add up to the file");
  }
  const { mtime } = reply;
  return {
    size,
    mtime: typeof mtime === "number" && Number.isSafeInteger(mtime) ? mtime : null,
    blockSize,
    count,
    hash,
  };
}

/**
 * Checks PUT's first reply.
 *
 * @param reply The success reply.
 * @param size The size the request announced (`null`: a stream).
 * @returns Where the body starts (0 unless the upload is resumed).
 * @throws {ProtocolError} For a malformed offset or one past the size.
 *
 * @example
 * ```ts
 * import { checkPutReadyReply } from "./replies.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(checkPutReadyReply({ ok: true, ready: true, offset: 2 }, 5), { ready: true, offset: 2 });
 * ```
 */
export function checkPutReadyReply(reply: OkReply, size: number | null): PutReadyReply {
  const offset = reply.offset === undefined ? 0 : field(reply, "offset", isSize);
  if (offset > (size ?? 0)) {
    throw new ProtocolError(`Malformed reply: offset ${offset} is beyond the size`);
  }
  return { ready: true, offset };
}
