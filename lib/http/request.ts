/**
 * The bytes of an HTTP/1.0 GET request: the request line, the `Host`,
 * `User-Agent` and `Connection` headers and any extra ones, and the empty
 * line; plus the checking of a user's `Name: value` header.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import type { HeaderField } from "./response.ts";
import type { HttpTarget } from "./url.ts";

/** Options for {@linkcode encodeRequest}. */
export interface EncodeRequestOptions {
  /**
   * Extra header fields. One with the name of a default field (`Host`,
   * `User-Agent`, `Connection`) replaces it; one with an empty value removes
   * the field of that name.
   *
   * @default {[]}
   */
  headers?: readonly HeaderField[];
  /**
   * The `User-Agent` value.
   *
   * @default {"bftp/<version>"}
   */
  userAgent?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Builds the request for one GET.
 *
 * @param target Where the request goes.
 * @param options Extra headers and the user agent.
 * @returns The request bytes, ending with the empty line.
 *
 * @example
 * ```ts
 * import { encodeRequest } from "./request.ts";
 * import { parseHttpUrl } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const bytes = encodeRequest(parseHttpUrl("http://example.com/search?q=python"), {
 *   userAgent: "test",
 *   headers: [["Accept", "text/html"]],
 * });
 * deepEqual(
 *   new TextDecoder().decode(bytes),
 *   "GET /search?q=python HTTP/1.0\r\nHost: example.com\r\nUser-Agent: test\r\n" +
 *     "Connection: close\r\nAccept: text/html\r\n\r\n",
 * );
 * ```
 */
export function encodeRequest(target: HttpTarget, options: EncodeRequestOptions = {}): Uint8Array {
  const extra = options.headers ?? [];
  const defaults: HeaderField[] = [
    ["Host", target.host],
    ["User-Agent", options.userAgent ?? `bftp/${VERSION}`],
    ["Connection", "close"],
  ];
  const named = (name: string) => (field: HeaderField) =>
    field[0].toLowerCase() === name.toLowerCase();
  const fields: HeaderField[] = [];
  for (const field of defaults) {
    const given = extra.filter(named(field[0]));
    fields.push(...(given.length === 0 ? [field] : given));
  }
  for (const field of extra) {
    if (!defaults.some((d) => named(d[0])(field))) fields.push(field);
  }
  const lines = [`GET ${target.path} HTTP/1.0`];
  for (const [name, value] of fields) {
    if (value !== "") lines.push(`${name}: ${value}`);
  }
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
}

/**
 * Checks a header given as `Name: value` (as curl's `-H` takes it).
 *
 * @param text The header as typed; `Name:` with no value means "do not send
 * this header".
 * @returns The name and the trimmed value.
 * @throws {TypeError} When the name is not an HTTP token, the colon is
 * missing, or the value holds control or non-ASCII characters.
 *
 * @example
 * ```ts
 * import { parseHeaderField } from "./request.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseHeaderField("Accept:  text/plain "), ["Accept", "text/plain"]);
 * throws(() => parseHeaderField("no colon"));
 * ```
 */
export function parseHeaderField(text: string): HeaderField {
  const colon = text.indexOf(":");
  const name = colon < 0 ? "" : text.slice(0, colon);
  if (!TOKEN.test(name)) {
    throw new TypeError(`Invalid header "${text}": expected "Name: value"`);
  }
  const value = text.slice(colon + 1).trim();
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) {
      throw new TypeError(`Invalid header "${name}": the value must be printable ASCII`);
    }
  }
  return [name, value];
}
