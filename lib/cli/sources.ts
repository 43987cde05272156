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
import { DEFAULT_WINDOW } from "../client/window.ts";
import { BftpError } from "../errors.ts";
import { type CliIo, errorLine, writeLine } from "./io.ts";
import { endProgressLines } from "./progress.ts";
import { type ConnectionFlagValues, openSession, type Session } from "./session.ts";

/**
 * Open sessions by server: the first URL naming a server connects, later
 * ones reuse that session. Close it once, at the end.
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
   * @param io The console (abort signal, `BFTP_TOKEN`).
   * @param values The command's parsed flags (the connection flags among them).
   */
  constructor(io: CliIo, values: ConnectionFlagValues = {}) {
    this.#io = io;
    this.#values = values;
  }

  /**
   * The session for the server that a URL names, opened on first use
   * (and again after a failure broke it).
   *
   * @param target A `bftp://` or `bftps://` URL, as text or already parsed.
   * @returns The client and the parsed URL.
   */
  async open(target: string | BftpUrl): Promise<{ client: BftpClient; url: BftpUrl }> {
    const url = typeof target === "string" ? parseBftpUrl(target) : target;
    const key = `${url.secure}|${url.hostname.toLowerCase()}|${url.port}`;
    let session = this.#sessions.get(key);
    if (session !== undefined && !(await session.catch(() => null))?.client.usable) {
      this.#sessions.delete(key);
      await (await session.catch(() => null))?.close().catch(() => {});
      session = undefined;
    }
    if (session === undefined) {
      session = openSession(url, this.#io, this.#values);
      this.#sessions.set(key, session);
    }
    return { client: (await session).client, url };
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

/**
 * Runs `run` for each source. With one source an error ends the command as
 * usual; with several, a {@linkcode BftpError} is written to stderr as
 * `bftp: …` and the next source goes on (unless the user interrupted).
 * With a `window` over 1, that many sources move at once (their requests
 * pipelined on the sessions they share); their failures are still told in
 * the sources' order.
 *
 * @param sources The sources, in order.
 * @param io The console.
 * @param run Moves one source.
 * @param window How many sources move at once.
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
 * });
 * deepEqual([code, done, err], [10, ["a", "c"], 'bftp: Cannot open "b": not found\n']);
 * ```
 */
export async function eachSource<T>(
  sources: readonly T[],
  io: Pick<CliIo, "signal" | "stderr">,
  run: (source: T) => Promise<void>,
  window = 1,
): Promise<number> {
  if (sources.length === 1) {
    await run(sources[0]!);
    return 0;
  }
  let code = 0;
  const report = async (e: unknown) => {
    if (!(e instanceof BftpError) || io.signal.aborted) throw e;
    // A failed transfer's progress line ends before the message.
    const progressLine = endProgressLines();
    if (progressLine !== "") await writeLine(io.stderr, progressLine);
    await writeLine(io.stderr, errorLine(e.message));
    code = e.exitCode;
  };
  // Up to `window` sources at once (pipelined on their sessions); failures told in order.
  const inFlight: Promise<{ failed: unknown } | undefined>[] = [];
  let next = 0;
  try {
    while (next < sources.length || inFlight.length > 0) {
      while (next < sources.length && inFlight.length < Math.max(1, window)) {
        const source = sources[next++]!;
        // Through an async function: a `run` that throws at once fails like one that rejects.
        const moving = (async () => await run(source))();
        inFlight.push(moving.then(() => undefined, (failed) => ({ failed })));
      }
      const outcome = await inFlight.shift()!;
      if (outcome !== undefined) await report(outcome.failed);
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
  return code;
}

/**
 * Runs `run` for each URL over pooled sessions (one per server), with
 * {@linkcode eachSource}'s rules: one URL fails as usual; with several, a
 * failed one is reported and the rest go on. The sessions are closed at
 * the end.
 *
 * @param urls The `bftp://` URLs, in order.
 * @param io The console.
 * @param values The command's parsed flags (the connection flags among them).
 * @param run The work on one URL.
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
export async function forEachUrl(
  urls: readonly string[],
  io: CliIo,
  values: ConnectionFlagValues,
  run: (client: BftpClient, url: BftpUrl) => Promise<void>,
): Promise<number> {
  const sessions = new SessionPool(io, values);
  try {
    return await eachSource(urls, io, async (urlText) => {
      const { client, url } = await sessions.open(urlText);
      await run(client, url);
    });
  } finally {
    await sessions.close();
  }
}

/**
 * Like {@linkcode forEachUrl}, pipelined: `start` begins the work on each
 * URL without waiting for the ones before it (up to `window` in flight;
 * URLs of one server share its session, whose requests then travel
 * together), and `finish` takes each result in the order of the URLs, so
 * that output and error lines come out in that order.
 *
 * @param urls The `bftp://` URLs, in order.
 * @param io The console.
 * @param values The command's parsed flags (the connection flags among them).
 * @param start Starts the work on one URL (a request).
 * @param finish Uses its result, in order (prints it).
 * @param window The most URLs in flight.
 * @returns 0, or the exit code of the last URL that failed.
 *
 * @example
 * ```ts
 * import { forEachUrlInOrder } from "./sources.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const io = { signal: new AbortController().signal } as Parameters<typeof forEachUrlInOrder>[1];
 * const noop = () => Promise.resolve();
 * await rejects(forEachUrlInOrder(["http://x/"], io, {}, noop, noop), /Invalid URL/);
 * ```
 */
export async function forEachUrlInOrder<R>(
  urls: readonly string[],
  io: CliIo,
  values: ConnectionFlagValues,
  start: (client: BftpClient, url: BftpUrl) => Promise<R>,
  finish: (result: R, url: BftpUrl) => Promise<void>,
  window = DEFAULT_WINDOW,
): Promise<number> {
  const sessions = new SessionPool(io, values);
  const begin = async (urlText: string) => {
    const { client, url } = await sessions.open(urlText);
    return { result: await start(client, url), url };
  };
  const inFlight: Promise<{ result: R; url: BftpUrl }>[] = [];
  let started = 0;
  try {
    // eachSource takes the URLs in order; each turn starts those that fit in the window
    // ahead of it, then finishes the oldest, whose URL is this turn's.
    return await eachSource(urls, io, async () => {
      while (started < urls.length && inFlight.length < window) {
        const next = begin(urls[started++]!);
        next.catch(() => {}); // its failure is reported in its turn
        inFlight.push(next);
      }
      const { result, url } = await inFlight.shift()!;
      await finish(result, url);
    });
  } finally {
    await Promise.allSettled(inFlight);
    await sessions.close();
  }
}
