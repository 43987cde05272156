/**
 * Several sources in one command, as `cp` and `scp` take them:
 * `bftp get URL… DIR` and `bftp put SRC… URL`. URLs on the same server share
 * one session, and a source that fails is reported on stderr while the
 * others go on; the command then exits with the last failure's code.
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { type BftpUrl, parseBftpUrl } from "../client/url.ts";
import { BftpError, ConnectionError, RemoteError, TimeoutError, UsageError } from "../errors.ts";
import { formatHostPort } from "../transport/address.ts";
import { visible } from "./format.ts";
import { type CliIo, errorLine, writeLine } from "./io.ts";
import { endProgressLinesOn } from "./progress.ts";
import { type ConnectionFlagValues, openSession, type Session } from "./session.ts";

/** Options for {@linkcode SessionPool}: `--retry`. */
export interface SessionPoolOptions {
  /**
   * Attempts after the first, when a transfer fails with a transient error
   * (`--retry N`, as curl's): the connection lost or refused, a stall, a
   * busy server.
   *
   * @default {0}
   */
  retries?: number;
  /**
   * The wait before the first retry, in milliseconds; doubled before each
   * next one, up to a minute.
   *
   * @default {1000}
   */
  retryDelayMs?: number;
}

/** What is left of a source's `--retry`: the retries, and the next wait (ms). */
interface RetryBudget {
  retries: number;
  delay: number;
}

/** The longest wait between two attempts. */
const MAX_RETRY_DELAY_MS = 60_000;

/** Waits `ms`, or less when `signal` aborts (Ctrl-C), without keeping the process up. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** One server's key in a {@linkcode SessionPool}: TLS or not, and its heads. */
function sessionKey(url: BftpUrl): string {
  const heads = url.heads.map((h) => `${h.hostname.toLowerCase()}:${h.port}`).join(",");
  return `${url.secure}|${heads}`;
}

/**
 * Open sessions by server: the first URL naming a server connects, later
 * ones reuse that session. Close it once, at the end. A session that broke
 * is opened again on the next head (when the URL has several), and
 * {@linkcode SessionPool.run} continues a cut resumable transfer there.
 *
 * @example
 * ```ts
 * import { SessionPool } from "./sources.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const io = { signal: new AbortController().signal } as ConstructorParameters<typeof SessionPool>[0];
 * const pool = new SessionPool(io);
 * await rejects(pool.open("http://x/"), /Invalid URL/);
 * await pool.close();
 * ```
 */
export class SessionPool {
  #io: CliIo;
  #values: ConnectionFlagValues;
  #sessions = new Map<string, Promise<Session>>();
  /**
   * The servers whose session could not be opened, with why (after the
   * retries `--retry` allows): the other sources of that server fail with
   * the same error, without connecting again (three more AUTHs of a wrong
   * token, each a strike against the address, or the same certificate
   * refused three times).
   */
  #failed = new Map<string, unknown>();
  #retries: number;
  #retryDelayMs: number;

  /**
   * @param io The console (abort signal, `BFTP_TOKEN`, `BFTP_HEADS`).
   * @param values The command's parsed flags (the connection flags among them).
   * @param options How often a transient failure is tried again.
   */
  constructor(io: CliIo, values: ConnectionFlagValues = {}, options: SessionPoolOptions = {}) {
    this.#io = io;
    this.#values = values;
    this.#retries = options.retries ?? 0;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
  }

  /**
   * The session for the server that a URL names, opened on first use
   * (and again after a failure broke it, on the next head).
   *
   * @param target A `bftp://` or `bftps://` URL, as text or already parsed.
   * @param tries The retries left (`--retry`) for a connection refused or lost while opening;
   *   by default the pool's own, whole.
   * @returns The client, the parsed URL and the session.
   */
  async open(
    target: string | BftpUrl,
    tries: RetryBudget = { retries: this.#retries, delay: this.#retryDelayMs },
  ): Promise<{ client: BftpClient; url: BftpUrl; session: Session }> {
    const url = typeof target === "string" ? parseBftpUrl(target) : target;
    const key = sessionKey(url);
    if (this.#failed.has(key)) throw this.#failed.get(key);
    for (;;) {
      try {
        return await this.#openOnce(url);
      } catch (e) {
        try {
          await this.#retryOrThrow(e, tries);
        } catch (final) {
          this.#failed.set(key, final);
          throw final;
        }
      }
    }
  }

  /** {@linkcode SessionPool.open}, one attempt. */
  async #openOnce(
    target: string | BftpUrl,
  ): Promise<{ client: BftpClient; url: BftpUrl; session: Session }> {
    const url = typeof target === "string" ? parseBftpUrl(target) : target;
    const key = sessionKey(url);
    const pending = this.#sessions.get(key);
    let broken: Session | null = null;
    if (pending !== undefined) {
      let failure: unknown = null;
      broken = await pending.catch((e) => (failure = e, null));
      // Another source's open of this server failed: this one fails with it, not connecting
      // again (its retries, if any, take it out of the map first).
      if (failure !== null) throw failure;
      if (broken?.client.usable) return { client: broken.client, url, session: broken };
      // Another source has opened a new one meanwhile: that one.
      if (this.#sessions.get(key) !== pending) return await this.#openOnce(url);
    }
    // In the map before any wait, so that the other sources take this one.
    const start = broken === null ? 0 : broken.index + 1;
    const opening = openSession(url, this.#io, this.#values, { start });
    this.#sessions.set(key, opening);
    opening.catch(() => {}); // Handled below, after the close: not an unhandled rejection meanwhile.
    await broken?.close().catch(() => {});
    let session: Session;
    try {
      session = await opening;
    } catch (e) {
      // Out of the map, so that a retry (`--retry`, a transient failure) connects again.
      if (this.#sessions.get(key) === opening) this.#sessions.delete(key);
      throw e;
    }
    return { client: session.client, url, session };
  }

  /**
   * Runs `fn` on the session for a URL. With `resume`, a transfer cut after
   * the session opened (the connection lost, or a stall) is continued on
   * the URL's next head, each head at most once, and an upload the head
   * before still holds (BUSY, for a moment after the cut) is asked for again.
   * Then, with `retries` (`--retry`), a transient failure (the connection
   * lost or refused, a stall, a busy server) is tried again after a wait
   * that doubles each time, as curl's `--retry` does: continued, with
   * `resume`, else from the start. Otherwise the error ends it as usual.
   *
   * @param target A `bftp://` or `bftps://` URL, as text or already parsed.
   * @param fn The work: `again` is true when it continues a cut attempt.
   * @param resume Whether the work resumes (`--resume`, not a tree).
   * @returns What `fn` returns.
   */
  async run<R>(
    target: string | BftpUrl,
    fn: (client: BftpClient, url: BftpUrl, again: boolean) => Promise<R>,
    resume = false,
  ): Promise<R> {
    const tries = { switches: 0, waits: 0, retries: this.#retries, delay: this.#retryDelayMs };
    let again = false;
    for (;;) {
      // One budget for the source: a refused reconnection counts as much as a cut transfer.
      const { client, url, session } = await this.open(target, tries);
      target = url;
      try {
        return await fn(client, url, again);
      } catch (e) {
        if (this.#io.signal.aborted) throw e;
        if (!resume || !(await this.#continueOnHead(e, client, session, tries, again))) {
          await this.#retryOrThrow(e, tries);
        }
        again = true;
      }
    }
  }

  /**
   * Whether a cut resumable transfer goes on at once: on the next head, or
   * on the same one after a pause while it still holds the upload (BUSY).
   */
  async #continueOnHead(
    e: unknown,
    client: BftpClient,
    session: Session,
    tries: { switches: number; waits: number },
    again: boolean,
  ): Promise<boolean> {
    if (again && e instanceof RemoteError && e.code === "BUSY" && tries.waits++ < BUSY_WAITS) {
      await abortableSleep(BUSY_WAIT_MS, this.#io.signal);
      return true;
    }
    const cut = (e instanceof ConnectionError || e instanceof TimeoutError) && !client.usable;
    if (!cut || tries.switches >= session.heads.length - 1) return false;
    tries.switches++;
    // The cut transfer's progress line stays as it was; the next one starts below.
    await endProgressLinesOn(this.#io.stderr);
    if (this.#values.verbose) {
      const head = session.heads[session.index]!;
      await writeLine(
        this.#io.stderr,
        `* Cut on head "${formatHostPort(head.hostname, head.port)}": ${
          visible(e.message)
        }; resuming on the next head`,
      );
    }
    return true;
  }

  /** Rethrows `e` unless it is transient and a retry is left; else says so and waits. */
  async #retryOrThrow(e: unknown, tries: RetryBudget): Promise<void> {
    const transient = e instanceof ConnectionError || e instanceof TimeoutError ||
      (e instanceof RemoteError && e.code === "BUSY");
    if (!transient || tries.retries <= 0 || this.#io.signal.aborted) throw e;
    tries.retries--;
    await endProgressLinesOn(this.#io.stderr);
    // Which retry this is, of how many: "0 retries left" read as if none was coming.
    const which = `retry ${this.#retries - tries.retries} of ${this.#retries}`;
    await writeLine(
      this.#io.stderr,
      errorLine(`${e.message}; trying again in ${tries.delay / 1000} s (${which})`),
    );
    await abortableSleep(tries.delay, this.#io.signal);
    tries.delay = Math.min(tries.delay * 2, MAX_RETRY_DELAY_MS);
  }

  /** Quits every session that opened. */
  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const s of await Promise.allSettled(sessions)) {
      if (s.status === "fulfilled") await s.value.close();
    }
  }
}

/** How often a continued upload asks again while the head before still holds it. */
const BUSY_WAITS = 20;
/** Milliseconds between those asks. */
const BUSY_WAIT_MS = 250;

/** How {@linkcode eachSource} and {@linkcode forEachUrl} move several sources. */
export interface EachSourceOptions<T, R> {
  /**
   * How many sources move at once (their requests pipelined on the sessions
   * they share).
   *
   * @default {1}
   */
  window?: number;
  /** Takes each source's result in the sources' order (prints it), after `run`. */
  finish?: (result: R, source: T) => Promise<void>;
}

/**
 * Runs `run` for each source. With one source an error ends the command as
 * usual; with several, a {@linkcode BftpError} is written to stderr as
 * `bftp: …` and the next source goes on (unless the user interrupted).
 * With a `window` over 1, that many sources move at once; their results
 * (`finish`) and failures are still taken in the sources' order.
 *
 * @param sources The sources, in order.
 * @param io The console.
 * @param run Moves one source.
 * @param options The window, and what to do with each result in order.
 * @returns 0, or the exit code of the last source that failed.
 *
 * @example
 * ```ts
 * import { eachSource } from "./sources.ts";
 * import { RemoteError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let err = "";
 * const io = {
 *   signal: new AbortController().signal,
 *   stderr: { write: (p: Uint8Array) => (err += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) },
 * } as unknown as Parameters<typeof eachSource>[1];
 * const done: string[] = [];
 * const code = await eachSource(["a", "b", "c"], io, (s) => {
 *   if (s === "b") throw new RemoteError("NOT_FOUND", 'Cannot open "b": not found');
 *   done.push(s);
 *   return Promise.resolve();
 * }, { window: 2 });
 * deepEqual([code, done, err], [10, ["a", "c"], 'bftp: Cannot open "b": not found\n']);
 * ```
 */
export async function eachSource<T, R = void>(
  sources: readonly T[],
  io: Pick<CliIo, "signal" | "stderr">,
  run: (source: T) => Promise<R>,
  options: EachSourceOptions<T, R> = {},
): Promise<number> {
  const { finish } = options;
  if (sources.length === 1) {
    const result = await run(sources[0]!);
    await finish?.(result, sources[0]!);
    return 0;
  }
  let code = 0;
  // An error several sources share (their server's session could not be opened) is told once.
  const told = new Set<unknown>();
  const report = async (e: unknown) => {
    if (!(e instanceof BftpError) || io.signal.aborted) throw e;
    code = e.exitCode;
    if (told.has(e)) return;
    told.add(e);
    // A failed transfer's progress line ends before the message.
    await endProgressLinesOn(io.stderr);
    await writeLine(io.stderr, errorLine(e.message));
  };
  const window = Math.max(1, options.window ?? 1);
  const inFlight: Promise<{ result: R } | { failed: unknown }>[] = [];
  let next = 0;
  try {
    for (let done = 0; done < sources.length; done++) {
      while (next < sources.length && inFlight.length < window) {
        const source = sources[next++]!;
        // Through an async function: a `run` that throws at once fails like one that rejects.
        const moving = (async () => await run(source))();
        inFlight.push(moving.then((result) => ({ result }), (failed) => ({ failed })));
      }
      const outcome = await inFlight.shift()!;
      try {
        if ("failed" in outcome) throw outcome.failed;
        await finish?.(outcome.result, sources[done]!);
      } catch (e) {
        await report(e);
      }
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
  return code;
}

/**
 * Runs `run` for each URL over pooled sessions (one per server), with
 * {@linkcode eachSource}'s rules: one URL fails as usual; with several, a
 * failed one is reported and the rest go on; with a `window`, several are
 * in flight and `finish` takes their results in order. The sessions are
 * closed at the end.
 *
 * @param urls The `bftp://` URLs, in order.
 * @param io The console.
 * @param values The command's parsed flags (the connection flags among them).
 * @param run The work on one URL.
 * @param options The window, and what to do with each result in order.
 * @returns 0, or the exit code of the last URL that failed.
 *
 * @example
 * ```ts
 * import { forEachUrl } from "./sources.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const io = { signal: new AbortController().signal } as Parameters<typeof forEachUrl>[1];
 * await rejects(forEachUrl(["http://x/"], io, {}, () => Promise.resolve()), /Invalid URL/);
 * ```
 */
export async function forEachUrl<R = void>(
  urls: readonly string[],
  io: CliIo,
  values: ConnectionFlagValues,
  run: (client: BftpClient, url: BftpUrl) => Promise<R>,
  options: { window?: number; finish?: (result: R, url: BftpUrl) => Promise<void> } = {},
): Promise<number> {
  const sessions = new SessionPool(io, values);
  try {
    return await eachSource(
      urls,
      io,
      (urlText) =>
        sessions.run(urlText, async (client, url) => ({ result: await run(client, url), url })),
      {
        window: options.window ?? 1,
        finish: ({ result, url }) => options.finish?.(result, url) ?? Promise.resolve(),
      },
    );
  } finally {
    await sessions.close();
  }
}

/**
 * Notes that this command writes `target`; a second source for the same
 * target is refused rather than replace the first, as cp refuses ("will
 * not overwrite just-created").
 *
 * @param written The targets written so far by this command.
 * @param target Where this source goes.
 * @param source The source, as given (for the message).
 * @throws {UsageError} When `target` was written already.
 *
 * @example
 * ```ts
 * import { claimTarget } from "./sources.ts";
 * import { throws } from "node:assert/strict";
 *
 * const written = new Set<string>();
 * claimTarget(written, "/up/x", "a/x");
 * throws(() => claimTarget(written, "/up/x", "b/x"), /Will not overwrite "\/up\/x", just written/);
 * ```
 */
export function claimTarget(written: Set<string>, target: string, source: string): void {
  if (written.has(target)) {
    throw new UsageError(`Will not overwrite "${target}", just written, with "${source}"`);
  }
  written.add(target);
}
