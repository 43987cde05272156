/**
 * The server a check runs against: an embedded `bftp serve` in a child
 * process over a temporary folder (so its CPU and memory are measured apart
 * from the client's), an embedded server in this very process, or a
 * server named by a `bftp://` URL.
 *
 * @module
 */

import { basename } from "../local_path.ts";
import { fileURLToPath } from "node:url";
import { ConnectionError, UsageError } from "../errors.ts";
import type { ClientOptions } from "../client/client.ts";
import { parseBftpUrl } from "../client/url.ts";
import { formatHostPort } from "../transport/address.ts";
import { ServedRoot } from "../root/served_root.ts";
import { startServer } from "../server/server.ts";
import { type ProcessSample, sampleProcess } from "./process_sample.ts";

/** A server a check talks to. */
export interface CheckTarget {
  /** The server's host name or address. */
  hostname: string;
  /** The server's port. */
  port: number;
  /** How to connect beyond host and port: TLS trust, token, stall timeout. */
  connection: TargetConnection;
  /** The remote folder in which the check makes (and removes) its scratch folder. */
  basePath: string;
  /**
   * The served folder's path on this machine when the server is embedded:
   * the check then also hashes what landed on the disk. `null` otherwise.
   */
  localRoot: string | null;
  /** How the server runs, for the report: `embedded (child process 1234)`. */
  description: string;
  /**
   * Samples the server's process when it is a separate process on this
   * machine; `null` when that is not possible (a remote server, or one in
   * this process, whose CPU and memory are the client's).
   */
  sample(): ProcessSample | null;
  /** Stops an embedded server and removes its folder; nothing for a remote one. */
  close(): Promise<void>;
}

/**
 * The client options a check connects with, besides host and port: TLS
 * trust (present exactly for a `bftps://` target), the access token, the
 * stall timeout, the checksums offered, `-v`'s observer and a rate limit.
 */
export type TargetConnection = Pick<
  ClientOptions,
  "tls" | "token" | "stallTimeout" | "checksums" | "onMessage" | "limitRate"
>;

/** Options for {@linkcode spawnEmbeddedServer} and {@linkcode startInProcessServer}. */
export interface EmbeddedServerOptions {
  /**
   * Flush uploads to disk before renaming them into place, as `bftp serve`
   * does by default.
   *
   * @default {true}
   */
  fsync?: boolean;
  /**
   * Seconds to wait for a child server's "listening on" line.
   *
   * @default {30}
   */
  startTimeout?: number;
  /**
   * Seconds a request may go without a byte moving before the client gives
   * up (the client's `stallTimeout`).
   *
   * @default {300}
   */
  stallTimeout?: number;
  /** The client's checksums, `-v`'s observer and rate limit, as with a server given by URL. */
  client?: Pick<TargetConnection, "checksums" | "onMessage" | "limitRate">;
}

function embeddedConnection(options: EmbeddedServerOptions): TargetConnection {
  return {
    ...options.client,
    ...(options.stallTimeout === undefined ? {} : { stallTimeout: options.stallTimeout }),
  };
}

/**
 * The command line that runs this program's `main.ts` with `args`: the
 * standalone binary itself when bftp was built with `deno compile`, or
 * `deno run` with the same permissions otherwise.
 *
 * @param args The bftp arguments.
 * @returns The program and its arguments.
 *
 * @example
 * ```ts
 * import { bftpCommandLine } from "./target.ts";
 * import { ok } from "node:assert/strict";
 *
 * const { args } = bftpCommandLine(["serve", "--port", "0"]);
 * ok(args.slice(-3).join(" ") === "serve --port 0");
 * ```
 */
export function bftpCommandLine(args: string[]): { program: string; args: string[] } {
  const program = Deno.execPath();
  if ((Deno.build as { standalone?: boolean }).standalone === true) return { program, args };
  const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
  const config = fileURLToPath(new URL("../../deno.json", import.meta.url));
  return {
    program,
    args: ["run", "--quiet", "--allow-all", "--unstable-net", "--config", config, main, ...args],
  };
}

async function collect(stream: ReadableStream<Uint8Array>, into: { text: string }, limit: number) {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    if (into.text.length < limit) into.text += chunk;
  }
}

/**
 * Starts `bftp serve` in a child process on a free loopback port, over a
 * new temporary folder.
 *
 * @param options Fsync, start timeout.
 * @returns The target; `close()` stops the server and removes the folder.
 * @throws {ConnectionError} When the server does not start.
 *
 * @example
 * ```ts
 * import { spawnEmbeddedServer } from "./target.ts";
 * import { ok } from "node:assert/strict";
 *
 * const target = await spawnEmbeddedServer();
 * try {
 *   ok(target.port > 0);
 * } finally {
 *   await target.close();
 * }
 * ```
 */
export async function spawnEmbeddedServer(
  options: EmbeddedServerOptions = {},
): Promise<CheckTarget> {
  const root = await Deno.makeTempDir({ prefix: "bftp-check-root-" });
  const line = bftpCommandLine([
    "serve",
    root,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "-q",
    ...(options.fsync === false ? ["--no-fsync"] : []),
  ]);
  let child: Deno.ChildProcess;
  try {
    // The user's BFTP_TOKEN is for their own servers: this one, theirs for a run, takes none
    // (it asked for one and the check, which sends none without a URL, was refused).
    const env = Deno.env.toObject();
    delete env.BFTP_TOKEN;
    child = new Deno.Command(line.program, {
      args: line.args,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    await Deno.remove(root, { recursive: true });
    throw e;
  }
  const stdout = { text: "" };
  const stderr = { text: "" };
  const draining = Promise.all([
    collect(child.stdout, stdout, 4096),
    collect(child.stderr, stderr, 4096),
  ]);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch (e) {
        if (!(e instanceof TypeError)) throw e; // it has exited already
      }
      await child.status;
      await draining;
      await Deno.remove(root, { recursive: true }).catch(() => {});
    })();
    return stopped;
  };
  const deadline = Date.now() + (options.startTimeout ?? 30) * 1000;
  let exited = false;
  void child.status.then(() => exited = true);
  let m: RegExpExecArray | null = null;
  while (!(m = /^listening on bftp:\/\/(.+):(\d+)\n/m.exec(stdout.text))) {
    if (exited || Date.now() > deadline) {
      await stop();
      const why = stderr.text.trim().split("\n").slice(-1)[0] ?? "";
      throw new ConnectionError(
        `Cannot start the embedded server: ${exited ? "it exited" : "it did not start in time"}` +
          (why ? `: ${why}` : ""),
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const hostname = m[1]!.replace(/^\[(.*)\]$/, "$1");
  const port = Number(m[2]);
  const pid = child.pid;
  const exe = basename(line.program);
  return {
    hostname,
    port,
    connection: embeddedConnection(options),
    basePath: "/",
    localRoot: await Deno.realPath(root),
    description: `embedded: ${exe} child process ${pid} on ${formatHostPort(hostname, port)}`,
    sample: () => sampleProcess(pid),
    close: stop,
  };
}

/**
 * Starts a BFTP server inside this process on a free loopback port, over a
 * new temporary folder. Its CPU time and memory cannot be told apart from
 * the client's, so {@linkcode CheckTarget.sample} answers `null`.
 *
 * @param options Fsync.
 * @returns The target; `close()` stops the server and removes the folder.
 *
 * @example
 * ```ts
 * import { startInProcessServer } from "./target.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const target = await startInProcessServer();
 * try {
 *   deepEqual(target.sample(), null);
 * } finally {
 *   await target.close();
 * }
 * ```
 */
export async function startInProcessServer(
  options: EmbeddedServerOptions = {},
): Promise<CheckTarget> {
  const dir = await Deno.makeTempDir({ prefix: "bftp-check-root-" });
  const root = await ServedRoot.open(dir, { fsync: options.fsync ?? true });
  const server = startServer({ root, hostname: "127.0.0.1", port: 0 });
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    connection: embeddedConnection(options),
    basePath: "/",
    localRoot: root.hostPath,
    description: `embedded: in this process on ${
      formatHostPort(server.addr.hostname, server.addr.port)
    }`,
    sample: () => null,
    close: async () => {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * A server named by a URL: the check works in a scratch folder under the
 * URL's path. A `bftps://` URL is checked over TLS, never in the clear.
 *
 * @param url `bftp://HOST[:PORT]/PATH` or `bftps://…`.
 * @param connection TLS trust (for `bftps://`: absent trusts the usual root
 *   CAs), the access token, the stall timeout.
 * @returns The target (nothing to close).
 * @throws {UsageError} When the URL is not a BFTP URL, or TLS trust is given
 *   for a plain `bftp://` one.
 *
 * @example
 * ```ts
 * import { remoteTarget } from "./target.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const t = remoteTarget("bftp://127.0.0.1:9000/tmp");
 * deepEqual([t.hostname, t.port, t.basePath, t.localRoot], ["127.0.0.1", 9000, "/tmp", null]);
 * deepEqual(remoteTarget("bftps://127.0.0.1/").connection.tls, {});
 * ```
 */
export function remoteTarget(url: string, connection: TargetConnection = {}): CheckTarget {
  const parsed = parseBftpUrl(url);
  if (!parsed.secure && connection.tls !== undefined) {
    throw new UsageError(`TLS options need a bftps:// URL, not "${url}"`);
  }
  return {
    hostname: parsed.hostname,
    port: parsed.port,
    // A bftps:// URL always gets TLS options, so the client never falls back to plain TCP.
    connection: parsed.secure ? { ...connection, tls: connection.tls ?? {} } : connection,
    basePath: parsed.path,
    localRoot: null,
    description: `${parsed.secure ? "bftps" : "bftp"}://${
      formatHostPort(parsed.hostname, parsed.port)
    }${parsed.path}`,
    sample: () => null,
    close: () => Promise.resolve(),
  };
}
