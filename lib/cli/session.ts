/**
 * What the client subcommands share: the connection flags (TLS trust and
 * the access token), opening a session from a URL (closed when the user
 * presses Ctrl-C), and progress lines that appear only on a terminal and
 * not with `-q`.
 *
 * @module
 */

import { type BftpClient, DEFAULT_STALL_TIMEOUT } from "../client/client.ts";
import type { ClientOptions, TransferOptions } from "../client/client.ts";
import { connectHeads, headList, HEADS_ENV } from "../client/heads.ts";
import { type BftpUrl, parseBftpUrl, parseHostList } from "../client/url.ts";
import { type BftpError, UsageError } from "../errors.ts";
import { formatHostPort, type HostPort } from "../transport/address.ts";
import { Progress } from "./progress.ts";
import { clientTlsFromFlags } from "../transport/client_tls_flags.ts";
import { type FlagValues, secondsFlag } from "./args.ts";
import {
  CHECKSUM_FLAG,
  checksumFlag,
  RATE_FLAG,
  RATE_HELP,
  rateFlag,
  TIMEOUT_FLAG,
  TLS_TRUST_FLAGS,
} from "./common_flags.ts";
import { visible } from "./format.ts";
import { type CliIo, errorLine, writeLine } from "./io.ts";
import { verboseObserver } from "./verbose.ts";

/** The flags of every command that talks to a BFTP server: TLS trust, the token, the checksum. */
export const CONNECTION_FLAGS = Object.freeze(
  {
    ...TLS_TRUST_FLAGS,
    token: { type: "string" },
    ...TIMEOUT_FLAG,
    verbose: { type: "boolean", short: "v" },
    ...CHECKSUM_FLAG,
    head: { type: "string", multiple: true },
    ...RATE_FLAG,
  } as const,
);

/** The values of {@linkcode CONNECTION_FLAGS}, as a command's parsed flags hold them. */
export type ConnectionFlagValues = Partial<FlagValues<typeof CONNECTION_FLAGS>>;

/** `--head`'s lines of the connection options' help. */
const HEAD_HELP = `  --head HOST[:PORT]  another server of the same volume, tried in turn when the
                      ones before it are down (repeatable; the URL may list them
                      too: bftp://h1:9000,h2:9001/PATH;
                      BFTP_HEADS=h1:9000,h2:9001 adds its heads to a URL naming
                      one of them)
`;

/** The help lines for {@linkcode CONNECTION_FLAGS}. */
export const CONNECTION_HELP: string = connectionHelp();

/**
 * The connection options' help, as {@linkcode CONNECTION_HELP} gives it,
 * with or without `--head` (a command that talks to exactly one server
 * leaves it out).
 *
 * @param options Whether `--head` is listed.
 * @returns The help text's section.
 *
 * @example
 * ```ts
 * import { connectionHelp } from "./session.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(connectionHelp().includes("--head"));
 * ok(!connectionHelp({ heads: false }).includes("--head"));
 * ```
 */
export function connectionHelp(options: { heads?: boolean } = {}): string {
  return `Connection options:
  --cacert FILE       bftps://: trust a server certificate signed by FILE
                      (PEM: a CA, or the server's own self-signed certificate)
  --fingerprint HEX   bftps://: trust exactly the certificate with this SHA-256
                      fingerprint, as "bftp serve" prints it (colons optional)
  --token T           the access token, if the server requires one; better: set
                      BFTP_TOKEN, which keeps it out of the process list
  --timeout S         give up when a request moves no byte for S seconds
                      (a stalled server; default 300, 0 waits for ever)
  -v, --verbose       each BFTP message sent (>) and received (<), one line each
                      on stderr (the token shown as ***)
  --checksum NAME     check file bodies with only this checksum: xxh3-128 (the
                      default, fast) or sha256 (see docs/SECURITY.md)
${options.heads === false ? "" : HEAD_HELP}${RATE_HELP}
  A bftps:// URL without --cacert or --fingerprint trusts the usual root CAs.`;
}

/**
 * Reads the connection flags (and `BFTP_TOKEN`) into client options.
 *
 * @param url The server's URL: `--cacert` and `--fingerprint` need `bftps://`.
 * @param values The parsed flags, with {@linkcode CONNECTION_FLAGS} among them.
 * @param io The environment.
 * @returns The TLS trust and the token.
 * @throws {UsageError} On a TLS flag with a `bftp://` URL, or a malformed fingerprint.
 *
 * @example
 * ```ts
 * import { connectionOptions } from "./session.ts";
 * import { parseBftpUrl } from "../client/url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const io = { env: (n: string) => n === "BFTP_TOKEN" ? "t0k" : undefined } as Parameters<typeof connectionOptions>[2];
 * const opts = await connectionOptions(parseBftpUrl("bftps://h/"), { fingerprint: "ab".repeat(32) }, io);
 * deepEqual(opts.token, "t0k");
 * deepEqual(opts.tls?.fingerprint?.slice(0, 5), "AB:AB");
 * ```
 */
export async function connectionOptions(
  url: BftpUrl,
  values: ConnectionFlagValues,
  io: Pick<CliIo, "env" | "stderr">,
): Promise<
  Pick<ClientOptions, "tls" | "token" | "stallTimeout" | "onMessage" | "checksums" | "limitRate">
> {
  const { cacert, fingerprint } = values;
  if ((cacert !== undefined || fingerprint !== undefined) && !url.secure) {
    throw new UsageError("--cacert and --fingerprint are for bftps:// URLs");
  }
  if (values.token === "") {
    // Else it would hide BFTP_TOKEN, and the server's refusal would say to set it.
    throw new UsageError("--token needs a token (without it, BFTP_TOKEN is used)");
  }
  const token = values.token ?? io.env("BFTP_TOKEN");
  return {
    tls: url.secure ? await clientTlsFromFlags({ cacert, fingerprint, tls: true }) : undefined,
    token: token === "" ? undefined : token,
    stallTimeout: secondsFlag(values.timeout, "timeout", DEFAULT_STALL_TIMEOUT),
    ...clientShaping(values, io),
  };
}

/**
 * What `-v`, `--checksum` and `--limit-rate` make of a client, whichever
 * server it talks to (`bftp check`'s embedded one too).
 *
 * @param values The parsed flags.
 * @param io Where `-v` writes.
 * @returns The client options they set.
 *
 * @example
 * ```ts
 * import { clientShaping } from "./session.ts";
 * import { equal } from "node:assert/strict";
 *
 * const io = { stderr: { write: (p: Uint8Array) => Promise.resolve(p.byteLength) } };
 * const shaped = clientShaping({ checksum: "sha256", "limit-rate": "1M" }, io);
 * equal(shaped.limitRate, 1024 * 1024);
 * equal(shaped.onMessage, undefined);
 * equal(shaped.checksums?.[0], "sha256");
 * ```
 */
export function clientShaping(
  values: Pick<ConnectionFlagValues, "verbose" | "checksum" | "limit-rate">,
  io: Pick<CliIo, "stderr">,
): Pick<ClientOptions, "onMessage" | "checksums" | "limitRate"> {
  return {
    onMessage: values.verbose ? verboseObserver(io.stderr) : undefined,
    checksums: checksumFlag(values.checksum),
    limitRate: rateFlag(values["limit-rate"]),
  };
}

/**
 * The heads to try for a URL, in order (see `client/heads.ts`): the URL's
 * own, then each `--head`, then, when the URL names one of them, those of
 * `BFTP_HEADS`.
 *
 * @param url The parsed URL.
 * @param values The parsed flags, `--head` among them.
 * @param io The environment (`BFTP_HEADS`).
 * @returns The heads, the URL's first head first.
 * @throws {UsageError} On a `--head` or `BFTP_HEADS` that is not a list of `HOST[:PORT]`.
 *
 * @example
 * ```ts
 * import { headsFor } from "./session.ts";
 * import { parseBftpUrl } from "../client/url.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const io = { env: (n: string) => n === "BFTP_HEADS" ? "a:1,b:2" : undefined };
 * const heads = headsFor(parseBftpUrl("bftp://b:2/x"), { head: ["c:3"] }, io);
 * deepEqual(heads.map((h) => `${h.hostname}:${h.port}`), ["b:2", "c:3", "a:1"]);
 * throws(() => headsFor(parseBftpUrl("bftp://b:2/x"), { head: ["c:x"] }, io), /--head/);
 * ```
 */
export function headsFor(
  url: BftpUrl,
  values: ConnectionFlagValues,
  io: Pick<CliIo, "env">,
): HostPort[] {
  const parse = (text: string, what: string) => {
    try {
      return parseHostList(text);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      throw new UsageError(`Invalid ${what}: ${e.message}`);
    }
  };
  const extra = (values.head ?? []).flatMap((h) => parse(h, `value "${h}" for --head`));
  const env = io.env(HEADS_ENV);
  const group = env === undefined || env === "" ? [] : parse(env, HEADS_ENV);
  return headList(url, { extra, group });
}

/**
 * What `-v` says of a head that is down, in one line on stderr, as curl's
 * `*` lines say what it tries.
 *
 * @param io The console.
 * @returns The `onHeadDown` callback of `connectHeads`.
 *
 * @example
 * ```ts
 * import { headDownNotice } from "./session.ts";
 * import { ConnectionError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let err = "";
 * const io = { stderr: { write: (p: Uint8Array) => (err += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) } };
 * headDownNotice(io)({ hostname: "::1", port: 9 }, new ConnectionError("Cannot connect to \"[::1]:9\": connection refused"), { hostname: "h", port: 1 });
 * deepEqual(err, '* Head "[::1]:9" is down: Cannot connect to "[::1]:9": connection refused; trying "h:1"\n');
 * ```
 */
export function headDownNotice(
  io: Pick<CliIo, "stderr">,
): (head: HostPort, error: Error, next: HostPort | undefined) => void {
  return (head, error, next) => {
    const then = next === undefined
      ? "no head left"
      : `trying "${formatHostPort(next.hostname, next.port)}"`;
    const where = formatHostPort(head.hostname, head.port);
    void writeLine(io.stderr, `* Head "${where}" is down: ${visible(error.message)}; ${then}`);
  };
}

/** An open session and the URL it came from. */
export interface Session {
  /** The connected client. */
  client: BftpClient;
  /** The parsed URL. */
  url: BftpUrl;
  /** The heads the session could be on, in order. */
  heads: HostPort[];
  /** The index in `heads` of the head it is on. */
  index: number;
  /** Quits the session and stops watching for Ctrl-C. */
  close(): Promise<void>;
}

/** Options for {@linkcode openSession}. */
export interface OpenSessionOptions {
  /**
   * The index of the head to try first (after a session on the one before
   * it broke); the others follow, coming round.
   *
   * @default {0}
   */
  start?: number | undefined;
}

/**
 * Connects to the server a URL names: its first head that is up (see
 * {@linkcode headsFor}). Ctrl-C closes the connection, so a transfer in
 * flight fails and cleans up after itself.
 *
 * @param target The `bftp://` or `bftps://` URL, as text or already parsed.
 * @param io The console (its abort signal, `BFTP_TOKEN` and `BFTP_HEADS`).
 * @param values The command's parsed flags, for {@linkcode CONNECTION_FLAGS}.
 * @param options Which head to try first.
 * @returns The session.
 *
 * @example
 * ```ts
 * import { openSession } from "./session.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const io = { signal: new AbortController().signal } as Parameters<typeof openSession>[1];
 * await rejects(openSession("http://x/", io), /Invalid URL/);
 * ```
 */
export async function openSession(
  target: string | BftpUrl,
  io: CliIo,
  values: ConnectionFlagValues = {},
  options: OpenSessionOptions = {},
): Promise<Session> {
  const url = typeof target === "string" ? parseBftpUrl(target) : target;
  const heads = headsFor(url, values, io);
  const { client, index } = await connectHeads(heads, {
    ...(await connectionOptions(url, values, io)),
    start: options.start,
    onHeadDown: values.verbose ? headDownNotice(io) : undefined,
  });
  const onAbort = () => client.close();
  io.signal.addEventListener("abort", onAbort);
  return {
    client,
    url,
    heads,
    index,
    close: async () => {
      io.signal.removeEventListener("abort", onAbort);
      await client.quit();
    },
  };
}

/**
 * Makes per-file progress callbacks: a progress line on stderr when it is a
 * terminal and `quiet` is off; nothing otherwise.
 *
 * @param io The console.
 * @param quiet `-q` was given.
 * @returns A factory for {@linkcode TransferOptions}, or `undefined`.
 *
 * @example
 * ```ts
 * import { progressFor } from "./session.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const io = { stderrIsTerminal: false } as Parameters<typeof progressFor>[0];
 * deepEqual(progressFor(io, false), undefined);
 * ```
 */
export function progressFor(
  io: CliIo,
  quiet: boolean,
): ((label: string, size: number | null, offset?: number) => TransferOptions) | undefined {
  if (quiet || !io.stderrIsTerminal) return undefined;
  return (label, size, offset = 0) => {
    const progress = new Progress({
      label,
      total: size,
      out: io.stderr,
      offset,
      columns: io.stderrColumns,
    });
    let moved = offset;
    return {
      onProgress: (n) => {
        moved += n;
        progress.add(n);
        if (size !== null && moved >= size) progress.done();
      },
      onStart: (s) => {
        // Fewer bytes to move than were left: a resumed upload, whose offset the server chose.
        if (size !== null && s !== null && size - s > moved) {
          moved = size - s;
          progress.resumeAt(moved);
        }
        if (s === 0) progress.done();
      },
      onEnd: () => progress.done(),
    };
  };
}

/**
 * Reports an entry that a tree transfer (`-r`) leaves out, as one
 * `bftp: Skipping …` line on stderr (rsync's "skipping non-regular file");
 * the transfer goes on and still succeeds.
 *
 * @param io The console.
 * @returns The `onSkip` callback for the tree transfer.
 *
 * @example
 * ```ts
 * import { skipNotice } from "./session.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let err = "";
 * const io = { stderr: { write: (p: Uint8Array) => (err += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) } };
 * skipNotice(io)("dir/fifo", "not a regular file");
 * deepEqual(err, 'bftp: Skipping "dir/fifo": not a regular file\n');
 * ```
 */
export function skipNotice(io: Pick<CliIo, "stderr">): (path: string, why: string) => void {
  return (path, why) => void writeLine(io.stderr, errorLine(`Skipping "${path}": ${why}`));
}

/**
 * Reports a file of a tree transfer (`-r`) that failed, as one `bftp: …`
 * line on stderr, while the others go on (as rsync and `scp -r` report
 * each); the tree then fails as a whole (`withTreeProgress`, which counts
 * them all). A message told already is not told again: one that names a
 * folder (`Folder "/t/d" not found`, removed meanwhile) would else come
 * once for each file in it.
 *
 * @param io The console.
 * @returns The `onFailure` callback for the tree transfer.
 *
 * @example
 * ```ts
 * import { failureNotice } from "./session.ts";
 * import { RemoteError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let err = "";
 * const io = { stderr: { write: (p: Uint8Array) => (err += new TextDecoder().decode(p), Promise.resolve(p.byteLength)) } };
 * const notice = failureNotice(io);
 * notice("a/b.txt", new RemoteError("DENIED", 'Cannot write "/t/a/b.txt": denied'));
 * notice("d/x", new RemoteError("NOT_FOUND", 'Folder "/t/d" not found'));
 * notice("d/y", new RemoteError("NOT_FOUND", 'Folder "/t/d" not found'));
 * deepEqual(err, 'bftp: Cannot write "/t/a/b.txt": denied\nbftp: Folder "/t/d" not found\n');
 * ```
 */
export function failureNotice(
  io: Pick<CliIo, "stderr">,
): (path: string, error: BftpError) => void {
  const tell = onceEach((message) => void writeLine(io.stderr, errorLine(message)));
  return (_path, error) => tell(error.message);
}

/**
 * `tell`, for each message only the first time it comes: failures of a
 * tree are told so (see {@linkcode failureNotice}).
 *
 * @param tell What tells a message.
 * @returns The same, once for each message.
 *
 * @example
 * ```ts
 * import { onceEach } from "./session.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const told: string[] = [];
 * const tell = onceEach((m) => told.push(m));
 * for (const m of ["a", "b", "a"]) tell(m);
 * deepEqual(told, ["a", "b"]);
 * ```
 */
export function onceEach(tell: (message: string) => void): (message: string) => void {
  const told = new Set<string>();
  return (message) => {
    if (told.has(message)) return;
    told.add(message);
    tell(message);
  };
}
