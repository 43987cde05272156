/**
 * BFTP messages: the typed requests a client sends and the replies a server
 * answers with, and their validation. Each travels as UTF-8 JSON in one
 * size-header frame (see docs/PROTOCOL.md).
 *
 * @module
 */

import { isRemoteErrorCode, ProtocolError, type RemoteErrorCode } from "../errors.ts";
import { replaceUnsafe } from "../terminal_text.ts";
import { MAX_REQUEST_DEPTH } from "./limits.ts";
import { requestFromObject } from "./request_fields.ts";
import { encodeSizedText } from "../framing/size_header.ts";

export { requestFromObject } from "./request_fields.ts";
import { parseStrictJson, StrictJsonError } from "./strict_json.ts";

// The served folder defines what an entry is (see lib/root/entry.ts); the wire carries it as is.
export type { Entry, EntryType } from "../root/entry.ts";

/**
 * The version of a file a resumed GET continues: the request carries what
 * the client was given when it started, and the server refuses with
 * `CHANGED` when the file is no longer that version.
 */
export interface FileVersion {
  /** The file's size in bytes. */
  size: number;
  /** Its modification time (ms since the epoch), or `null` when unknown. */
  mtime: number | null;
  /** Its SHA-256, lowercase hex, when the client was told it. */
  sha256?: string;
}

/** A GET request: the whole file, or (with `offset`) its bytes from there on. */
export interface GetRequest {
  /** Always `"GET"`. */
  op: "GET";
  /** The file. */
  path: string;
  /** Send the bytes from this offset on (a resumed download); absent: 0. */
  offset?: number;
  /**
   * Send only this many bytes from `offset` (feature `"blocks"`): a range,
   * whose trailer is the checksum of those bytes alone.
   */
  length?: number;
  /** Refuse with `CHANGED` unless the file is still this version. */
  expect?: FileVersion;
}

/**
 * BLOCKS (feature `"blocks"`): a file's checksum, and the checksum of each
 * of its blocks of `blockSize` bytes (the last one shorter), in a body.
 */
export interface BlocksRequest {
  /** Always `"BLOCKS"`. */
  op: "BLOCKS";
  /** The file. */
  path: string;
  /** The block size: `MIN_BLOCK_SIZE` to `MAX_BLOCK_SIZE`. */
  blockSize: number;
}

/**
 * MGET (feature `"mget"`): many whole files in one request, answered as
 * the GETs of `paths` in order would be, each reply with its `index`.
 */
export interface MgetRequest {
  /** Always `"MGET"`. */
  op: "MGET";
  /** The files: 1 to `MAX_MGET_PATHS`. */
  paths: string[];
}

/**
 * MPUT (feature `"mput"`): many whole files uploaded with one request, their
 * sized bodies right behind it in order, each answered as its eager PUT
 * would be, with its `index`.
 */
export interface MputRequest {
  /** Always `"MPUT"`. */
  op: "MPUT";
  /** The files to create or replace: 1 to `MAX_MGET_PATHS`. */
  paths: string[];
  /** Each body's size, in the order of `paths`. */
  sizes: number[];
  /** Replace existing files. */
  overwrite: boolean;
  /** Each file's modification time (ms since the epoch), or `null` to leave it be. */
  mtimes?: (number | null)[];
  /** Each file's permission bits (0 to 0o777), or `null` to leave them be. */
  modes?: (number | null)[];
  /** Each file's bits for when it is created, as PUT's `newMode`, or `null`. */
  newModes?: (number | null)[];
}

/** A PUT request. */
export interface PutRequest {
  /** Always `"PUT"`. */
  op: "PUT";
  /** The file to create or replace. */
  path: string;
  /** The body's size, or `null` when unknown (a stream). */
  size: number | null;
  /** Replace an existing file. */
  overwrite: boolean;
  /**
   * Resumable: the server keeps what arrived if the upload is cut, and
   * continues it from there when the same upload is asked again. Needs
   * `size` and `sha256`.
   */
  resume?: true;
  /** The SHA-256 of the whole file, lowercase hex (required with `resume`). */
  sha256?: string;
  /** Give the stored file this modification time (ms since the epoch): `put -p`. */
  mtime?: number;
  /** Give the stored file these permission bits (0 to 0o777): `put -p`. */
  mode?: number;
  /**
   * The source's permission bits (0 to 0o777), for a file this PUT creates:
   * given less the server's umask; a replaced file keeps its own, and
   * `mode` wins.
   */
  newMode?: number;
  /**
   * The body follows the request at once, without waiting for a `ready`
   * reply (version 2, pipelining); the server then answers once, after the
   * body, and reads and discards the body of a PUT it refuses.
   */
  eager?: true;
  /**
   * A delta upload (feature `"blocks"`): the target's version the new file
   * is made from. With it come `blockSize`, `reuse` and `whole`, and the
   * body holds only the blocks not reused.
   */
  base?: FileVersion;
  /** The block size of a delta upload. */
  blockSize?: number;
  /**
   * The target's blocks kept at the same place, as pairs: first block,
   * count (ascending, not overlapping).
   */
  reuse?: number[];
  /** The whole new file's checksum in the session's checksum (hex): what the server must end with. */
  whole?: string;
}

/** SETSTAT: a file's or folder's modification time and permission bits, either or both. */
export interface SetStatRequest {
  /** Always "SETSTAT". */
  op: "SETSTAT";
  /** The file or folder. */
  path: string;
  /** Its new modification time, ms since the epoch. */
  mtime?: number;
  /** Its new permission bits, 0 to 0o777. */
  mode?: number;
}

/** Every request, discriminated by `op`. */
export type Request =
  | { op: "AUTH"; token: string }
  | { op: "PWD" }
  | { op: "CD"; path: string }
  | { op: "LIST"; path: string }
  | { op: "STAT"; path: string }
  | GetRequest
  | BlocksRequest
  | MgetRequest
  | MputRequest
  | PutRequest
  | { op: "DELETE"; path: string }
  | { op: "MKDIR"; path: string; parents: boolean; newMode?: number }
  | { op: "RMDIR"; path: string }
  | { op: "RENAME"; from: string; to: string }
  | SetStatRequest
  | { op: "HASH"; path: string }
  | { op: "QUIT" };

/** The request operations. */
export type Op = Request["op"];

/** A success reply; its other fields depend on the request. */
export interface OkReply {
  /** Always `true`. */
  ok: true;
  [field: string]: unknown;
}

/** An error reply. */
export interface ErrorReply {
  /** Always `false`. */
  ok: false;
  /** What went wrong. */
  code: RemoteErrorCode;
  /** One line for a human. */
  message: string;
  /** The request's `id`, echoed (version 2); whatever the server sent, unchecked. */
  id?: unknown;
  /** Which of an MGET's paths it answers; whatever the server sent, unchecked. */
  index?: unknown;
}

/** Any reply. */
export type Reply = OkReply | ErrorReply;

const encoder = new TextEncoder();
// ignoreBOM keeps a byte order mark in the text, where the request check refuses it.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Encodes a message as UTF-8 JSON bytes.
 *
 * @param message A request or a reply.
 * @returns The bytes of one frame's payload.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./messages.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeMessage({ op: "PWD" })), '{"op":"PWD"}');
 * ```
 */
export function encodeMessage(message: Request | Reply): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/**
 * Encodes a message as one frame: its size header, then its UTF-8 JSON.
 *
 * @param message A request or a reply.
 * @returns The frame's bytes.
 *
 * @example
 * ```ts
 * import { encodeMessageFrame } from "./messages.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(new TextDecoder().decode(encodeMessageFrame({ op: "PWD" })), '0000000c{"op":"PWD"}');
 * ```
 */
export function encodeMessageFrame(message: Request | Reply): Uint8Array {
  return encodeSizedText(JSON.stringify(message));
}

/** Parses a payload; a request strictly (see strict_json.ts), a reply as JSON.parse does. */
function parseObject(bytes: Uint8Array, what: "request" | "reply"): Record<string, unknown> {
  let value: unknown;
  try {
    const text = decoder.decode(bytes);
    value = what === "request"
      ? parseStrictJson(text, { maxDepth: MAX_REQUEST_DEPTH })
      : JSON.parse(text);
  } catch (e) {
    if (e instanceof StrictJsonError) throw new ProtocolError(`Malformed ${what}: it ${e.message}`);
    throw new ProtocolError(`Malformed ${what}: not UTF-8 JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError(`Malformed ${what}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes and validates a request. Unknown fields are ignored; a missing or
 * mistyped field, or an unknown `op`, is a protocol error that the server
 * answers with BAD_REQUEST.
 *
 * @param bytes One frame's payload.
 * @returns The typed request.
 * @throws {ProtocolError} When the payload is not a valid request.
 *
 * @example
 * ```ts
 * import { decodeRequest } from "./messages.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const req = decodeRequest(new TextEncoder().encode('{"op":"GET","path":"a.txt"}'));
 * deepEqual(req, { op: "GET", path: "a.txt" });
 * ```
 */
export function decodeRequest(bytes: Uint8Array): Request {
  return requestFromObject(parseRequestObject(bytes));
}

/**
 * Parses a request frame's payload as strict JSON and insists on an object;
 * {@linkcode requestFromObject} then validates it.
 *
 * @param bytes One frame's payload.
 * @returns The object.
 * @throws {ProtocolError} When it is not UTF-8, strict JSON, or an object.
 *
 * @example
 * ```ts
 * import { parseRequestObject } from "./messages.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseRequestObject(new TextEncoder().encode('{"op":"PWD","id":7}')), { op: "PWD", id: 7 });
 * ```
 */
export function parseRequestObject(bytes: Uint8Array): Record<string, unknown> {
  return parseObject(bytes, "request");
}

/**
 * Decodes and validates a reply.
 *
 * @param bytes One frame's payload.
 * @returns The reply.
 * @throws {ProtocolError} When the payload is not a valid reply.
 *
 * @example
 * ```ts
 * import { decodeReply } from "./messages.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const reply = decodeReply(new TextEncoder().encode('{"ok":false,"code":"NOT_FOUND","message":"No"}'));
 * deepEqual(reply.ok, false);
 * ```
 */
export function decodeReply(bytes: Uint8Array): Reply {
  const o = parseObject(bytes, "reply");
  if (o.ok === true) return o as OkReply;
  if (o.ok === false) {
    const code = typeof o.code === "string" && isRemoteErrorCode(o.code) ? o.code : "SERVER";
    const message = typeof o.message === "string" ? o.message : "Unknown error";
    return {
      ok: false,
      code,
      message: replaceUnsafe(message, () => " ").slice(0, 1000),
      ...(o.id === undefined ? {} : { id: o.id }),
      ...(o.index === undefined ? {} : { index: o.index }),
    };
  }
  throw new ProtocolError(`Malformed reply: "ok" must be true or false`);
}
