/**
 * Shared helpers of the end-to-end tests: run the real bftp entry point as a
 * child process and collect what it printed and its exit code, start
 * `bftp serve` on a free port, and work with temporary folders and files.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { join } from "node:path";
import { waitFor } from "../helpers.ts";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { readSized, writeSized } from "../../lib/framing/size_header.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { decodeReply, encodeMessage } from "../../lib/protocol/messages.ts";

export { sha256, sha256File, sha256Stream, type TempDir, tempDir, waitFor } from "../helpers.ts";

/** The program the end-to-end tests run: `$BFTP_BIN`, or this checkout's `scripts/bftp`. */
export const BFTP_BIN: string = Deno.env.get("BFTP_BIN") ??
  new URL("../../scripts/bftp", import.meta.url).pathname;

/** Options for {@linkcode runBftp}. */
export interface RunBftpOptions {
  /** Bytes or text written to the child's stdin (which is then closed); none when absent. */
  stdin?: Uint8Array | string;
  /** The child's working folder. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Run as this user ({@linkcode unprivileged}); the tests' own when absent. */
  user?: TestUser | undefined;
}

/** A user the tests run bftp as: its ids, and the environment it needs. */
export interface TestUser {
  /** Its user id. */
  uid: number;
  /** Its group id. */
  gid: number;
  /** HOME and Deno's cache in a folder it owns. */
  env: Record<string, string>;
}

/** `uid`, `gid` and the environment of a child run as `user` (with `env` beside). */
function asUser(user: TestUser | undefined, env?: Record<string, string>) {
  if (user === undefined) return env === undefined ? {} : { env };
  return { uid: user.uid, gid: user.gid, env: { ...user.env, ...env } };
}

/**
 * A user whose permission bits bind it, to run bftp as: when the tests run
 * as root, whom no bits stop, `nobody` (65534), given `dir` and all below
 * it, with its HOME and Deno's cache in `dir/.home`; otherwise the tests'
 * own user (`undefined`).
 *
 * @param dir A folder the user is to own.
 * @returns The user, or `undefined` for the tests' own.
 */
export async function unprivileged(dir: string): Promise<TestUser | undefined> {
  if (Deno.uid() !== 0) return undefined;
  const home = join(dir, ".home");
  await Deno.mkdir(home, { recursive: true });
  const own = async (path: string): Promise<void> => {
    await Deno.chown(path, NOBODY, NOBODY);
    for await (const e of Deno.readDir(path)) {
      const child = join(path, e.name);
      if (e.isDirectory) await own(child);
      else await Deno.chown(child, NOBODY, NOBODY);
    }
  };
  await own(dir);
  return { uid: NOBODY, gid: NOBODY, env: { HOME: home, DENO_DIR: join(home, "deno") } };
}

/** The ids of `nobody` on Debian. */
const NOBODY = 65534;

/** What a bftp run produced. */
export interface RunBftpResult {
  /** The exit code. */
  code: number;
  /** Standard output, decoded as UTF-8. */
  stdout: string;
  /** Standard output, as bytes. */
  stdoutBytes: Uint8Array;
  /** Standard error, decoded as UTF-8. */
  stderr: string;
}

/**
 * Runs bftp with `args` and waits for it to exit.
 *
 * @param args The command line after `bftp`.
 * @param options Stdin, working folder, environment.
 * @returns The exit code and the output.
 */
export async function runBftp(
  args: string[],
  options: RunBftpOptions = {},
): Promise<RunBftpResult> {
  const child = new Deno.Command(BFTP_BIN, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...asUser(options.user, options.env),
  }).spawn();
  // Stdin is fed while the output is read, so that a child that writes much
  // before reading all its input cannot deadlock with us.
  const feeding = options.stdin === undefined ? Promise.resolve() : (async () => {
    const bytes = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin!;
    const writer = child.stdin.getWriter();
    try {
      await writer.write(bytes);
      await writer.close();
    } catch (e) {
      // The child exited without reading everything: its exit code tells why.
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      await writer.abort().catch(() => {});
    }
  })();
  const [{ code, stdout, stderr }] = await Promise.all([child.output(), feeding]);
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stdoutBytes: stdout,
    stderr: decoder.decode(stderr),
  };
}

/** Options for {@linkcode spawnBftp}. */
export interface SpawnBftpOptions {
  /** Pipe stdin (the caller writes and closes it); otherwise stdin is empty. */
  pipeStdin?: boolean;
  /** The child's working folder. */
  cwd?: string;
}

/**
 * Starts bftp with stdout and stderr piped, for tests that stream through it
 * or kill it. The caller must read or cancel both outputs and await `status`.
 *
 * @param args The command line after `bftp`.
 * @param options Stdin and working folder.
 * @returns The running child.
 */
export function spawnBftp(args: string[], options: SpawnBftpOptions = {}): Deno.ChildProcess {
  return new Deno.Command(BFTP_BIN, {
    args,
    stdin: options.pipeStdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  }).spawn();
}

/**
 * Reads a stream of bytes to its end as UTF-8 text.
 *
 * @param stream The stream (a child's stdout or stderr).
 * @returns The text.
 */
export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/**
 * Checks the shape every failed bftp run must have: the exit code, exactly
 * one line on stderr starting "bftp: " (no stack trace), nothing on stdout.
 *
 * @param result The run.
 * @param code The expected exit code.
 * @param message A pattern the error line must match.
 */
export function assertFailure(result: RunBftpResult, code: number, message?: RegExp): void {
  const context = `exit ${result.code}, stderr: ${JSON.stringify(result.stderr)}`;
  equal(result.code, code, context);
  equal(result.stdoutBytes.byteLength, 0, `stdout should be empty, ${context}`);
  const lines = result.stderr.split("\n");
  equal(lines.length, 2, `one line on stderr, ${context}`);
  equal(lines[1], "", context);
  ok(lines[0]!.startsWith("bftp: "), context);
  ok(!/^\s+at /m.test(result.stderr), `no stack trace, ${context}`);
  if (message) ok(message.test(lines[0]!), `${message} should match ${context}`);
}

/** A running `bftp serve`. */
export interface ServeHandle extends AsyncDisposable {
  /** `bftp://HOST:PORT` as the server printed it (no trailing slash). */
  url: string;
  /** The server process. */
  process: Deno.ChildProcess;
  /** Everything the server has logged on stderr so far. */
  stderrText(): string;
  /** The log lines (after the "serving" line) that match `pattern`. */
  logLines(pattern?: RegExp): string[];
  /** Waits until at least `count` log lines match `pattern`. */
  waitForLog(pattern: RegExp, count?: number): Promise<void>;
  /** Sends SIGTERM, waits for the exit, and asserts it exited 0 (safe to call twice). */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL (a crash) and waits for it to exit. */
  crash(): Promise<void>;
}

/**
 * Starts `bftp serve ROOT --port 0 ...extraArgs` and waits for its
 * "listening on bftp://HOST:PORT" line (bftps:// with TLS).
 *
 * @param root The folder to serve.
 * @param extraArgs More flags (`--read-only`...).
 * @param options Environment variables for the server (`BFTP_TOKEN`...), and the user it runs as.
 * @returns The running server; `await using` stops it.
 */
/**
 * Flags added to every `serve` the e2e tests start, from BFTP_TEST_SERVE_ARGS
 * (`scripts/test` runs the transfer tests again with "--workers 2").
 */
export const SERVE_EXTRA_ARGS: string[] = (Deno.env.get("BFTP_TEST_SERVE_ARGS") ?? "")
  .split(/\s+/)
  .filter((a) => a !== "");

export async function startServe(
  root: string,
  extraArgs: string[] = [],
  options: { env?: Record<string, string>; user?: TestUser | undefined } = {},
): Promise<ServeHandle> {
  const process = new Deno.Command(BFTP_BIN, {
    args: ["serve", root, "--port", "0", ...SERVE_EXTRA_ARGS, ...extraArgs],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...asUser(options.user, options.env),
  }).spawn();
  let stderr = "";
  const stderrDone = (async () => {
    for await (const text of process.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  let stdout = "";
  let announced: (url: string | null) => void = () => {};
  const listening = new Promise<string | null>((resolve) => announced = resolve);
  const stdoutDone = (async () => {
    for await (const text of process.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += text;
      const m = /^listening on (bftps?:\/\/\S+)\n/m.exec(stdout);
      if (m) announced(m[1]!);
    }
    announced(null);
  })();
  const timer = setTimeout(() => announced(null), 15_000);
  const url = await listening;
  clearTimeout(timer);
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const end = (signal: Deno.Signal) => {
    stopped ??= (async () => {
      try {
        process.kill(signal);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e; // it has exited already
      }
      const status = await process.status;
      await Promise.all([stderrDone, stdoutDone]);
      return status;
    })();
    return stopped;
  };
  const stop = async () => {
    const status = await end("SIGTERM");
    equal(status.signal, null, `bftp serve was killed by ${status.signal}; stderr: ${stderr}`);
    equal(status.code, 0, `bftp serve exited ${status.code}; stderr: ${stderr}`);
  };
  const crash = async () => {
    const status = await end("SIGKILL");
    equal(status.signal, "SIGKILL");
  };
  if (url === null) {
    await stop().catch(() => {});
    throw new Error(`bftp serve did not start; stdout: ${stdout}; stderr: ${stderr}`);
  }
  const logLines = (pattern?: RegExp) => {
    const lines = stderr.split("\n").filter((l) => l !== "");
    const after = lines.slice(lines.findIndex((l) => / serving /.test(l)) + 1);
    return pattern ? after.filter((l) => pattern.test(l)) : after;
  };
  return {
    url,
    process,
    stderrText: () => stderr,
    logLines,
    waitForLog: (pattern, count = 1) =>
      waitFor(() => logLines(pattern).length >= count, `log lines matching ${pattern}`),
    stop,
    crash,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Writes `size` random bytes to a new file, generated in 4 MiB pieces.
 *
 * @param path The file.
 * @param size How many bytes.
 * @returns The SHA-256 of what was written.
 */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  using file = await Deno.open(path, { write: true, createNew: true });
  const hash = createHash("sha256");
  const buf = new Uint8Array(Math.min(size, 4 << 20));
  let left = size;
  while (left > 0) {
    const piece = buf.subarray(0, Math.min(buf.byteLength, left));
    randomFillSync(piece);
    hash.update(piece);
    let written = 0;
    while (written < piece.byteLength) written += file.writeSync(piece.subarray(written));
    left -= piece.byteLength;
  }
  return hash.digest("hex");
}

/**
 * Random bytes.
 *
 * @param size How many.
 * @returns The bytes.
 */
export function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  randomFillSync(bytes);
  return bytes;
}

/**
 * Reads a folder tree into a map from relative path to its contents: the
 * bytes of each file, `"dir"` for each folder. Symlinks are reported as
 * `"link"`.
 *
 * @param root The folder.
 * @returns The map, with paths in sorted order.
 */
export async function readTree(root: string): Promise<Map<string, Uint8Array | string>> {
  const out = new Map<string, Uint8Array | string>();
  const walk = async (dir: string, prefix: string) => {
    const entries = await Array.fromAsync(Deno.readDir(dir));
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const e of entries) {
      const rel = prefix + e.name;
      if (e.isDirectory) {
        out.set(rel, "dir");
        await walk(join(dir, e.name), rel + "/");
      } else if (e.isFile) {
        out.set(rel, await Deno.readFile(join(dir, e.name)));
      } else {
        out.set(rel, "link");
      }
    }
  };
  await walk(root, "");
  return out;
}

/**
 * Names in a folder, sorted.
 *
 * @param dir The folder.
 * @returns Its entries' names.
 */
export async function listNames(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

/**
 * Finds bftp temporary files (names containing ".bftp-tmp-") anywhere under
 * a folder.
 *
 * @param root The folder.
 * @returns Their paths relative to `root`.
 */
export async function findTemporaries(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.includes(".bftp-tmp-")) found.push(prefix + e.name);
      if (e.isDirectory) await walk(join(dir, e.name), prefix + e.name + "/");
    }
  };
  await walk(root, "");
  return found.sort();
}

/**
 * A port on 127.0.0.1 with nothing listening (it was free a moment ago).
 *
 * @returns The port.
 */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/**
 * Starts a resumable PUT as `bftp put --resume` would, sends the first
 * `part` bytes of `data`, and hangs up: a cut upload, whose part the server
 * keeps for a later resume.
 *
 * @param url The server, `bftp://127.0.0.1:PORT`.
 * @param path The target's path.
 * @param data The whole file.
 * @param part How many bytes to send before hanging up.
 * @param sent The bytes sent, when not `data`'s (a part that does not match
 *   the file it is announced as).
 */
export async function cutResumableUpload(
  url: string,
  path: string,
  data: Uint8Array,
  part: number,
  sent: Uint8Array = data,
): Promise<void> {
  const port = Number(/:(\d+)$/.exec(url)![1]);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new BufferedReader(conn);
  const receive = async () => decodeReply((await readSized(reader, { maxBytes: 65536 }))!);
  await writeAll(conn, encodeDelimited("BFTP/1"));
  ok((await receive()).ok);
  await writeSized(
    conn,
    encodeMessage({
      op: "PUT",
      path,
      size: data.byteLength,
      overwrite: true,
      resume: true,
      sha256: createHash("sha256").update(data).digest("hex"),
    }),
  );
  const ready = await receive();
  ok(ready.ok);
  equal(ready.offset, 0);
  await writeAll(conn, new TextEncoder().encode(data.byteLength.toString(16).padStart(16, "0")));
  await writeAll(conn, sent.subarray(0, part));
}
