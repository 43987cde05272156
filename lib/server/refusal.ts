/**
 * How the listener turns a connection away: a BUSY answer when a limit is
 * reached, or DENIED while the client's address is penalised for wrong
 * tokens. The answer is written at once, then the client's hello is drained
 * so that closing does not reset the connection before it has read it.
 *
 * @module
 */

import { writeAll } from "../framing/write_all.ts";
import { encodeMessageFrame } from "../protocol/messages.ts";
import { closeQuietly } from "../transport/close.ts";
import type { TransportConn } from "../transport/types.ts";

/** Why a connection is refused: a limit, or the milliseconds left of a penalty. */
export type RefusalReason = "full" | "client-full" | number;

/** Options for {@linkcode Refuser}. */
export interface RefuserOptions {
  /** The most sessions at once (told in the BUSY message). */
  maxConnections: number;
  /** The most sessions from one address (told in the BUSY message). */
  maxPerClient: number;
  /** Milliseconds the refusal may take beyond one second. */
  handshakeMs: number;
  /** Receives one line per refusal. */
  log: (line: string) => void;
}

function errorFrame(code: "BUSY" | "DENIED", message: string): Uint8Array {
  return encodeMessageFrame({ ok: false, code, message });
}

/**
 * Answers and closes connections the server will not serve.
 *
 * @example
 * ```ts
 * import { Refuser } from "./refusal.ts";
 *
 * const lines: string[] = [];
 * const refuser = new Refuser({
 *   maxConnections: 10,
 *   maxPerClient: 2,
 *   handshakeMs: 1000,
 *   log: (line) => lines.push(line),
 * });
 * // `await refuser.refuse(conn, "127.0.0.1:50000", "full")` answers BUSY and closes `conn`.
 * ```
 */
export class Refuser {
  readonly #options: RefuserOptions;
  // Encoded once: a refusal costs one write of a few bytes.
  readonly #busyFrames: Record<"full" | "client-full", Uint8Array>;

  /** @param options The limits (for the messages) and the logger. */
  constructor(options: RefuserOptions) {
    this.#options = options;
    const { maxConnections, maxPerClient } = options;
    this.#busyFrames = {
      "full": errorFrame(
        "BUSY",
        `Server busy: the limit of ${maxConnections} connection(s) is reached, try again later`,
      ),
      "client-full": errorFrame(
        "BUSY",
        `Server busy: the limit of ${maxPerClient} connection(s) from one address is reached, ` +
          `try again later`,
      ),
    };
  }

  #frame(why: RefusalReason): Uint8Array {
    if (typeof why !== "number") return this.#busyFrames[why];
    return errorFrame("DENIED", refusedAddressMessage(why));
  }

  #describe(why: RefusalReason): string {
    const { maxConnections, maxPerClient } = this.#options;
    return typeof why === "number"
      ? `refused: DENIED (too many wrong tokens from this address)`
      : `refused: BUSY (limit of ${
        why === "full" ? `${maxConnections} connections` : `${maxPerClient} per client address`
      })`;
  }

  /**
   * Answers `conn` with the refusal and closes it; never throws.
   *
   * @param conn The accepted connection.
   * @param remote Who the client is, for the log.
   * @param why The limit reached, or the penalty's milliseconds left.
   */
  async refuse(conn: TransportConn, remote: string, why: RefusalReason): Promise<void> {
    this.#options.log(`${remote} ${this.#describe(why)}`);
    const deadline = setTimeout(() => closeQuietly(conn), 1000 + this.#options.handshakeMs);
    try {
      await writeAll(conn, this.#frame(why));
      await conn.closeWrite();
      // Let the client's hello arrive, so closing does not reset the connection
      // before it has read the answer.
      clearTimeout(deadline);
      const drain = setTimeout(() => closeQuietly(conn), 1000);
      const buf = new Uint8Array(256);
      try {
        while ((await conn.read(buf)) !== null) { /* discard */ }
      } finally {
        clearTimeout(drain);
      }
    } catch { // the client is gone: nothing to tell it
    } finally {
      clearTimeout(deadline);
      closeQuietly(conn);
    }
  }
}

/**
 * What an address refused for its wrong tokens is told, at a new
 * connection or at an AUTH on one it opened before.
 *
 * @param ms How long the refusal still lasts.
 * @returns The message.
 *
 * @example
 * ```ts
 * import { refusedAddressMessage } from "./refusal.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(refusedAddressMessage(29_001), "Too many wrong tokens from this address: try again in 30 s");
 * ```
 */
export function refusedAddressMessage(ms: number): string {
  return `Too many wrong tokens from this address: try again in ${Math.ceil(ms / 1000)} s`;
}
