/**
 * What `bftp send` and `bftp recv` share: their command line (`[FILE|-]`
 * and either `--listen PORT [--host H]` or `HOST:PORT`, with TLS on
 * request), opening the one connection either way round, and the progress
 * line.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { formatHostPort, type HostPort, parseHostPort } from "../transport/address.ts";
import { acceptOne } from "../pipe/listen_once.ts";
import { connectWithRetry } from "../pipe/connect_retry.ts";
import { Progress } from "./progress.ts";
import { checkClientTlsFlags, clientTlsFromFlags } from "../transport/client_tls_flags.ts";
import { loadServerTls } from "../transport/tls_files.ts";
import type { TransportConn } from "../transport/types.ts";
import { limitRate } from "../transport/rate_limit.ts";
import { hostFlag, parseFlags, portFlag, secondsFlag } from "./args.ts";
import type { ChecksumName } from "../checksum.ts";
import {
  CHECKSUM_FLAG,
  checksumFlag,
  CLIENT_TLS_FLAGS,
  QUIET_FLAG,
  RATE_FLAG,
  RATE_HELP,
  rateFlag,
  SERVER_TLS_FLAGS,
  serverTlsFlags,
  TIMEOUT_FLAG,
} from "./common_flags.ts";
import { type CliIo, writeLine } from "./io.ts";

/**
 * Which way round the connection is made, and TLS: the listening end is the
 * TLS server; either end may hold the connection to a rate.
 */
export type PipeEnd =
  & {
    /** `--limit-rate`: the most bytes a second each way, or `undefined` for no limit. */
    limitRate?: number | undefined;
  }
  & (
    | {
      listen: true;
      hostname: string;
      port: number;
      timeout: number;
      /** TLS: the certificate and key files. */
      tls?: { cert: string; key: string } | undefined;
    }
    | {
      listen: false;
      address: HostPort;
      timeout: number;
      /** TLS: how to trust the listening end (a CA file, a pinned fingerprint, or neither). */
      tls?: { cacert?: string | undefined; fingerprint?: string | undefined } | undefined;
    }
  );

/** The help lines of the TLS flags, for `send` and `recv`. */
export const PIPE_TLS_HELP = `TLS (the listening end is the server, the connecting end the client):
  --tls-cert F        listening: speak TLS with this certificate (PEM);
                      prints "fingerprint sha256 AB:CD:..." on stderr for the
                      peer to pin
  --tls-key F         listening: the certificate's private key (PEM)
  --tls               connecting: speak TLS, trusting the usual root CAs
  --cacert F          connecting: speak TLS, trusting certificates signed by F
  --fingerprint HEX   connecting: speak TLS, trusting exactly the certificate
                      with this SHA-256 fingerprint (colons optional)
  A TLS end never falls back to plain TCP.`;

/** The options `send` and `recv` share, for their help texts. */
export const PIPE_OPTIONS_HELP = `Options:
  -l, --listen PORT   listen on PORT (0 picks a free one) for exactly one
                      connection; prints "listening on tcp://HOST:PORT"
                      on stderr
  --host H            the address to listen on (default 127.0.0.1; 0.0.0.0 or
                      :: to accept other machines)
  --timeout S         connecting: keep retrying a refused connection for S
                      seconds, so either end can start first (default 10;
                      0 tries once). Listening: wait at most S seconds for
                      the peer (default 0: as long as it takes)
  --checksum NAME     the body checksum: xxh3-128 (the default: as fast as the
                      wire) or sha256 (what bftp before pipe version 2 takes).
                      send uses it; recv takes only it (by default either)
${RATE_HELP}
  -q, --quiet         no progress line

${PIPE_TLS_HELP}`;

/** A parsed `send`/`recv` command line. */
export interface PipeArgs {
  /** The file, or `-` for stdin/stdout. */
  file: string;
  /** How to connect. */
  end: PipeEnd;
  /** `-q` was given. */
  quiet: boolean;
  /** `--checksum NAME`: the one checksum to send with or take; `undefined` for the defaults. */
  checksums: ChecksumName[] | undefined;
}

function looksLikeAddress(text: string): boolean {
  try {
    parseHostPort(text);
    return true;
  } catch (e) {
    if (e instanceof UsageError) return false;
    throw e;
  }
}

/** The seconds the connecting end keeps trying when `--timeout` is not given. */
export const DEFAULT_CONNECT_TIMEOUT = 10;

/**
 * Parses the arguments of `send` or `recv`.
 *
 * @param args The arguments after the subcommand name.
 * @returns File, end and flags.
 * @throws {UsageError} On a malformed command line.
 *
 * @example
 * ```ts
 * import { parsePipeArgs } from "./pipe_end.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parsePipeArgs(["127.0.0.1:9000"]).file, "-");
 * deepEqual(parsePipeArgs(["a.tar", "--listen", "0"]).end.listen, true);
 * ```
 */
export function parsePipeArgs(args: string[]): PipeArgs {
  const { values, positionals } = parseFlags(args, {
    listen: { type: "string", short: "l" },
    host: { type: "string" },
    ...TIMEOUT_FLAG,
    ...QUIET_FLAG,
    ...CHECKSUM_FLAG,
    ...RATE_FLAG,
    ...SERVER_TLS_FLAGS,
    ...CLIENT_TLS_FLAGS,
  });
  const limitRate = rateFlag(values["limit-rate"]);
  const quiet = values.quiet ?? false;
  const checksums = checksumFlag(values.checksum);
  const { cacert, fingerprint } = values;
  const serverTls = serverTlsFlags(values);
  const clientTls = checkClientTlsFlags(values);
  if (values.listen !== undefined) {
    if (clientTls) {
      throw new UsageError(
        "--tls, --cacert and --fingerprint are for the connecting end; listen with --tls-cert",
      );
    }
    if (positionals.length > 1) {
      throw new UsageError(
        `Too many arguments: "${positionals[1]}" (with --listen, give only FILE)`,
      );
    }
    return {
      file: positionals[0] ?? "-",
      end: {
        listen: true,
        hostname: hostFlag(values.host, "127.0.0.1"),
        port: portFlag(values.listen, "listen", 0),
        timeout: secondsFlag(values.timeout, "timeout", 0),
        tls: serverTls,
        limitRate,
      },
      quiet,
      checksums,
    };
  }
  if (serverTls !== undefined) {
    throw new UsageError("--tls-cert and --tls-key are for the listening end (--listen)");
  }
  if (values.host !== undefined) {
    throw new UsageError("--host goes with --listen; to connect, give HOST:PORT");
  }
  if (positionals.length === 0) throw new UsageError("Missing HOST:PORT or --listen PORT");
  if (positionals.length > 2) throw new UsageError(`Too many arguments: "${positionals[2]}"`);
  let [file, addressText] = positionals.length === 2
    ? positionals as [string, string]
    : ["-", positionals[0]!];
  // HOST:PORT FILE is accepted too, when only the first one is an address.
  if (!looksLikeAddress(addressText) && looksLikeAddress(file)) {
    [file, addressText] = [addressText, file];
  }
  return {
    file,
    end: {
      listen: false,
      address: parseHostPort(addressText),
      timeout: secondsFlag(values.timeout, "timeout", DEFAULT_CONNECT_TIMEOUT),
      tls: clientTls ? { cacert, fingerprint } : undefined,
      limitRate,
    },
    quiet,
    checksums,
  };
}

/**
 * Opens the pipe's one connection. The listening end prints
 * `listening on tcp://HOST:PORT` (`tls://` with TLS, after the
 * certificate's fingerprint) on stderr (stdout may carry the data).
 *
 * @param end Which way round, and the rate.
 * @param io The console: stderr, and the abort signal.
 * @returns The connection (TLS done, when asked), held to the rate when one is given.
 *
 * @example
 * ```ts
 * import { openPipeEnd } from "./pipe_end.ts";
 * import type { CliIo } from "./io.ts";
 * import { readExact } from "../framing/read_exact.ts";
 * import { equal } from "node:assert/strict";
 *
 * // The listening end prints "listening on tcp://127.0.0.1:PORT": the other end takes PORT.
 * const { promise: port, resolve } = Promise.withResolvers<number>();
 * const stderr = {
 *   write: (p: Uint8Array) => {
 *     resolve(Number(new TextDecoder().decode(p).trim().split(":").pop()));
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * const io = { stderr, signal: new AbortController().signal } as CliIo;
 * const listening = openPipeEnd({ listen: true, hostname: "127.0.0.1", port: 0, timeout: 0 }, io);
 * const address = { hostname: "127.0.0.1", port: await port };
 * const sender = await openPipeEnd({ listen: false, address, timeout: 5 }, io);
 * const receiver = await listening;
 * await sender.write(new TextEncoder().encode("hi"));
 * equal(new TextDecoder().decode(await readExact(receiver, 2)), "hi");
 * sender.close();
 * receiver.close();
 * ```
 */
export async function openPipeEnd(end: PipeEnd, io: CliIo): Promise<TransportConn> {
  const conn = await openConnection(end, io);
  return end.limitRate === undefined ? conn : limitRate(conn, end.limitRate);
}

/** {@linkcode openPipeEnd}'s connection, before any rate. */
async function openConnection(end: PipeEnd, io: CliIo): Promise<TransportConn> {
  if (end.listen) {
    const tls = end.tls === undefined ? undefined : await loadServerTls(end.tls.cert, end.tls.key);
    return await acceptOne({
      hostname: end.hostname,
      port: end.port,
      timeout: end.timeout,
      signal: io.signal,
      tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
      onListening: async (addr) => {
        if (tls !== undefined) await writeLine(io.stderr, `fingerprint sha256 ${tls.fingerprint}`);
        await writeLine(
          io.stderr,
          `listening on ${tls === undefined ? "tcp" : "tls"}://${
            formatHostPort(addr.hostname, addr.port)
          }`,
        );
      },
    });
  }
  const tls = end.tls === undefined
    ? undefined
    : await clientTlsFromFlags({ ...end.tls, tls: true });
  return await connectWithRetry({
    hostname: end.address.hostname,
    port: end.address.port,
    timeout: end.timeout,
    signal: io.signal,
    tls,
  });
}

/**
 * A progress callback for one pipe transfer: a line on stderr when it is a
 * terminal and `-q` is off.
 *
 * @param io The console.
 * @param quiet `-q` was given.
 * @param label What moves.
 * @param size The total, or `null` when unknown.
 * @returns The per-chunk callback and a `done` to end the line.
 *
 * @example
 * ```ts
 * import { pipeProgress } from "./pipe_end.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const io = { stderrIsTerminal: false } as Parameters<typeof pipeProgress>[0];
 * deepEqual(pipeProgress(io, false, "stdin", null).onProgress, undefined);
 * ```
 */
export function pipeProgress(
  io: CliIo,
  quiet: boolean,
  label: string,
  size: number | null,
): { onProgress: ((n: number) => void) | undefined; done: () => void } {
  if (quiet || !io.stderrIsTerminal) return { onProgress: undefined, done: () => {} };
  const progress = new Progress({ label, total: size, out: io.stderr, columns: io.stderrColumns });
  return { onProgress: (n) => progress.add(n), done: () => progress.done() };
}
