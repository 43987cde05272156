/**
 * A session's access: whether it has shown a good token yet (when the
 * server requires one), whether it may change anything, and how AUTH is
 * answered, before and after a good token. A session's access is set once,
 * by its first good token; wrong tokens are answered slowly, and the third
 * ends the session.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { Reply, Request } from "../protocol/messages.ts";
import { describeRequest } from "./describe_request.ts";
import { DEFAULT_AUTH_DELAY_MS, MAX_AUTH_FAILURES } from "./limits.ts";
import type { SessionOptions } from "./session_options.ts";
import { refusedAddressMessage } from "./refusal.ts";

/** How the access answers: a reply to send, a line to log. */
export interface AccessIo {
  /** Sends a reply. */
  send(reply: Reply): Promise<void>;
  /** Logs a line about this session. */
  log(line: string): void;
}

/**
 * One session's access.
 *
 * @example
 * ```ts
 * import { SessionAccess } from "./session_access.ts";
 * import { TokenSet } from "./auth.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const root = await ServedRoot.open(dir);
 * const tokens = TokenSet.parse("ro s3cret", "tokens.txt");
 * const access = new SessionAccess({ root, remote: "test", log: () => {}, tokens, authDelay: 0 });
 * const sent: unknown[] = [];
 * const io = { send: (r: unknown) => Promise.resolve(void sent.push(r)), log: () => {} };
 * equal(await access.beforeAuth({ op: "PWD" }, io), true);
 * equal(await access.beforeAuth({ op: "AUTH", token: "s3cret" }, io), true);
 * deepEqual([access.authenticated, access.readOnly], [true, true]);
 * deepEqual(sent.map((r) => (r as { ok: boolean }).ok), [false, true]);
 * await Deno.remove(dir);
 * ```
 */
export class SessionAccess {
  readonly #options: SessionOptions;
  #authenticated: boolean;
  #readOnly: boolean;
  #wrongTokens = 0;

  /** @param options The session's: its tokens, root, delay and hooks. */
  constructor(options: SessionOptions) {
    this.#options = options;
    this.#authenticated = options.tokens === undefined;
    this.#readOnly = options.root.readOnly;
  }

  /** Whether requests are heard: no token is required, or a good one was shown. */
  get authenticated(): boolean {
    return this.#authenticated;
  }

  /** Read-only for this session: the server's setting, or a read-only token. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /**
   * Answers a request before a good token: only AUTH is heard.
   *
   * @param req The request (not QUIT, which is always heard).
   * @param io Where the answer goes.
   * @returns Whether the session goes on.
   */
  async beforeAuth(req: Request, io: AccessIo): Promise<boolean> {
    if (req.op !== "AUTH") {
      io.log(`${describeRequest(req)} DENIED (no token yet)`);
      await io.send({
        ok: false,
        code: "DENIED",
        message: "This server requires a token: send AUTH first",
      });
      // An MPUT's bodies, or an eager PUT's, follow it: nothing is read before a token (an
      // unknown peer could send without end), so the session ends rather than go out of step.
      return req.op !== "MPUT" && !(req.op === "PUT" && req.eager === true);
    }
    // An address refused meanwhile (its wrong tokens on other connections) guesses no more on the
    // connections it opened before: each would give it 3 more tries.
    const refused = this.#options.refusedFor?.() ?? 0;
    if (refused > 0) {
      io.log(`AUTH DENIED (the address is refused for wrong tokens; token not checked)`);
      await io.send({ ok: false, code: "DENIED", message: refusedAddressMessage(refused) });
      return false;
    }
    const access = this.#options.tokens!.check(req.token);
    if (access !== null) {
      this.#authenticated = true;
      this.#readOnly ||= access === "ro";
      io.log(`AUTH ok (${access === "ro" ? "read-only" : "read-write"})`);
      this.#options.onReady?.();
      await io.send({ readOnly: this.#readOnly, ok: true });
      return true;
    }
    this.#wrongTokens++;
    this.#options.onWrongToken?.();
    // Slows down guessing; the constant-time check already hides how close a guess was.
    const delay = this.#options.authDelay ?? DEFAULT_AUTH_DELAY_MS;
    await new Promise((resolve) => setTimeout(resolve, delay));
    io.log(`AUTH DENIED (wrong token, ${this.#wrongTokens} of ${MAX_AUTH_FAILURES})`);
    await io.send({ ok: false, code: "DENIED", message: "Wrong token" });
    if (this.#wrongTokens < MAX_AUTH_FAILURES) return true;
    io.log(`closed after ${MAX_AUTH_FAILURES} wrong tokens`);
    return false;
  }

  /**
   * The answer to AUTH once heard: without tokens it changes nothing; with
   * them, a second AUTH is refused (a read-only session stays read-only).
   *
   * @returns The reply's fields.
   * @throws {RemoteError} BAD_REQUEST when the server requires tokens.
   */
  authAgain(): { readOnly: boolean } {
    if (this.#options.tokens !== undefined) {
      throw new RemoteError(
        "BAD_REQUEST",
        "Already authenticated: the session keeps the access of its first token",
      );
    }
    return { readOnly: this.#readOnly };
  }
}
