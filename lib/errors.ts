/**
 * The one error hierarchy of bftp: every error a user can meet has a code
 * (an {@linkcode ErrorCode}) and maps to exactly one process exit code
 * (the table in {@linkcode EXIT_CODES}, documented in README.md).
 *
 * Codes that travel over the wire in BFTP error replies are the
 * {@linkcode RemoteErrorCode}s; the client turns them back into a
 * {@linkcode RemoteError} with the same code.
 *
 * @example Mapping an error to its exit code
 * ```ts
 * import { BftpError, exitCodeOf } from "./errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const err = new BftpError("NOT_FOUND", 'Cannot open "a.txt": not found');
 * deepEqual(err.exitCode, 10);
 * deepEqual(exitCodeOf(new Error("bug")), 1);
 * ```
 *
 * @module
 */

/** Error codes a BFTP server may send in an error reply. */
export type RemoteErrorCode =
  | "NOT_FOUND"
  | "EXISTS"
  | "BAD_PATH"
  | "IS_DIR"
  | "NOT_DIR"
  | "NOT_EMPTY"
  | "NOT_REGULAR"
  | "DENIED"
  | "BUSY"
  | "NO_SPACE"
  | "BAD_REQUEST"
  | "INTEGRITY"
  | "CHANGED"
  | "SERVER";

/** Every error code bftp knows. */
export type ErrorCode =
  | RemoteErrorCode
  | "INTERNAL"
  | "USAGE"
  | "LOCAL_IO"
  | "CONNECTION"
  | "PROTOCOL"
  | "TIMEOUT"
  | "TLS"
  | "THRESHOLD"
  | "HTTP_STATUS"
  | "INTERRUPTED";

/**
 * The exit code of each error code. Several error codes can share an exit
 * code; an error code never has two.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = Object.freeze({
  INTERNAL: 1,
  USAGE: 2,
  LOCAL_IO: 3,
  CONNECTION: 4,
  PROTOCOL: 5,
  INTEGRITY: 6,
  TIMEOUT: 7,
  TLS: 8,
  CHANGED: 9,
  NOT_FOUND: 10,
  EXISTS: 11,
  BAD_PATH: 12,
  NOT_REGULAR: 12,
  IS_DIR: 13,
  NOT_DIR: 13,
  NOT_EMPTY: 14,
  DENIED: 15,
  BUSY: 16,
  NO_SPACE: 17,
  BAD_REQUEST: 18,
  SERVER: 18,
  THRESHOLD: 19,
  HTTP_STATUS: 22,
  // As a shell reports a command ended by SIGINT: 128 + 2.
  INTERRUPTED: 130,
});

const REMOTE_CODES: ReadonlySet<string> = new Set<RemoteErrorCode>([
  "NOT_FOUND",
  "EXISTS",
  "BAD_PATH",
  "IS_DIR",
  "NOT_DIR",
  "NOT_EMPTY",
  "NOT_REGULAR",
  "DENIED",
  "BUSY",
  "NO_SPACE",
  "BAD_REQUEST",
  "INTEGRITY",
  "CHANGED",
  "SERVER",
]);

/**
 * Tells whether a string is one of the error codes a server may send.
 *
 * @param code The string to test.
 * @returns `true` when `code` is a {@linkcode RemoteErrorCode}.
 *
 * @example
 * ```ts
 * import { isRemoteErrorCode } from "./errors.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(isRemoteErrorCode("NOT_FOUND"));
 * ok(!isRemoteErrorCode("USAGE"));
 * ```
 */
export function isRemoteErrorCode(code: string): code is RemoteErrorCode {
  return REMOTE_CODES.has(code);
}

/** The root of every error bftp raises on purpose. */
export class BftpError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: ErrorCode;

  /**
   * Makes an error with a code.
   *
   * @param code The error's code.
   * @param message One sentence-case line, no trailing period, values quoted.
   * @param options The standard `cause`.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BftpError";
    this.code = code;
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** A bad command line: the CLI prints the message and exits 2. */
export class UsageError extends BftpError {
  /** @param message What is wrong with the command line. */
  constructor(message: string) {
    super("USAGE", message);
    this.name = "UsageError";
  }
}

/** The peer broke the protocol: a malformed, oversize or unexpected message. */
export class ProtocolError extends BftpError {
  /**
   * @param message What was wrong.
   * @param options The standard `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("PROTOCOL", message, options);
    this.name = "ProtocolError";
  }
}

/** The connection could not be made, or was lost. */
export class ConnectionError extends BftpError {
  /**
   * @param message What happened.
   * @param options The standard `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("CONNECTION", message, options);
    this.name = "ConnectionError";
  }
}

/** The stream ended before the announced end of a message. */
export class UnexpectedEofError extends ConnectionError {
  /**
   * @param message What was being read when the stream ended.
   */
  constructor(message: string) {
    super(message);
    this.name = "UnexpectedEofError";
  }
}

/** Options for an {@linkcode IntegrityError}. */
export interface IntegrityErrorOptions {
  /**
   * The body was read to its end, trailer included, before the mismatch
   * was found: the stream is still in step, and the session goes on.
   *
   * @default {false}
   */
  bodyRead?: boolean;
}

/** What arrived is not what was sent: a hash mismatch or a wrong length. */
export class IntegrityError extends BftpError {
  /** Whether the body was read whole (its trailer too): the session is still in step. */
  readonly bodyRead: boolean;

  /**
   * @param message What did not match.
   * @param options Whether the body was read whole.
   */
  constructor(message: string, options: IntegrityErrorOptions = {}) {
    super("INTEGRITY", message);
    this.name = "IntegrityError";
    this.bodyRead = options.bodyRead ?? false;
  }
}

/** An operation took longer than allowed. */
export class TimeoutError extends BftpError {
  /**
   * @param message What timed out.
   * @param options The error the timeout caused, as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("TIMEOUT", message, options);
    this.name = "TimeoutError";
  }
}

/**
 * A TLS connection could not be made safely: the server's certificate is
 * not trusted or does not match the pinned fingerprint, the peer does not
 * speak TLS, or the server's own certificate or key cannot be used.
 */
export class TlsError extends BftpError {
  /**
   * @param message What failed, and what to do about it.
   * @param options The standard `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("TLS", message, options);
    this.name = "TlsError";
  }
}

/** A local file could not be read or written. */
export class LocalIoError extends BftpError {
  /**
   * @param message What failed, with the path quoted.
   * @param options The standard `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super("LOCAL_IO", message, options);
    this.name = "LocalIoError";
  }
}

/** A typed error reply from a BFTP server, or raised by the server's root. */
export class RemoteError extends BftpError {
  /** The code, one a server may send. */
  declare readonly code: RemoteErrorCode;

  /**
   * @param code The remote error code.
   * @param message The server's message.
   */
  constructor(code: RemoteErrorCode, message: string) {
    super(code, message);
    this.name = "RemoteError";
  }
}

/**
 * The exit code for any thrown value: a {@linkcode BftpError}'s own, 1 for
 * anything else (a bug).
 *
 * @param err The thrown value.
 * @returns The process exit code.
 *
 * @example
 * ```ts
 * import { exitCodeOf, UsageError } from "./errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(exitCodeOf(new UsageError("Unknown flag \"-x\"")), 2);
 * ```
 */
export function exitCodeOf(err: unknown): number {
  return err instanceof BftpError ? err.exitCode : EXIT_CODES.INTERNAL;
}

/** Options for {@linkcode localIoError}. */
export interface LocalIoErrorOptions {
  /**
   * The words for a missing file.
   *
   * @default {"not found"}
   */
  notFound?: string;
  /**
   * The words for a folder where a file was expected.
   *
   * @default {"is a folder"}
   */
  isFolder?: string;
}

/** "No space left" -> "no space left", as a reason reads mid-sentence. */
function lowerFirst(text: string): string {
  return text.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase());
}

/**
 * Turns a failed local file operation into a {@linkcode LocalIoError} with a
 * short reason: `Cannot write "out.bin": permission denied`. A
 * {@linkcode BftpError} passes through unchanged.
 *
 * @param action What was being done: "read", "write", "create folder"...
 * @param path The local path, as the user gave it.
 * @param cause What the file system threw.
 * @param options Words for the common cases.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import { localIoError } from "./errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const err = localIoError("read", "a.txt", new Deno.errors.NotFound("x"));
 * deepEqual(err.message, 'Cannot read "a.txt": not found');
 * deepEqual(err.exitCode, 3);
 * ```
 */
export function localIoError(
  action: string,
  path: string,
  cause: unknown,
  options: LocalIoErrorOptions = {},
): BftpError {
  if (cause instanceof BftpError) return cause;
  const why = cause instanceof Deno.errors.NotFound
    ? options.notFound ?? "not found"
    : cause instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : cause instanceof Deno.errors.IsADirectory
    ? options.isFolder ?? "is a folder"
    : cause instanceof Deno.errors.NotADirectory
    ? "a part of the path is not a folder"
    : lowerFirst(systemReason(cause));
  return new LocalIoError(`Cannot ${action} "${path}": ${why}`, { cause });
}

/**
 * What a system error says, without Deno's ` (os error N)` suffix: the
 * one wording of a cause for every message that quotes one.
 *
 * @param e What was thrown.
 * @returns Its message, trimmed.
 *
 * @example
 * ```ts
 * import { systemReason } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(systemReason(new Error("Connection reset by peer (os error 104)")), "Connection reset by peer");
 * ```
 */
export function systemReason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/ \(os error \d+\).*$/s, "");
}

/**
 * Whether `e` says a disk (or a quota) is full: the server's `NO_SPACE`, or
 * a local write's `ENOSPC` or `EDQUOT`. Every file after it would fail the
 * same way, so a sync stops there rather than try them all.
 *
 * @param e What was thrown.
 * @returns `true` for a full disk on either side.
 *
 * @example
 * ```ts
 * import { isDiskFull, localIoError, RemoteError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * const full = Object.assign(new Error("No space left on device"), { code: "ENOSPC" });
 * equal(isDiskFull(localIoError("write", "a.txt", full)), true);
 * equal(isDiskFull(new RemoteError("NO_SPACE", "No space left on the server")), true);
 * equal(isDiskFull(new RemoteError("DENIED", "Read-only")), false);
 * ```
 */
export function isDiskFull(e: unknown): boolean {
  if (e instanceof RemoteError) return e.code === "NO_SPACE";
  if (!(e instanceof LocalIoError) || !(e.cause instanceof Error)) return false;
  const code = (e.cause as Error & { code?: unknown }).code;
  return code === "ENOSPC" || code === "EDQUOT";
}
