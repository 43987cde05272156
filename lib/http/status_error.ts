/**
 * The error for an HTTP response whose status says the request failed
 * (`4xx`, `5xx`): code `HTTP_STATUS`, exit code 22 (as `curl -f`).
 *
 * @module
 */

import { BftpError } from "../errors.ts";
import { quoteUnsafe } from "../terminal_text.ts";

/**
 * A server answered with an error status.
 *
 * @example
 * ```ts
 * import { HttpStatusError } from "./status_error.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const err = new HttpStatusError(404, "Not Found", "http://127.0.0.1:8000/x");
 * deepEqual(err.exitCode, 22);
 * deepEqual(err.message, 'Server returned HTTP 404 "Not Found" for "http://127.0.0.1:8000/x"');
 * ```
 */
export class HttpStatusError extends BftpError {
  /** The status code, 400 to 599. */
  readonly status: number;

  /**
   * @param status The status code.
   * @param reason The reason phrase as sent (may be empty).
   * @param url The URL that answered.
   */
  constructor(status: number, reason: string, url: string) {
    const why = reason === "" ? "" : ` ${quoteUnsafe(reason, 200)}`;
    super("HTTP_STATUS", `Server returned HTTP ${status}${why} for "${url}"`);
    this.name = "HttpStatusError";
    this.status = status;
  }
}
