/**
 * What a client session is opened with, and how its connection is watched:
 * the options of `BftpClient.connect`, the stall watch that gives up on a
 * server that moves no byte, the wording of a lost connection, and the
 * refusal of a request too large to send.
 *
 * @module
 */

import { BftpError, ConnectionError, systemReason, TimeoutError } from "../errors.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import type { MessageObserver } from "../protocol/channel.ts";
import { type ChecksumName, MAX_PATH_BYTES, MAX_REQUEST_BYTES } from "../protocol/limits.ts";
import { encodeMessage, type Request } from "../protocol/messages.ts";
import { closeQuietly } from "../transport/close.ts";
import type { ClientTlsOptions, TransportConn } from "../transport/types.ts";
import { Watchdog } from "../transport/watchdog.ts";

/** Options for `BftpClient.connect` and `RequestChannel.open`. */
export interface ClientOptions {
  /** Server host name or address. */
  hostname: string;
  /** Server port. */
  port: number;
  /**
   * Seconds to wait for the session to open: the connection, the TLS
   * handshake, the hello and the token (less when `stallTimeout` is less).
   *
   * @default {30}
   */
  connectTimeout?: number;
  /** Speak TLS (a `bftps://` URL), trusting the server as these options say; absent: plain TCP. */
  tls?: ClientTlsOptions | undefined;
  /** The access token, sent (AUTH) only when the server asks for one. */
  token?: string | undefined;
  /**
   * Seconds a request may go without a byte moving either way before the
   * client gives up with a timeout (a stalled server); 0 waits for ever.
   *
   * @default {300}
   */
  stallTimeout?: number | undefined;
  /**
   * The body checksums to offer, in order of preference (`--checksum`
   * offers one); the server picks the first it speaks.
   *
   * @default {CHECKSUMS}
   */
  checksums?: readonly ChecksumName[] | undefined;
  /** Called with each message sent and received (`bftp -v`); bodies are not messages. */
  onMessage?: MessageObserver | undefined;
  /**
   * The most bytes a second the session moves each way (`--limit-rate`;
   * see `transport/rate_limit.ts`).
   *
   * @default {undefined (no limit)}
   */
  limitRate?: number | undefined;
}

/** Seconds a request may stall before the client gives up. */
export const DEFAULT_STALL_TIMEOUT = 300;

/**
 * Refuses, before anything is sent, a request too large for any server to
 * read (a very long path): the server would drop the connection rather than
 * answer it. Paths up to that size go, and the server judges them.
 *
 * @example
 * ```ts
 * import { refuseLongPaths } from "./request_channel.ts";
 * import { throws } from "node:assert/strict";
 *
 * refuseLongPaths({ op: "STAT", path: "/a" });
 * throws(() => refuseLongPaths({ op: "STAT", path: "/" + "a".repeat(100_000) }));
 * ```
 *
 * @param req The request about to be sent.
 * @throws {BftpError} BAD_PATH when it is too large.
 */
export function refuseLongPaths(req: Request): void {
  // Every request is checked: skip the encoding when its strings cannot reach the limit
  // (a character takes at most 6 bytes in JSON, as \uXXXX; the rest of a request is small).
  let chars = 0;
  for (const v of Object.values(req)) {
    if (typeof v === "string") chars += v.length;
    // An MGET's paths, each with its quotes and comma.
    else if (Array.isArray(v)) { for (const p of v) chars += String(p).length + 3; }
  }
  if (chars * 6 + 1024 <= MAX_REQUEST_BYTES) return;
  const bytes = encodeMessage(req).byteLength;
  if (bytes <= MAX_REQUEST_BYTES) return;
  const path = Object.values(req).flat().find((v): v is string =>
    typeof v === "string" && v.length > 64
  );
  throw new BftpError(
    "BAD_PATH",
    `Refused path "${(path ?? "").slice(0, 40)}...": the request would be ${bytes} bytes, ` +
      `over the protocol's ${MAX_REQUEST_BYTES} (a path has at most ${MAX_PATH_BYTES})`,
  );
}

/**
 * Watches a connection for progress while a request is in flight: when no
 * byte has moved either way for `timeout` seconds, it closes the connection
 * and the request fails with a {@linkcode TimeoutError}.
 */
export class StallWatch {
  /** The connection, with every read and write marking progress. */
  readonly stream: ByteReader & ByteWriter;
  #dog: Watchdog;
  #timeout: number;

  constructor(conn: TransportConn, timeout: number) {
    this.#timeout = timeout;
    // Time counts only while a request is in flight. Between two replies nothing is, for a
    // moment: stopping and starting a timer each time cost two timer calls a request.
    this.#dog = new Watchdog(timeout * 1000, () => closeQuietly(conn), { whilePending: true });
    this.stream = this.#dog.watch(conn);
    if (timeout > 0) this.#dog.start();
  }

  /** Runs `fn` with the watch on (several may run at once: requests in flight). */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#timeout <= 0) return await fn();
    this.#dog.begin();
    try {
      return await fn();
    } catch (e) {
      if (this.#dog.expired) {
        throw new TimeoutError(
          `The server sent nothing for ${this.#timeout} s: giving up (see --timeout)`,
          { cause: e },
        );
      }
      throw e;
    } finally {
      this.#dog.end();
    }
  }

  /** Stops watching for good (the connection is closing): no timer is left behind. */
  close(): void {
    this.#dog.stop();
  }
}

/**
 * A reset, a broken pipe or a cut stream during the hello or AUTH: a
 * {@link ConnectionError} (exit 4).
 *
 * @param e What was thrown while the session opened.
 * @returns A {@link ConnectionError} with `e` as its cause; anything else as it is.
 *
 * @example
 * ```ts
 * import { handshakeLoss } from "./session_options.ts";
 * import { ConnectionError } from "../errors.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const reset = new Deno.errors.ConnectionReset("Connection reset by peer (os error 104)");
 * const lost = handshakeLoss(reset);
 * ok(lost instanceof ConnectionError);
 * equal(lost.cause, reset);
 * ok(lost.message.endsWith("during the BFTP hello: Connection reset by peer"));
 * const other = new TypeError("not a loss");
 * equal(handshakeLoss(other), other);
 * ```
 */
export function handshakeLoss(e: unknown): unknown {
  if (
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.UnexpectedEof
  ) {
    return new ConnectionError(
      `The server reset the connection during the BFTP hello: ${systemReason(e)}`,
      { cause: e },
    );
  }
  return e;
}

/**
 * A closed or cut connection as a {@link ConnectionError}; anything else as it is.
 *
 * @param e What a request's read or write threw.
 * @returns A {@link ConnectionError} with `e` as its cause, or `e`.
 *
 * @example
 * ```ts
 * import { connectionLoss } from "./session_options.ts";
 * import { ConnectionError } from "../errors.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const closed = connectionLoss(new Deno.errors.BadResource("Bad resource ID"));
 * ok(closed instanceof ConnectionError);
 * equal(closed.message, "Connection closed");
 * equal((connectionLoss(new Deno.errors.BrokenPipe()) as Error).message, "Connection lost");
 * const other = new RangeError("not a loss");
 * equal(connectionLoss(other), other);
 * ```
 */
export function connectionLoss(e: unknown): unknown {
  if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
    return new ConnectionError("Connection closed", { cause: e });
  }
  if (
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted
  ) {
    return new ConnectionError("Connection lost", { cause: e });
  }
  return e;
}
