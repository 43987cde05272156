/**
 * A request frame as the server reads it: the request, and the `id` the
 * client gave it (version 2), which the answer echoes. A frame that is not
 * a valid request is a {@linkcode BadRequestError} that still carries the id
 * when there is one, and says whether a body follows it (an eager PUT), so
 * that the server can read past the body and answer in step.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { MAX_REQUEST_ID } from "./limits.ts";
import { parseRequestObject, type Request, requestFromObject } from "./messages.ts";

/** A request and the id its answer echoes. */
export interface RequestFrame {
  /** The validated request. */
  request: Request;
  /** The client's id for it (version 2), or `undefined` when it sent none. */
  id: number | undefined;
}

/** Thrown for a frame that was read whole but is not a valid request: the session can go on. */
export class BadRequestError extends ProtocolError {
  /** The request's id, when the frame carried a valid one: the answer echoes it. */
  readonly id: number | undefined;
  /** Whether a body follows the frame (an `"eager": true` PUT): read past it before answering. */
  readonly bodyFollows: boolean;
  /**
   * Whether bodies the server cannot count follow the frame (an MPUT): the
   * session ends after the answer, since they cannot be read as requests.
   */
  readonly fatal: boolean;

  /**
   * @param message What is wrong with the request.
   * @param id The request's id, if any.
   * @param bodyFollows Whether a body follows the frame.
   * @param fatal Whether uncounted bodies follow it (an MPUT).
   */
  constructor(message: string, id?: number, bodyFollows = false, fatal = false) {
    super(message);
    this.name = "BadRequestError";
    this.id = id;
    this.bodyFollows = bodyFollows;
    this.fatal = fatal;
  }
}

/** The payload read as plain JSON, if it is a JSON object at all. */
function looseObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** Whether `v` is a valid request id: an integer from 0 to 2^53 - 1. */
function isRequestId(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_REQUEST_ID;
}

/**
 * Decodes one request frame's payload with its id.
 *
 * @param bytes The payload.
 * @returns The request and its id.
 * @throws {BadRequestError} When the payload is not a valid request.
 *
 * @example
 * ```ts
 * import { decodeRequestFrame } from "./request_frame.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const frame = decodeRequestFrame(new TextEncoder().encode('{"op":"STAT","path":"a","id":4}'));
 * deepEqual(frame, { request: { op: "STAT", path: "a" }, id: 4 });
 * ```
 */
export function decodeRequestFrame(bytes: Uint8Array): RequestFrame {
  let o: Record<string, unknown>;
  try {
    o = parseRequestObject(bytes);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    // Refused as not strict (a duplicate key, a lone surrogate...), yet maybe JSON that
    // says which request it is: the answer echoes its id, and reads past its body.
    const loose = looseObject(bytes);
    const id = isRequestId(loose?.id) ? loose.id : undefined;
    const eager = loose?.op === "PUT" && loose.eager === true;
    throw new BadRequestError(e.message, id, eager, loose?.op === "MPUT");
  }
  const bodyFollows = o.op === "PUT" && o.eager === true;
  const fatal = o.op === "MPUT";
  if (o.id !== undefined && !isRequestId(o.id)) {
    throw new BadRequestError(
      `Malformed request: "id" must be an integer from 0 to ${MAX_REQUEST_ID}`,
      undefined,
      bodyFollows,
      fatal,
    );
  }
  const id = o.id;
  try {
    return { request: requestFromObject(o), id };
  } catch (e) {
    if (e instanceof ProtocolError) throw new BadRequestError(e.message, id, bodyFollows, fatal);
    throw e;
  }
}
