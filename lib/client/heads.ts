/**
 * Several heads for one volume: bftp servers on several machines serving
 * the same files (docs/SCALING.md). A client is given them in the URL
 * (`bftp://h1:9000,h2:9001/PATH`), with `--head HOST[:PORT]`, or in
 * `BFTP_HEADS`; this is the one place that turns those into an ordered list
 * ({@linkcode headList}) and the one place that connects with failover
 * ({@linkcode connectHeads}): the heads are tried in the order given (no
 * shuffling, as curl tries a name's addresses), and a head that is down
 * (refused, unreachable, timed out, or the connection lost, also in the TLS
 * handshake, or the server busy before the session opened) gives way to the
 * next. Whatever else fails (TLS trust, the token, a protocol error) would
 * fail on every head alike, and is reported at once.
 *
 * @module
 */

import { BftpError, ConnectionError, RemoteError, TimeoutError, TlsError } from "../errors.ts";
import { formatHostPort, type HostPort } from "../transport/address.ts";
import { BftpClient, type ClientOptions } from "./client.ts";
import { type BftpUrl, sameHead } from "./url.ts";

/** The environment variable that lists one volume's heads: `h1:9000,h2:9001`. */
export const HEADS_ENV = "BFTP_HEADS";

/** Options for {@linkcode headList}. */
export interface HeadListOptions {
  /**
   * Heads given with `--head`: more heads for every URL of the command,
   * after the URL's own.
   *
   * @default {[]}
   */
  extra?: readonly HostPort[];
  /**
   * The heads of `BFTP_HEADS`: one volume's heads. A URL that names one of
   * them may use the others too, after its own and `extra`; a URL naming
   * none of them is left alone (the variable cannot send a command to
   * another server's volume).
   *
   * @default {[]}
   */
  group?: readonly HostPort[];
}

/**
 * The heads to try for a URL, in order: the URL's own, then `extra`, then,
 * when the URL names one of `group`'s heads, the rest of `group`; each head
 * once.
 *
 * @param url The parsed URL.
 * @param options `--head` and `BFTP_HEADS`.
 * @returns The heads, the URL's first head first.
 *
 * @example
 * ```ts
 * import { headList } from "./heads.ts";
 * import { parseBftpUrl, parseHostList } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const group = parseHostList("a:1,b:2");
 * deepEqual(headList(parseBftpUrl("bftp://b:2/x"), { group }).map((h) => h.hostname), ["b", "a"]);
 * deepEqual(headList(parseBftpUrl("bftp://c:3/x"), { group }).map((h) => h.hostname), ["c"]);
 * deepEqual(
 *   headList(parseBftpUrl("bftp://c:3/x"), { extra: parseHostList("d:4") }).map((h) => h.hostname),
 *   ["c", "d"],
 * );
 * ```
 */
export function headList(url: Pick<BftpUrl, "heads">, options: HeadListOptions = {}): HostPort[] {
  const heads = [...url.heads];
  const add = (more: readonly HostPort[]) => {
    for (const h of more) if (!heads.some((known) => sameHead(known, h))) heads.push(h);
  };
  add(options.extra ?? []);
  const group = options.group ?? [];
  if (group.some((g) => url.heads.some((h) => sameHead(g, h)))) add(group);
  return heads;
}

/**
 * Whether an error met while opening a session means the head is down, so
 * that the next one is tried: the connection refused, unreachable, timed
 * out or lost before the session opened (the TLS handshake too), or the
 * server busy (at its connection limit).
 *
 * @param e What opening the session threw.
 * @returns `true` for a head that is down.
 *
 * @example
 * ```ts
 * import { isHeadDown } from "./heads.ts";
 * import { ConnectionError, RemoteError, TlsError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(isHeadDown(new ConnectionError("Connection refused")), true);
 * deepEqual(isHeadDown(new RemoteError("BUSY", "Too many connections")), true);
 * deepEqual(isHeadDown(new RemoteError("DENIED", "Wrong token")), false);
 * deepEqual(isHeadDown(new TlsError("Cannot verify the certificate")), false);
 * const eof = new Deno.errors.UnexpectedEof("unexpected end of file");
 * deepEqual(isHeadDown(new TlsError("TLS handshake failed", { cause: eof })), true);
 * ```
 */
export function isHeadDown(e: unknown): e is BftpError {
  return e instanceof ConnectionError || e instanceof TimeoutError ||
    (e instanceof RemoteError && e.code === "BUSY") ||
    (e instanceof TlsError && hungUpInHandshake(e.cause));
}

/**
 * Whether a failed TLS handshake is a connection the server closed or reset
 * (a head going down, or one that is not TLS): unlike a certificate that is
 * not trusted, another head may well answer. Trust is still checked there.
 */
function hungUpInHandshake(cause: unknown): boolean {
  if (cause instanceof Deno.errors.UnexpectedEof || cause instanceof Deno.errors.ConnectionReset) {
    return true;
  }
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === "ECONNRESET" || code === "EPIPE" ||
    (cause instanceof Error && cause.message === "connection closed during the handshake");
}

/** Options for {@linkcode connectHeads}: a session's options, without the address. */
export interface ConnectHeadsOptions extends Omit<ClientOptions, "hostname" | "port"> {
  /**
   * The index of the head tried first; the others follow in order, coming
   * round to the first.
   *
   * @default {0}
   */
  start?: number | undefined;
  /**
   * Called when a head is down, with the head tried next (none when it was
   * the last): `-v` says so in one line.
   */
  onHeadDown?: ((head: HostPort, error: BftpError, next: HostPort | undefined) => void) | undefined;
}

/** A session opened on one of several heads. */
export interface HeadConnection {
  /** The open session. */
  client: BftpClient;
  /** The head it is on. */
  head: HostPort;
  /** The head's index in the list. */
  index: number;
}

/** What a head's error says, without the "Cannot connect to "HOST:PORT": " that names it. */
function reasonOf(e: BftpError): string {
  const reason = e.message.replace(/^Cannot connect to "[^"]*": /, "");
  return /^[A-Z][a-z]/.test(reason) ? reason[0]!.toLowerCase() + reason.slice(1) : reason;
}

/**
 * The error when every head is down: with one head, its own error; with
 * several, one line naming each head and why, with the last one's exit code.
 */
function allDown(failures: { head: HostPort; error: BftpError }[]): BftpError {
  if (failures.length === 1) return failures[0]!.error;
  const each = failures.map(({ head, error }) =>
    `"${formatHostPort(head.hostname, head.port)}": ${reasonOf(error)}`
  );
  const last = failures.at(-1)!.error;
  return new BftpError(
    last.code,
    `Cannot connect to any of the ${failures.length} heads: ${each.join("; ")}`,
    { cause: last },
  );
}

/**
 * Opens a session on the first head that is up, trying them in order from
 * `start`, each once.
 *
 * @param heads The heads, in order (at least one).
 * @param options The session's options, where to start, what to say of a head that is down.
 * @returns The session and its head.
 * @throws {BftpError} When every head is down: one line naming each, with
 * the last one's exit code (4 for a lost connection); any other error at once.
 *
 * @example
 * ```ts
 * import { connectHeads } from "./heads.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closed.close();
 * const down: string[] = [];
 * const { client, index } = await connectHeads([
 *   { hostname: "127.0.0.1", port: closed.addr.port },
 *   { hostname: "127.0.0.1", port: server.addr.port },
 * ], { onHeadDown: (_head, e) => down.push(e.message) });
 * try {
 *   deepEqual(index, 1);
 *   deepEqual(down.length, 1);
 * } finally {
 *   await client.quit();
 *   await server.close();
 *   await Deno.remove(dir);
 * }
 * ```
 */
export async function connectHeads(
  heads: readonly HostPort[],
  options: ConnectHeadsOptions = {},
): Promise<HeadConnection> {
  if (heads.length === 0) throw new TypeError("No head to connect to");
  const { start = 0, onHeadDown, ...session } = options;
  const failures: { head: HostPort; error: BftpError }[] = [];
  for (let i = 0; i < heads.length; i++) {
    const index = (start + i) % heads.length;
    const head = heads[index]!;
    try {
      const client = await BftpClient.connect({ ...session, ...head });
      return { client, head, index };
    } catch (e) {
      if (!isHeadDown(e)) throw e;
      failures.push({ head, error: e });
      onHeadDown?.(head, e, i + 1 < heads.length ? heads[(index + 1) % heads.length] : undefined);
    }
  }
  throw allDown(failures);
}
