/**
 * The head of an HTTP/1.x response: the status line and the header fields,
 * read line by line (CRLF-delimited) through a {@linkcode BufferedReader},
 * with the whole header section bounded so that a hostile server cannot
 * make the client allocate without limit.
 *
 * @module
 */

import { ProtocolError, UnexpectedEofError } from "../errors.ts";
import type { BufferedReader } from "../framing/buffered_reader.ts";
import { type HttpLine, readHttpLine } from "./line.ts";
import { quoteUnsafe } from "../terminal_text.ts";

/** One header field: its name as sent, and its value without surrounding blanks. */
export type HeaderField = readonly [name: string, value: string];

/** A parsed response head. */
export interface ResponseHead {
  /** The HTTP version of the status line, such as `"1.0"` or `"1.1"`. */
  version: string;
  /** The status code, 200 to 599. */
  status: number;
  /** The reason phrase; may be empty. */
  reason: string;
  /** The header fields, in the order received. */
  headers: readonly HeaderField[];
  /** The head exactly as received: status line, fields and the empty line. */
  raw: Uint8Array;
}

/** Options for {@linkcode readResponseHead}. */
export interface ReadResponseHeadOptions {
  /**
   * The most bytes the header section may take, line ends included (for all
   * interim 1xx heads and the final head together).
   *
   * @default {65536}
   */
  maxBytes?: number;
}

/** The default limit of a response's header section: 64 KiB. */
export const MAX_HEADER_BYTES = 65536;

const CRLF = new Uint8Array([13, 10]);
/** A line's LF, the least end a line has. */
const LF_LENGTH = 1;
const latin1 = new TextDecoder("latin1");
const STATUS_LINE = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/;
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
const CONTINUATION = /^[ \t]+(.*?)[ \t]*$/;

/**
 * Reads a response head: the status line, then header fields up to the
 * empty line; a line ends with CRLF, or a bare LF as RFC 9112 (section 2.2)
 * lets a recipient take it. Interim `1xx` heads (other than `101`) are read
 * and skipped.
 * Folded continuation lines are joined to the field above with one space.
 *
 * @param reader The buffered connection, positioned at the start of the response.
 * @param options The header section limit.
 * @returns The final head; the reader is left at the first byte of the body.
 * @throws {ProtocolError} When the server sends no response, a malformed
 * status line or field, `101` unasked, or a header section over the limit.
 *
 * @example
 * ```ts
 * import { BufferedReader } from "../framing/buffered_reader.ts";
 * import { readResponseHead } from "./response.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi");
 * let sent = false;
 * const source = {
 *   read(p: Uint8Array) {
 *     if (sent) return Promise.resolve(null);
 *     sent = true;
 *     p.set(bytes);
 *     return Promise.resolve(bytes.byteLength);
 *   },
 * };
 * const head = await readResponseHead(new BufferedReader(source));
 * deepEqual([head.status, head.reason, head.headers], [200, "OK", [["Content-Length", "2"]]]);
 * ```
 */
export async function readResponseHead(
  reader: BufferedReader,
  options: ReadResponseHeadOptions = {},
): Promise<ResponseHead> {
  const limit = options.maxBytes ?? MAX_HEADER_BYTES;
  let used = 0;
  const readLine = async (first: boolean): Promise<Uint8Array> => {
    let read: HttpLine | null;
    try {
      read = await readHttpLine(reader, Math.max(limit - used - LF_LENGTH, 0));
    } catch (e) {
      if (e instanceof UnexpectedEofError) {
        throw new ProtocolError(`The connection closed inside the response header`, { cause: e });
      }
      if (e instanceof ProtocolError) throw headerTooLong(limit, e);
      throw e;
    }
    if (read === null) {
      throw new ProtocolError(
        first
          ? "The server closed the connection without sending a response"
          : "The connection closed inside the response header",
      );
    }
    used += read.length;
    if (used > limit) throw headerTooLong(limit);
    return read.line;
  };
  while (true) {
    const lines: Uint8Array[] = [];
    const statusBytes = await readLine(used === 0);
    lines.push(statusBytes);
    const statusText = latin1.decode(statusBytes);
    const match = hasControl(statusText) ? null : STATUS_LINE.exec(statusText);
    if (!match) throw new ProtocolError(`Malformed HTTP status line ${quote(statusText)}`);
    const status = Number(match[2]);
    // Three digits, 100 to 599 (RFC 9110, section 15): "999" is no HTTP error, but a bad answer.
    if (status < 100 || status > 599) {
      throw new ProtocolError(`Invalid HTTP status ${quote(statusText)}`);
    }
    const headers: [string, string][] = [];
    while (true) {
      const bytes = await readLine(false);
      lines.push(bytes);
      if (bytes.byteLength === 0) break;
      const text = latin1.decode(bytes);
      if (hasControl(text)) throw new ProtocolError(`Malformed HTTP header line ${quote(text)}`);
      const field = FIELD_LINE.exec(text);
      if (field) {
        headers.push([field[1]!, field[2]!]);
        continue;
      }
      const more = CONTINUATION.exec(text);
      const last = headers[headers.length - 1];
      if (!more || !last) throw new ProtocolError(`Malformed HTTP header line ${quote(text)}`);
      last[1] = last[1] === "" ? more[1]! : `${last[1]} ${more[1]!}`;
    }
    if (status === 101) throw new ProtocolError("Unexpected 101 Switching Protocols response");
    if (status < 200) continue;
    return {
      version: match[1]!,
      status,
      reason: match[3] ?? "",
      headers,
      raw: joinLines(lines),
    };
  }
}

/**
 * Every value of a header field, matched by name without regard to case.
 *
 * @param head The response head.
 * @param name The field name.
 * @returns The values, in order; empty when the field is absent.
 *
 * @example
 * ```ts
 * import { headerValues } from "./response.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const head = { headers: [["Set-Cookie", "a=1"], ["set-cookie", "b=2"]] as const };
 * deepEqual(headerValues(head, "SET-COOKIE"), ["a=1", "b=2"]);
 * ```
 */
export function headerValues(head: Pick<ResponseHead, "headers">, name: string): string[] {
  const lower = name.toLowerCase();
  return head.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * One header field's value: several occurrences are joined with `", "`.
 *
 * @param head The response head.
 * @param name The field name, in any case.
 * @returns The value, or `undefined` when the field is absent.
 *
 * @example
 * ```ts
 * import { headerValue } from "./response.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const head = { headers: [["Location", "/next"]] as const };
 * deepEqual(headerValue(head, "location"), "/next");
 * deepEqual(headerValue(head, "Content-Length"), undefined);
 * ```
 */
export function headerValue(head: Pick<ResponseHead, "headers">, name: string): string | undefined {
  const values = headerValues(head, name);
  return values.length === 0 ? undefined : values.join(", ");
}

function headerTooLong(limit: number, cause?: unknown): ProtocolError {
  return new ProtocolError(
    `The response header is longer than the limit of ${limit} bytes`,
    cause === undefined ? undefined : { cause },
  );
}

function joinLines(lines: Uint8Array[]): Uint8Array {
  const total = lines.reduce((sum, l) => sum + l.byteLength + CRLF.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const line of lines) {
    out.set(line, offset);
    out.set(CRLF, offset + line.byteLength);
    offset += line.byteLength + CRLF.byteLength;
  }
  return out;
}

/** Tells whether a line holds a control character other than a tab. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** Quotes untrusted text for a one-line message: at most 60 characters, escapes visible. */
function quote(text: string): string {
  return quoteUnsafe(text, 60);
}
