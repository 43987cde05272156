// deno-lint-ignore-file no-console
/**
 * The bftp entry point: routes the subcommand into `lib/`, and is the only
 * place that prints to the console or exits.
 *
 * @module
 */

import { BftpError, exitCodeOf, LocalIoError, UsageError } from "./lib/errors.ts";
import { findCommand, mainHelp } from "./lib/cli/mod.ts";
import { type CliIo, errorLine } from "./lib/cli/io.ts";
import { endProgressLines } from "./lib/cli/progress.ts";
import { ThreadedStdinReader } from "./lib/transfer/stdin_reader.ts";
import { VERSION } from "./lib/version.ts";
import { widenPipe } from "./lib/libc/fd_file.ts";
import { writeAll } from "./lib/framing/write_all.ts";

function syncWriter(file: typeof Deno.stdout) {
  return { write: (p: Uint8Array) => Promise.resolve(file.writeSync(p)) };
}

/**
 * Stdout that cannot be written (a full disk, an I/O error) is the output's error, exit 3: it
 * was an internal error (exit 1). A closed pipe is told by its own line below.
 */
function outputError(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof BftpError || e instanceof Deno.errors.BrokenPipe) {
    return e;
  }
  return new LocalIoError(`Cannot write to the output: ${e.message}`);
}

/** Writes a whole line of text to stdout (help, the version). */
async function printLine(text: string): Promise<void> {
  await writeAll(syncWriter(Deno.stdout), new TextEncoder().encode(`${text}\n`)).catch((e) => {
    throw outputError(e);
  });
}

/** Below this, a write to stdout is a message, not a body. */
const BODY_WRITE = 64 * 1024;

/**
 * Stdout as a writer; a pipe there is widened to 1 MiB (see `widenPipe`)
 * once a body's bytes come: `bftp recv | cat > /dev/null` moved 1 GiB in
 * 1,055 ms against 1,101 with the pipe's 64 KiB (medians of 6 runs each).
 */
function stdoutWriter() {
  const out = syncWriter(Deno.stdout);
  let widened = false;
  return {
    write: (p: Uint8Array) => {
      if (!widened && p.byteLength >= BODY_WRITE) {
        widened = true;
        widenPipe(1);
      }
      try {
        return out.write(p);
      } catch (e) {
        return Promise.reject(outputError(e));
      }
    },
  };
}

function makeIo(
  signal: AbortSignal,
  trapInterrupt: (handler: (() => boolean) | null) => void,
): CliIo {
  const stdinIsTerminal = Deno.stdin.isTerminal();
  return {
    ...(stdinIsTerminal ? { setRaw: (raw: boolean) => Deno.stdin.setRaw(raw) } : {}),
    trapInterrupt,
    // A pipe or file is read ahead on a thread (started by the first read); a terminal as it is.
    stdin: stdinIsTerminal ? Deno.stdin : new ThreadedStdinReader(),
    stdout: stdoutWriter(),
    stderr: syncWriter(Deno.stderr),
    stdinIsTerminal,
    stderrIsTerminal: Deno.stderr.isTerminal(),
    stdoutIsTerminal: Deno.stdout.isTerminal(),
    stderrColumns: () => {
      try {
        // 0 where the terminal does not say (a pty of `script` with its output piped).
        return Deno.consoleSize().columns || 80;
      } catch {
        return 80;
      }
    },
    env: (name) => Deno.env.get(name),
    signal,
  };
}

/** How long a command may take to stop after Ctrl-C before the process ends anyway. */
const INTERRUPT_GRACE_MS = 5000;

/** Runs bftp with `args` and returns the exit code. */
async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    console.error(mainHelp());
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    const cmd = topic === undefined ? undefined : await findCommand(topic);
    await printLine(cmd ? cmd.help : mainHelp());
    return 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    await printLine(`bftp ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  const command = await findCommand(name);
  if (!command) {
    throw new UsageError(`Unknown command "${name}" (see "bftp --help")`);
  }
  const dashDash = rest.indexOf("--");
  const flags = dashDash < 0 ? rest : rest.slice(0, dashDash);
  if (flags.includes("--help") || flags.includes("-h")) {
    await printLine(command.help);
    return 0;
  }
  const controller = new AbortController();
  // The first Ctrl-C (or SIGTERM, SIGHUP) asks the command to stop and clean up. Some waits cannot be
  // cut from here (opening a FIFO nobody opens from the other end): a second signal, or the
  // command still running after a grace period, ends the process.
  const stopNow = () => {
    const progressLine = endProgressLines();
    if (progressLine !== "") console.error(progressLine);
    console.error("bftp: Interrupted");
    Deno.exit(130);
  };
  const stop = () => {
    if (controller.signal.aborted) stopNow();
    controller.abort();
    Deno.unrefTimer(setTimeout(stopNow, INTERRUPT_GRACE_MS));
  };
  // SIGHUP too (the terminal closed, an ssh session dropped): a download killed by it left its
  // named temporary file behind.
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM", "SIGHUP"];
  // A command may take Ctrl-C for itself (the shell, during a transfer); SIGTERM always stops.
  let trap: (() => boolean) | null = null;
  const interrupt = () => {
    if (trap === null || !trap()) stop();
  };
  const listenerOf = (s: Deno.Signal) => s === "SIGINT" ? interrupt : stop;
  for (const s of signals) Deno.addSignalListener(s, listenerOf(s));
  try {
    return await command.run(rest, makeIo(controller.signal, (handler) => trap = handler));
  } catch (e) {
    // Ctrl-C cut the transfer (and it cleaned up after itself): say so, not what the cut looked like.
    if (controller.signal.aborted && !(e instanceof UsageError)) {
      throw new BftpError("INTERRUPTED", "Interrupted");
    }
    if (e instanceof UsageError) {
      throw new UsageError(`${e.message} (see "bftp ${name} --help")`);
    }
    throw e;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, listenerOf(s));
  }
}

/**
 * Runs bftp with `args`, prints its error (if any) and exits with its code:
 * the program itself, from here or from a bundle of it (`scripts/bundle.ts`).
 *
 * @param args The command line after `bftp`.
 */
export async function runMain(args: string[]): Promise<never> {
  let code: number;
  try {
    code = await main(args);
  } catch (e) {
    code = exitCodeOf(e);
    // An error starts a line of its own, not the end of a progress line.
    const progressLine = endProgressLines();
    if (progressLine !== "") console.error(progressLine);
    if (e instanceof BftpError) {
      console.error(errorLine(e.message));
    } else if (e instanceof Deno.errors.BrokenPipe) {
      code = 3;
      console.error("bftp: Cannot write to the output: broken pipe");
    } else {
      const message = e instanceof Error ? e.message : String(e);
      console.error(errorLine(`Internal error: ${message}`));
      if (Deno.env.get("BFTP_DEBUG")) console.error(e);
    }
  }
  Deno.exit(code);
}

if (import.meta.main) await runMain(Deno.args);
