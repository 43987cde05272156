/**
 * HTTP on our own sockets: a dependable HTTP/1.0 GET client, with the URL,
 * request, response head and body handling it is built from.
 *
 * - {@linkcode httpGet}: one GET, redirects on request, the body to a writer
 * - {@linkcode parseHttpUrl}, {@linkcode resolveLocation}: targets
 * - {@linkcode encodeRequest}, {@linkcode parseHeaderField}: the request
 * - {@linkcode readResponseHead}, {@linkcode headerValue}: the status line and headers
 * - {@linkcode readHttpLine}: one line of a head or a chunked body (CRLF, or a bare LF)
 * - {@linkcode bodyFraming}, {@linkcode copyBody}: length, chunked and until-close bodies
 * - {@linkcode HttpConnection}: the socket, with TLS, timeout and cancellation
 * - {@linkcode HttpStatusError}: a `4xx`/`5xx` answer (exit code 22)
 * - {@linkcode OutputFile}: `-o FILE`, written to a temporary file and renamed on success
 *
 * @example
 * ```ts
 * import { parseHttpUrl } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseHttpUrl("https://example.com/a").port, 443);
 * ```
 *
 * @module
 */

export * from "./url.ts";
export * from "./request.ts";
export * from "./response.ts";
export * from "./line.ts";
export * from "./body.ts";
export * from "./connection.ts";
export * from "./status_error.ts";
export * from "./get.ts";
export * from "./output_file.ts";
