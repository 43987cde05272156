/**
 * A request's fields, checked one by one: what `decodeRequest`
 * (messages.ts) makes of a parsed JSON object, each op with its fields in
 * range (a missing or mistyped one is a protocol error, which the server
 * answers with BAD_REQUEST).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import {
  MAX_BLOCK_SIZE,
  MAX_MGET_PATHS,
  MAX_REUSE_NUMBERS,
  MAX_TIME_MS,
  MIN_BLOCK_SIZE,
} from "./limits.ts";
import type {
  FileVersion,
  GetRequest,
  MputRequest,
  PutRequest,
  Request,
  SetStatRequest,
} from "./messages.ts";

/**
 * Validates a parsed request object (see `decodeRequest` in messages.ts).
 *
 * @param o The object.
 * @returns The typed request, without fields it does not know (such as `id`).
 * @throws {ProtocolError} When it is not a valid request.
 *
 * @example
 * ```ts
 * import { requestFromObject } from "./request_fields.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(requestFromObject({ op: "STAT", path: "a", id: 3 }), { op: "STAT", path: "a" });
 * ```
 */
export function requestFromObject(o: Record<string, unknown>): Request {
  const op = o.op;
  switch (op) {
    case "PWD":
    case "QUIT":
      return { op };
    case "AUTH":
      return { op, token: str(o, "token") };
    case "GET": {
      const req: GetRequest = { op, path: str(o, "path") };
      if (o.offset !== undefined) req.offset = size(o, "offset");
      if (o.length !== undefined) req.length = size(o, "length");
      if (o.expect !== undefined) req.expect = fileVersion(o.expect, "expect");
      return req;
    }
    case "BLOCKS":
      return { op, path: str(o, "path"), blockSize: blockSize(o) };
    case "MGET":
      return { op, paths: pathList(o, "paths") };
    case "MPUT":
      return mputRequest(o);
    case "CD":
    case "LIST":
    case "STAT":
    case "DELETE":
    case "RMDIR":
    case "HASH":
      return { op, path: str(o, "path") };
    case "PUT": {
      const size = o.size ?? null;
      if (size !== null && !isSize(size)) {
        throw new ProtocolError(`Malformed request: "size" must be a non-negative integer or null`);
      }
      const req: PutRequest = {
        op,
        path: str(o, "path"),
        size,
        overwrite: bool(o, "overwrite", true),
      };
      if (bool(o, "resume", false)) {
        if (size === null) {
          throw new ProtocolError(`Malformed request: a resumable PUT needs a "size"`);
        }
        req.resume = true;
      }
      if (o.sha256 !== undefined || req.resume) req.sha256 = sha256Field(o, "sha256");
      Object.assign(req, attributeFields(o), newModeField(o));
      if (bool(o, "eager", false)) {
        if (req.resume) {
          throw new ProtocolError(`Malformed request: a resumable PUT cannot be "eager"`);
        }
        req.eager = true;
      }
      if (o.base !== undefined) Object.assign(req, deltaFields(o, req));
      return req;
    }
    case "SETSTAT": {
      const req: SetStatRequest = { op, path: str(o, "path"), ...attributeFields(o) };
      if (req.mtime === undefined && req.mode === undefined) {
        throw new ProtocolError(`Malformed request: SETSTAT needs "mtime", "mode" or both`);
      }
      return req;
    }
    case "MKDIR":
      return { op, path: str(o, "path"), parents: bool(o, "parents", false), ...newModeField(o) };
    case "RENAME":
      return { op, from: str(o, "from"), to: str(o, "to") };
    case undefined:
      throw new ProtocolError(`Malformed request: "op" is missing`);
    default:
      throw new ProtocolError(
        // Not String(op): an object op such as {"toString": false} would make it throw.
        `Unknown request "${
          (typeof op === "string" ? op : JSON.stringify(op) ?? typeof op).slice(0, 32)
            .replace(/[^\x20-\x7e]/g, "?")
        }"`,
      );
  }
}

/** The `newMode` field of a PUT or a MKDIR, checked; left out when absent. */
function newModeField(o: Record<string, unknown>): { newMode?: number } {
  if (o.newMode === undefined) return {};
  if (!isMode(o.newMode)) {
    throw new ProtocolError(`Malformed request: "newMode" must be an integer from 0 to 511`);
  }
  return { newMode: o.newMode };
}

/** The `mtime` and `mode` fields of a PUT or a SETSTAT, checked; absent ones left out. */
function attributeFields(o: Record<string, unknown>): { mtime?: number; mode?: number } {
  const out: { mtime?: number; mode?: number } = {};
  if (o.mtime !== undefined) {
    if (!isTime(o.mtime)) {
      throw new ProtocolError(
        `Malformed request: "mtime" must be an integer time in ms, at most ${MAX_TIME_MS} either way`,
      );
    }
    out.mtime = o.mtime;
  }
  if (o.mode !== undefined) {
    if (!isMode(o.mode)) {
      throw new ProtocolError(`Malformed request: "mode" must be an integer from 0 to 511`);
    }
    out.mode = o.mode;
  }
  return out;
}

function str(obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  if (typeof v !== "string") {
    throw new ProtocolError(`Malformed request: "${key}" must be a string`);
  }
  return v;
}

/** An MPUT, checked: its arrays as long as `paths`, each element in range. */
function mputRequest(o: Record<string, unknown>): MputRequest {
  const paths = pathList(o, "paths");
  const column = (key: string, ok: (v: unknown) => boolean, what: string) => {
    const v = o[key];
    if (!Array.isArray(v) || v.length !== paths.length || !v.every(ok)) {
      throw new ProtocolError(
        `Malformed request: "${key}" must be an array of ${paths.length} ${what}`,
      );
    }
    return v;
  };
  const req: MputRequest = {
    op: "MPUT",
    paths,
    sizes: column("sizes", (v) => isSize(v), "non-negative integers"),
    overwrite: bool(o, "overwrite", true),
  };
  if (o.mtimes !== undefined) {
    req.mtimes = column("mtimes", (v) => v === null || isTime(v), "times in ms or nulls");
  }
  if (o.modes !== undefined) {
    req.modes = column("modes", (v) => v === null || isMode(v), "modes from 0 to 511 or nulls");
  }
  if (o.newModes !== undefined) {
    req.newModes = column(
      "newModes",
      (v) => v === null || isMode(v),
      "modes from 0 to 511 or nulls",
    );
  }
  return req;
}

/** Whether `v` is a size: a non-negative integer that JSON holds exactly. */
function isSize(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Whether `v` is permission bits, 0 to 0o777. */
function isMode(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0o777;
}

/** An MGET's paths: an array of 1 to `MAX_MGET_PATHS` strings. */
function pathList(obj: Record<string, unknown>, key: string): string[] {
  const v = obj[key];
  if (
    !Array.isArray(v) || v.length === 0 || v.length > MAX_MGET_PATHS ||
    !v.every((p) => typeof p === "string")
  ) {
    throw new ProtocolError(
      `Malformed request: "${key}" must be an array of 1 to ${MAX_MGET_PATHS} strings`,
    );
  }
  return v;
}

function size(obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (!isSize(v)) {
    throw new ProtocolError(`Malformed request: "${key}" must be a non-negative integer`);
  }
  return v;
}

function sha256Field(obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  if (typeof v !== "string" || !/^[0-9a-fA-F]{64}$/.test(v)) {
    throw new ProtocolError(`Malformed request: "${key}" must be 64 hex digits`);
  }
  return v.toLowerCase();
}

/** A delta PUT's fields (`base`, `blockSize`, `reuse`, `whole`), checked. */
function deltaFields(o: Record<string, unknown>, req: PutRequest): Partial<PutRequest> {
  if (req.resume || req.size === null) {
    throw new ProtocolError(`Malformed request: a PUT with "base" needs a "size" and no "resume"`);
  }
  const reuse = o.reuse;
  if (
    !Array.isArray(reuse) || reuse.length % 2 !== 0 || reuse.length > MAX_REUSE_NUMBERS ||
    !reuse.every(isSize)
  ) {
    throw new ProtocolError(
      `Malformed request: "reuse" must be an array of at most ${MAX_REUSE_NUMBERS} non-negative integers, in pairs`,
    );
  }
  const whole = o.whole;
  if (typeof whole !== "string" || !/^(?:[0-9a-f]{32}|[0-9a-f]{64})$/.test(whole)) {
    throw new ProtocolError(`Malformed request: "whole" must be 32 or 64 lowercase hex digits`);
  }
  return { base: fileVersion(o.base, "base"), blockSize: blockSize(o), reuse, whole };
}

/** A block size: an integer from `MIN_BLOCK_SIZE` to `MAX_BLOCK_SIZE`. */
function blockSize(o: Record<string, unknown>): number {
  const v = o.blockSize;
  if (!isSize(v) || v < MIN_BLOCK_SIZE || v > MAX_BLOCK_SIZE) {
    throw new ProtocolError(
      `Malformed request: "blockSize" must be an integer from ${MIN_BLOCK_SIZE} to ${MAX_BLOCK_SIZE}`,
    );
  }
  return v;
}

function fileVersion(v: unknown, key: string): FileVersion {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ProtocolError(`Malformed request: "${key}" must be an object`);
  }
  const o = v as Record<string, unknown>;
  // Required: a missing time is not "any time" (null says that, explicitly).
  const mtime = o.mtime;
  if (mtime !== null && !isTime(mtime)) {
    throw new ProtocolError(
      `Malformed request: "${key}.mtime" must be an integer time in ms or null`,
    );
  }
  const version: FileVersion = { size: size(o, "size"), mtime };
  if (o.sha256 !== undefined) version.sha256 = sha256Field(o, "sha256");
  return version;
}

/** An integer time in ms that a Date can hold: at most {@linkcode MAX_TIME_MS} either way. */
function isTime(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= MAX_TIME_MS;
}

function bool(obj: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") {
    throw new ProtocolError(`Malformed request: "${key}" must be true or false`);
  }
  return v;
}
