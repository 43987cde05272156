/**
 * Ending connections: closing a resource that may already be closed, and
 * telling a peer that went away from a real failure.
 *
 * @module
 */

import { UnexpectedEofError } from "../errors.ts";

/**
 * Closes a connection, listener or file; one already closed is fine, any
 * other failure is thrown.
 *
 * @param resource Anything with `close()`, or nothing.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "./close.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closeQuietly(listener);
 * closeQuietly(listener); // already closed: no error
 * ```
 */
export function closeQuietly(resource: { close(): void } | null | undefined): void {
  try {
    resource?.close();
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource)) throw e;
  }
}

/**
 * Whether a listener's `accept()` failed for one connection that its peer
 * reset while it waited in the kernel's queue (Linux then answers
 * `ENOTCONN`, `ECONNABORTED` or `ECONNRESET`): that connection is gone, and
 * the listener goes on accepting the next. Any peer can cause it at will
 * (a connect closed at once with `SO_LINGER` 0).
 *
 * @param e What `accept()` threw.
 * @returns `true` for a connection gone before it was accepted.
 *
 * @example
 * ```ts
 * import { goneBeforeAccept } from "./close.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(goneBeforeAccept(new Deno.errors.NotConnected("os error 107")));
 * ok(!goneBeforeAccept(new Deno.errors.BadResource("listener closed")));
 * ```
 */
export function goneBeforeAccept(e: unknown): boolean {
  return e instanceof Deno.errors.NotConnected || e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.ConnectionReset;
}

/**
 * Whether an error only says that the peer went away (a reset, a closed
 * pipe, a connection closed under a read), rather than that something is
 * wrong on this side.
 *
 * @param e What was thrown.
 * @returns `true` for a disconnect.
 *
 * @example
 * ```ts
 * import { isDisconnect } from "./close.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(isDisconnect(new Deno.errors.ConnectionReset("reset")));
 * ok(!isDisconnect(new TypeError("bug")));
 * ```
 */
export function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.UnexpectedEof ||
    e instanceof UnexpectedEofError;
}
