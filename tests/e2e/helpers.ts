/**
 * Shared helpers of the end-to-end tests: run the real bftp entry point as a
 * child process and collect what it printed and its exit code.
 *
 * @module
 */

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
}

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
    ...(options.env === undefined ? {} : { env: options.env }),
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
