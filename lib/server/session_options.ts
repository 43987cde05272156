/**
 * What a server session is started with: the served folder, the client's
 * address for the log, the deadlines, the tokens, and the hooks through
 * which the server counts sessions and wrong tokens.
 *
 * @module
 */

import type { ServedRoot } from "../root/served_root.ts";
import type { TokenSet } from "./auth.ts";
import type { ChecksumName } from "../protocol/limits.ts";

/** Options for `runSession` (session.ts). */
export interface SessionOptions {
  /** The served folder. */
  root: ServedRoot;
  /** Who the client is, for the log (`HOST:PORT`). */
  remote: string;
  /** Receives one line per request. */
  log: (line: string) => void;
  /**
   * Whether the log takes no lines (`log` does nothing): a request's line
   * is then not made at all (a 5,000-file push made one a file, its path
   * quoted, for nothing).
   *
   * @default {false}
   */
  quiet?: boolean;
  /**
   * Seconds a client has to send the whole of its hello line, or of a
   * request frame, counted from the first byte of it that the session reads.
   * A client that drips a request slower than that (a "slowloris") is
   * dropped through `drop`, even though each byte resets the idle timeout.
   * 0 disables the deadline.
   *
   * @default {0}
   */
  requestTimeout?: number;
  /** Ends the connection at once (the server closes it), with the reason for the log. */
  drop?: (why: string) => void;
  /**
   * The tokens that open the session: when given, every request but AUTH
   * and QUIT is refused with DENIED until an AUTH carries one of them.
   */
  tokens?: TokenSet | undefined;
  /**
   * Milliseconds to wait before answering a wrong token.
   *
   * @default {1000}
   */
  authDelay?: number;
  /**
   * Told once the handshake is complete: after the hello, or after a good
   * AUTH when tokens are required.
   */
  onReady?: () => void;
  /** Told of each wrong token (the server counts them by address). */
  onWrongToken?: () => void;
  /**
   * How long (ms) the client's address is still refused for wrong tokens
   * (0: it is not): an AUTH on a connection opened before the refusal is
   * then refused too, without its token being looked at.
   */
  refusedFor?: () => number;
  /**
   * The body checksums this server accepts (`--checksum`): a client that
   * offers none of them is refused at its hello.
   *
   * @default {CHECKSUMS}
   */
  checksums?: readonly ChecksumName[] | undefined;
}
