/**
 * `bftp serve`: serves a folder over BFTP (or BFTP over TLS) until SIGINT
 * or SIGTERM.
 *
 * @module
 */

import { ServedRoot } from "../root/served_root.ts";
import { RESUME_EXPIRY_HOURS } from "../root/paths.ts";
import { startServer } from "../server/server.ts";
import { formatHostPort, reachableAddresses } from "../transport/address.ts";
import { loadServerTls } from "../transport/tls_files.ts";
import { TokenSet } from "../server/auth.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PER_CLIENT,
} from "../server/limits.ts";
import { type FlagValues, hostFlag, intFlag, parseFlags, portFlag, secondsFlag } from "./args.ts";
import {
  CHECKSUM_FLAG,
  checksumFlag,
  LISTEN_FLAGS,
  QUIET_FLAG,
  SERVER_TLS_FLAGS,
  serverTlsFlags,
} from "./common_flags.ts";
import type { Command } from "./command.ts";
import { type CliIo, writeLine } from "./io.ts";
import { ConnectionError, localIoError, UsageError } from "../errors.ts";
import { startServerPool } from "../server/pool.ts";

const FLAGS = {
  ...LISTEN_FLAGS,
  "read-only": { type: "boolean" },
  ...SERVER_TLS_FLAGS,
  token: { type: "string" },
  "token-file": { type: "string" },
  "max-connections": { type: "string" },
  "max-per-client": { type: "string" },
  "handshake-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  "no-fsync": { type: "boolean" },
  shared: { type: "boolean" },
  workers: { type: "string" },
  ...CHECKSUM_FLAG,
  ...QUIET_FLAG,
} as const;

type ServeFlags = FlagValues<typeof FLAGS>;

/** This machine's interfaces, or none where the `sys` permission is not granted. */
function networkInterfaces(): Deno.NetworkInterfaceInfo[] {
  try {
    return Deno.networkInterfaces();
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) return [];
    throw e;
  }
}

/**
 * The most workers `--workers` takes: each is a JavaScript heap of about
 * 16 MB (50 took 800 MB here), and more threads than a large machine's
 * cores only share them.
 */
const MAX_WORKERS = 256;

const HELP = `Usage: bftp serve [ROOT] [options]

Serves the folder ROOT (default: the current folder) over BFTP. Prints
"listening on bftp://HOST:PORT" (bftps:// with TLS) on stdout once ready, then
one log line per request on stderr. Stops cleanly on Ctrl-C (SIGINT), SIGTERM
or SIGHUP. ROOT is held open from the start: if it is removed (or another
folder takes its name), clients are told "the served folder was removed" until
the server is restarted.

Options:
  --host H                address to listen on (default 127.0.0.1; 0.0.0.0 or
                          :: for all, and then the log names the URLs other
                          machines can use: "reachable as bftp://10.0.0.7:2121")
  --port P                port (default 2121; 0 picks a free one)
  --read-only             refuse every change: PUT, MPUT, DELETE, MKDIR, RMDIR,
                          RENAME and SETSTAT
  --tls-cert FILE         serve BFTP over TLS (bftps://) with this certificate
                          chain (PEM); prints "fingerprint sha256 AB:CD:..." on
                          stderr for clients to pin
  --tls-key FILE          the certificate's private key (PEM)
  --token T               require this access token (read-write); BFTP_TOKEN
                          does the same and keeps the token out of the process
                          list; an empty one is refused
  --token-file F          require one of the tokens in F: lines "rw TOKEN" or
                          "ro TOKEN" (read-only); "#" starts a comment; a file
                          without a token is refused
  --max-connections N     sessions at once; more get a BUSY answer
                          (default ${DEFAULT_MAX_CONNECTIONS})
  --max-per-client N      sessions at once from one address, 0 no limit
                          (default ${DEFAULT_MAX_PER_CLIENT})
  --handshake-timeout S   drop a connection that has not finished TLS, hello and
                          token within S seconds, 0 never (default ${DEFAULT_HANDSHAKE_TIMEOUT})
  --idle-timeout S        drop a client silent for S seconds, 0 never
                          (default ${DEFAULT_IDLE_TIMEOUT})
  --workers N             serve with N Web Workers sharing the port, one per
                          core (default 1, at most ${MAX_WORKERS})
  --no-fsync              do not flush uploads to disk before renaming them
                          into place
  --shared                ROOT is on a volume other machines write to (other
                          bftp heads): remember no file hashes; found alone for
                          NFS, CephFS, SMB and FUSE (GlusterFS) mounts
                          (docs/SCALING.md)
  --checksum sha256       check file bodies with SHA-256 only (the default also
                          takes the faster xxh3-128); a client offering only
                          xxh3-128 is refused
  -q, --quiet             no per-request log lines

Interrupted "bftp put --resume" uploads are kept for ${RESUME_EXPIRY_HOURS} hours after their
last byte. See docs/SECURITY.md for every limit and its default.

Examples:
  bftp serve ./public --port 2121
  BFTP_TOKEN=s3cret bftp serve ./public --tls-cert cert.pem --tls-key key.pem`;

/**
 * The tokens the command line and the environment give, if any. An empty
 * `--token`, `--token-file` or `BFTP_TOKEN` is refused: it is what
 * `--token "$TOKEN"` gives when the variable is unset, and serving without
 * a token check is then surely not what was meant.
 */
async function readTokens(values: ServeFlags, io: CliIo): Promise<TokenSet | undefined> {
  const flag = values.token;
  if (flag === "") {
    throw new UsageError('Invalid value "" for --token: the token must not be empty');
  }
  const env = io.env("BFTP_TOKEN");
  if (flag === undefined && env === "") {
    throw new UsageError("BFTP_TOKEN is set but empty: give a token or unset it");
  }
  const token = flag ?? env;
  const file = values["token-file"];
  if (file === "") {
    throw new UsageError('Invalid value "" for --token-file: the file name must not be empty');
  }
  let tokens: TokenSet | undefined;
  if (file !== undefined) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      throw localIoError("read the token file", file, e);
    }
    tokens = TokenSet.parse(text, file);
  }
  if (token !== undefined) {
    tokens ??= new TokenSet();
    tokens.add(token, "rw");
  }
  return tokens;
}

/** The listener's address and limits, and the number of workers, from the flags. */
function listenerSettings(values: ServeFlags) {
  const workers = intFlag(values.workers, "workers", 1);
  if (workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(
      `Invalid value "${workers}" for --workers: from 1 to ${MAX_WORKERS} (each takes about 16 MB)`,
    );
  }
  const maxConnections = intFlag(
    values["max-connections"],
    "max-connections",
    DEFAULT_MAX_CONNECTIONS,
  );
  if (maxConnections < 1) {
    // 0 would refuse every client (unlike --max-per-client 0, "no limit per address").
    throw new UsageError(`Invalid value "${maxConnections}" for --max-connections: at least 1`);
  }
  return {
    workers,
    maxConnections,
    maxPerClient: intFlag(values["max-per-client"], "max-per-client", DEFAULT_MAX_PER_CLIENT),
    handshakeTimeout: secondsFlag(
      values["handshake-timeout"],
      "handshake-timeout",
      DEFAULT_HANDSHAKE_TIMEOUT,
    ),
    idleTimeout: secondsFlag(values["idle-timeout"], "idle-timeout", DEFAULT_IDLE_TIMEOUT),
    hostname: hostFlag(values.host, "127.0.0.1"),
    port: portFlag(values.port, "port", 2121),
  };
}

/** The `serve` subcommand. */
export const serveCommand: Command = {
  name: "serve",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, FLAGS);
    if (positionals.length > 1) throw new UsageError(`Too many arguments: "${positionals[1]}"`);
    const tlsFiles = serverTlsFlags(values);
    const { workers, ...listener } = listenerSettings(values);
    const { hostname, port } = listener;
    const tls = tlsFiles && await loadServerTls(tlsFiles.cert, tlsFiles.key);
    const tokens = await readTokens(values, io);
    const fsync = !values["no-fsync"];
    const root = await ServedRoot.open(positionals[0] ?? ".", {
      readOnly: values["read-only"] ?? false,
      fsync,
      // Not given: found from the mount table.
      shared: values.shared || undefined,
    });
    const quiet = values.quiet ?? false;
    const log = (line: string) => {
      void writeLine(io.stderr, `${new Date().toISOString()} ${line}`);
    };
    const cleaned = await root.cleanTemporaries();
    if (cleaned > 0) log(`removed ${cleaned} temporary file(s) left by interrupted uploads`);
    const settings = {
      ...listener,
      tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
      tokens,
      checksums: checksumFlag(values.checksum, ["sha256"]),
      // None with -q: the sessions then make no log lines at all.
      ...(quiet ? {} : { log }),
    };
    let server: { addr: Deno.NetAddr; close(): Promise<void> };
    try {
      server = workers === 1 ? startServer({ root, ...settings }) : await startServerPool({
        rootPath: root.hostPath,
        workers,
        readOnly: root.readOnly,
        fsync,
        shared: root.sharedVolume !== null,
        ...settings,
      });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        throw new ConnectionError(
          `Cannot listen on "${formatHostPort(hostname, port)}": address already in use`,
        );
      }
      if (e instanceof Deno.errors.AddrNotAvailable || e instanceof Deno.errors.PermissionDenied) {
        throw new ConnectionError(
          `Cannot listen on "${formatHostPort(hostname, port)}": ${e.message}`,
        );
      }
      throw e;
    }
    if (tls !== undefined) {
      // Like an SSH host key: clients pin it with --fingerprint.
      await writeLine(io.stderr, `fingerprint sha256 ${tls.fingerprint}`);
    }
    const scheme = tls === undefined ? "bftp" : "bftps";
    await writeLine(
      io.stdout,
      `listening on ${scheme}://${formatHostPort(server.addr.hostname, server.addr.port)}`,
    );
    // Listening on every address: the URLs another machine would use, as 0.0.0.0 is none.
    const reachable = reachableAddresses(server.addr.hostname, networkInterfaces())
      .map((a) => `${scheme}://${formatHostPort(a, server.addr.port)}`);
    if (!quiet && reachable.length > 0) log(`reachable as ${reachable.join(", ")}`);
    if (!quiet) {
      log(
        `serving ${root.hostPath}${root.readOnly ? " (read-only)" : ""}` +
          (workers > 1 ? ` with ${workers} workers` : "") +
          (root.sharedVolume === null
            ? ""
            : ` on a shared volume (${root.sharedVolume}), no file hashes remembered`) +
          (tls === undefined ? "" : " over TLS") +
          (tokens === undefined
            ? ""
            : `, an access token required (${tokens.size} accepted, read at start)`),
      );
    }
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.close();
    if (!quiet) log("stopped");
    return 0;
  },
};
