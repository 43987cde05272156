/**
 * One HTTP GET on our own sockets, as a hand-written WWW client does it (an
 * HTTP/1.0 request, the answer drained to a writer), made dependable: the
 * status and headers parsed, the body's framing honoured, redirects
 * followed on request, and every failure a bftp error.
 *
 * @module
 */

import { ProtocolError, TimeoutError } from "../errors.ts";
import { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { type BodyFraming, bodyFraming, copyBody } from "./body.ts";
import { HttpConnection } from "./connection.ts";
import { encodeRequest } from "./request.ts";
import {
  type HeaderField,
  headerValue,
  MAX_HEADER_BYTES,
  readResponseHead,
  type ResponseHead,
} from "./response.ts";
import { HttpStatusError } from "./status_error.ts";
import { type HttpTarget, parseHttpUrl, resolveLocation } from "./url.ts";

/** A response as {@linkcode HttpGetOptions.onResponse} sees it, before its body. */
export interface HttpResponseInfo {
  /** The URL that answered. */
  target: HttpTarget;
  /** The status line and header fields. */
  head: ResponseHead;
  /** How the body is delimited. */
  framing: BodyFraming;
  /** `false` for a redirect about to be followed (its body is skipped). */
  final: boolean;
}

/** Options for {@linkcode httpGet}. */
export interface HttpGetOptions {
  /**
   * Follow `301`, `302`, `303`, `307` and `308` redirects that have a
   * `Location`, relative or absolute.
   *
   * @default {false}
   */
  followRedirects?: boolean;
  /**
   * The most redirects followed; one more is a {@linkcode ProtocolError}.
   *
   * @default {10}
   */
  maxRedirects?: number;
  /**
   * Extra request header fields (see {@linkcode encodeRequest}). A `Host`,
   * and credentials (`Authorization`, `Cookie`, `Proxy-Authorization`),
   * given here are sent only to the URL's own scheme, host and port, not
   * after a redirect elsewhere, as curl drops them: another server is not
   * to be given them, nor plain HTTP after HTTPS.
   *
   * @default {[]}
   */
  headers?: readonly HeaderField[];
  /**
   * Milliseconds without progress (connecting, the TLS handshake, any read
   * or write) before failing with a `TimeoutError`; `0` waits forever.
   *
   * @default {30000}
   */
  timeout?: number;
  /**
   * Milliseconds the whole download may take, redirects and body included,
   * however steadily the server sends (curl's `--max-time`): past it, a
   * `TimeoutError`. `0` sets no limit.
   *
   * @default {0}
   */
  maxTime?: number;
  /**
   * Extra trusted root certificates (PEM) for `https`.
   *
   * @default {[]}
   */
  caCerts?: readonly string[];
  /**
   * Cancels the request.
   *
   * @default {undefined}
   */
  signal?: AbortSignal | undefined;
  /**
   * The most bytes a response's header section may take.
   *
   * @default {65536}
   */
  maxHeaderBytes?: number;
  /**
   * The size of the one reused body buffer.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /**
   * Called with each accepted response before its body: every redirect
   * followed, then the final one. Not called for a `4xx`/`5xx` response.
   *
   * @default {undefined}
   */
  onResponse?: ((response: HttpResponseInfo) => void | Promise<void>) | undefined;
  /**
   * Called with each piece of the final body before it is written.
   *
   * @default {undefined}
   */
  onChunk?: ((chunk: Uint8Array) => void) | undefined;
}

/** What {@linkcode httpGet} fetched. */
export interface HttpGetResult {
  /** The URL of the final response. */
  target: HttpTarget;
  /** The final response's head. */
  head: ResponseHead;
  /** Body bytes written. */
  bytes: number;
  /** How many redirects were followed. */
  redirects: number;
}

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * GETs a URL over HTTP/1.0 (HTTP or HTTPS) and writes the final body to
 * `sink`.
 *
 * @param url The URL, or a target from {@linkcode parseHttpUrl}.
 * @param sink Where the body goes.
 * @param options Redirects, headers, timeout, certificates, callbacks.
 * @returns The final response and the body size.
 * @throws {HttpStatusError} On a `4xx` or `5xx` status (nothing is written).
 * @throws {ConnectionError} When the connection fails (refused, DNS, TLS, reset).
 * @throws {TimeoutError} When the server makes no progress for the timeout,
 * or the whole download takes longer than `maxTime`.
 * @throws {ProtocolError} On a malformed response, an oversize header or
 * too many redirects.
 * @throws {IntegrityError} When the body is cut short.
 *
 * @example
 * ```ts
 * import { httpGet } from "./get.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serve = (async () => {
 *   using conn = await listener.accept();
 *   await conn.read(new Uint8Array(4096)); // the request, small enough for one read here
 *   await conn.write(new TextEncoder().encode("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
 * })();
 * let text = "";
 * const sink = { write: (p: Uint8Array) => (text += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) };
 * const result = await httpGet(`http://127.0.0.1:${listener.addr.port}/`, sink);
 * await serve;
 * deepEqual([result.head.status, result.bytes, text], [200, 5, "hello"]);
 * ```
 */
export async function httpGet(
  url: string | HttpTarget,
  sink: ByteWriter,
  options: HttpGetOptions = {},
): Promise<HttpGetResult> {
  const first = typeof url === "string" ? parseHttpUrl(url) : url;
  const maxTime = options.maxTime ?? 0;
  if (maxTime <= 0) return await getFollowing(first, sink, options);
  // The deadline closes the connection as an interrupt does, and is then told as what it is.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), maxTime);
  const signal = options.signal
    ? AbortSignal.any([options.signal, deadline.signal])
    : deadline.signal;
  try {
    return await getFollowing(first, sink, { ...options, signal });
  } catch (e) {
    if (!deadline.signal.aborted || options.signal?.aborted) throw e;
    throw new TimeoutError(`The download took more than ${maxTime / 1000} s: gave up`, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** {@linkcode httpGet} without the whole download's deadline. */
async function getFollowing(
  first: HttpTarget,
  sink: ByteWriter,
  options: HttpGetOptions,
): Promise<HttpGetResult> {
  const maxRedirects = options.maxRedirects ?? 10;
  let target = first;
  let redirects = 0;
  while (true) {
    const headers = sameOrigin(target, first)
      ? options.headers
      : options.headers?.filter(([name]) => !ORIGIN_ONLY.has(name.toLowerCase()));
    using conn = await HttpConnection.open(target, {
      timeout: options.timeout ?? 30000,
      caCerts: options.caCerts ?? [],
      signal: options.signal,
    });
    await writeAll(conn, encodeRequest(target, headers ? { headers } : {}));
    const reader = new BufferedReader(conn);
    const head = await readResponseHead(reader, {
      maxBytes: options.maxHeaderBytes ?? MAX_HEADER_BYTES,
    });
    if (head.status >= 400) throw new HttpStatusError(head.status, head.reason, target.href);
    const framing = bodyFraming(head);
    const location = headerValue(head, "Location");
    const next = options.followRedirects && REDIRECTS.has(head.status) && location !== undefined
      ? nextTarget(target, location)
      : undefined;
    await options.onResponse?.({ target, head, framing, final: next === undefined });
    if (next === undefined) {
      const bytes = await copyBody(reader, framing, sink, {
        ...(options.bufferSize === undefined ? {} : { bufferSize: options.bufferSize }),
        ...(options.onChunk === undefined ? {} : { onChunk: options.onChunk }),
      });
      return { target, head, bytes, redirects };
    }
    if (redirects >= maxRedirects) {
      throw new ProtocolError(
        `Too many redirects: more than ${maxRedirects}, the last to "${next.href}"`,
      );
    }
    redirects++;
    target = next;
  }
}

function nextTarget(base: HttpTarget, location: string): HttpTarget {
  try {
    return resolveLocation(base, location);
  } catch (e) {
    if (e instanceof TypeError) throw new ProtocolError(e.message, { cause: e });
    throw e;
  }
}

/** The fields given only to the first URL's origin (lower case). */
const ORIGIN_ONLY: ReadonlySet<string> = new Set([
  "host",
  "authorization",
  "cookie",
  "proxy-authorization",
]);

function sameOrigin(a: HttpTarget, b: HttpTarget): boolean {
  return a.scheme === b.scheme && a.authority === b.authority;
}
