/**
 * Access tokens: the set of tokens a server accepts, each read-write or
 * read-only, from `--token`, `BFTP_TOKEN` or a token file. Tokens are kept
 * only as SHA-256 digests and compared in constant time; no message ever
 * shows one.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { UsageError } from "../errors.ts";

/** What a token allows. */
export type Access = "rw" | "ro";

/** The longest token accepted, in UTF-8 bytes. */
export const MAX_TOKEN_BYTES = 1024;

const digest = (token: string) => createHash("sha256").update(token).digest();

/**
 * The tokens a server accepts.
 *
 * @example
 * ```ts
 * import { TokenSet } from "./auth.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const tokens = TokenSet.parse("# team\nrw s3cret\nro look-only\n", "tokens.txt");
 * deepEqual(tokens.check("s3cret"), "rw");
 * deepEqual(tokens.check("look-only"), "ro");
 * deepEqual(tokens.check("guess"), null);
 * ```
 */
export class TokenSet {
  #entries: { digest: Uint8Array; access: Access }[] = [];

  /**
   * Reads a token file: one token a line, as `rw TOKEN` (may change files)
   * or `ro TOKEN` (may only read); blank lines and lines starting with `#`
   * are ignored.
   *
   * @param text The file's text.
   * @param source The file's name, for error messages.
   * @returns The tokens.
   * @throws {UsageError} On a malformed line (the message names the line, never the token).
   */
  static parse(text: string, source: string): TokenSet {
    const set = new TokenSet();
    text.split(/\r?\n/).forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed === "" || trimmed.startsWith("#")) return;
      const m = /^(rw|ro)\s+(\S+)$/.exec(trimmed);
      if (!m) {
        throw new UsageError(
          `Invalid line ${i + 1} in the token file "${source}": expected "rw TOKEN" or "ro TOKEN"`,
        );
      }
      set.add(m[2]!, m[1] as Access);
    });
    if (set.size === 0) throw new UsageError(`No token in the token file "${source}"`);
    return set;
  }

  /**
   * Adds a token.
   *
   * @param token The token: not empty, no spaces or control characters.
   * @param access What it allows.
   * @throws {UsageError} When the token is not acceptable.
   */
  add(token: string, access: Access): void {
    if (token === "" || /[\s\x00-\x1f\x7f]/.test(token)) {
      throw new UsageError("Invalid token: it must be non-empty, without spaces");
    }
    if (new TextEncoder().encode(token).byteLength > MAX_TOKEN_BYTES) {
      throw new UsageError(`Invalid token: longer than ${MAX_TOKEN_BYTES} bytes`);
    }
    this.#entries.push({ digest: digest(token), access });
  }

  /**
   * The tokens as digests and access, to hand to a worker (never the tokens).
   *
   * @returns One entry per token.
   */
  toDigests(): { digest: Uint8Array; access: Access }[] {
    return this.#entries.map((e) => ({ digest: e.digest.slice(), access: e.access }));
  }

  /**
   * Rebuilds a set from {@linkcode TokenSet.toDigests}.
   *
   * @param entries The digests and access.
   * @returns The tokens.
   */
  static fromDigests(entries: { digest: Uint8Array; access: Access }[]): TokenSet {
    const set = new TokenSet();
    for (const e of entries) set.#entries.push({ digest: e.digest.slice(), access: e.access });
    return set;
  }

  /** How many tokens. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Checks a token a client sent. Every known token is compared, each in
   * constant time (over SHA-256 digests, so lengths do not show either).
   *
   * @param token What the client sent.
   * @returns What it allows, or `null` when it is not a known token.
   */
  check(token: string): Access | null {
    const given = digest(token);
    let found: Access | null = null;
    for (const entry of this.#entries) {
      if (timingSafeEqual(given, entry.digest) && found !== "rw") found = entry.access;
    }
    return found;
  }
}
