/**
 * `bftp shell`: one session, many commands. Reads command lines from stdin
 * (a prompt on stderr when stdin is a terminal; a script when it is a pipe),
 * runs each on the same connection, reports a failed command and goes on.
 *
 * @module
 */

import { BftpError, ConnectionError, ProtocolError, RemoteError, UsageError } from "../errors.ts";
import { EXIT_CODES, UnexpectedEofError } from "../errors.ts";
import { BufferedReader } from "../framing/buffered_reader.ts";
import { readDelimited } from "../framing/delimited.ts";
import type { BftpClient } from "../client/client.ts";
import { formatHostPort } from "../transport/address.ts";
import { parseFlags } from "./args.ts";
import { QUIET_FLAG } from "./common_flags.ts";
import type { Command } from "./command.ts";
import { type CliIo, errorLine, writeLine } from "./io.ts";
import { endProgressLines, endProgressLinesOn } from "./progress.ts";
import { treeProgressFor } from "./tree_progress.ts";
import {
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  openSession,
  progressFor,
  type Session,
} from "./session.ts";
import {
  findShellCommand,
  SHELL_COMMANDS,
  shellCommandHelp,
  shellCommandList,
} from "./shell_commands.ts";
import type { ShellContext } from "./shell_command.ts";
import { type CompletionSources } from "./completion.ts";
import { visible } from "./format.ts";
import { LineEditor } from "./line_editor.ts";
import { appendHistory, historyPath, loadHistory } from "./history.ts";
import { listLocal, runLocalCommand } from "./shell_local.ts";
import { readEditedLine, TerminalKeys } from "./shell_terminal.ts";
import type { Entry } from "../protocol/messages.ts";
import { splitCommandLine } from "./shell_parse.ts";

/** The longest command line accepted, in bytes. */
const MAX_LINE_BYTES = 64 * 1024;

const HELP = `Usage: bftp shell URL [-q]

Opens one session with the server at URL, starts in URL's folder, and runs
commands typed on stdin, one per line, on that same session:

${shellCommandList()}

Remote paths are relative to the current folder on the server (cd changes
it); local paths to the local folder (lcd changes it). Quote names with
spaces ("a b", 'a b' or a\\ b); # starts a comment. "put -" is refused:
stdin carries the commands.

On a terminal there is a prompt on stderr, with line editing (arrows,
Home/End, Ctrl-A/E/U/K/W), a history (Up/Down) and Tab completion of
commands and remote names (Tab twice lists them). Ctrl-C clears the line,
or stops the command running (a transfer is cut and cleaned up; the
session goes on). The shell ends at "quit" or Ctrl-D, with exit code 0
unless the connection was lost (4).

From a pipe, the lines are a script:

  printf 'cd docs\\npwd\\nls\\n' | bftp shell bftp://127.0.0.1:2121/

A failed command prints "bftp: MESSAGE" on stderr and the shell goes on.
A script ends at "quit" or end of input. Exit code: 0 when every command
succeeded, else the exit code of the last command that failed; 4 at once
when the connection is lost (the rest of the script is not run).

Options:
  -q, --quiet   no progress lines

${CONNECTION_HELP}`;

/** Reads the next line; the last line may lack its newline. `null` at end of input. */
async function nextLine(reader: BufferedReader): Promise<string | null> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readDelimited(reader, { maxBytes: MAX_LINE_BYTES });
  } catch (e) {
    if (e instanceof UnexpectedEofError) {
      // The input ended without a final newline: what is left is the last line.
      const rest = new Uint8Array(reader.buffered);
      let n = 0;
      while (n < rest.byteLength) {
        const got = await reader.read(rest.subarray(n));
        if (got === null) break;
        n += got;
      }
      bytes = rest.subarray(0, n);
    } else if (e instanceof ProtocolError) {
      // That line alone is refused: the script goes on at the next one.
      await skipLine(reader);
      throw new UsageError(`A command line is longer than ${MAX_LINE_BYTES} bytes`);
    } else {
      throw e;
    }
  }
  if (bytes === null) return null;
  return new TextDecoder().decode(bytes).replace(/\r$/, "");
}

/** Reads past the rest of a line too long to take: to its newline, or to the end of input. */
async function skipLine(reader: BufferedReader): Promise<void> {
  const newline = new Uint8Array([10]);
  while (true) {
    try {
      await reader.readUntil(newline, MAX_LINE_BYTES);
      return;
    } catch (e) {
      if (!(e instanceof ProtocolError || e instanceof UnexpectedEofError)) throw e;
      reader.consume(reader.buffered);
      if (e instanceof UnexpectedEofError) return;
    }
  }
}

/** Whether the session still answers (a broken one refuses at once). */
async function stillConnected(client: BftpClient): Promise<boolean> {
  try {
    await client.pwd();
    return true;
  } catch (e) {
    if (e instanceof BftpError) return false;
    throw e;
  }
}

async function runLine(ctx: ShellContext, line: string): Promise<number | void> {
  if (line.trimStart().startsWith("!")) {
    await runLocalCommand(ctx.io, line.trimStart().slice(1));
    return;
  }
  const words = splitCommandLine(line);
  if (words.length === 0) return;
  const [name, ...args] = words as [string, ...string[]];
  const command = findShellCommand(name);
  if (!command) throw new UsageError(`Unknown command "${name}" (type "help")`);
  const dashDash = args.indexOf("--");
  const flags = dashDash < 0 ? args : args.slice(0, dashDash);
  if (flags.includes("--help") || flags.includes("-h")) {
    await writeLine(ctx.io.stdout, shellCommandHelp(command));
    return;
  }
  try {
    return await command.run(ctx, args);
  } catch (e) {
    if (e instanceof UsageError) {
      throw new UsageError(`${e.message} (usage: ${command.usage})`);
    }
    throw e;
  }
}

/** The shell's session, which Ctrl-C during a command replaces with a new one. */
interface ShellState {
  ctx: ShellContext;
  session: Session;
  /** Opens a new session with the same server and options. */
  open(): Promise<Session>;
}

/**
 * Prints a failed command's error line.
 *
 * @returns Whether the connection is lost.
 */
async function report(ctx: ShellContext, e: unknown): Promise<boolean> {
  if (!(e instanceof BftpError)) throw e;
  // A failed transfer's progress line stops and ends before the message.
  await endProgressLinesOn(ctx.io.stderr);
  await writeLine(ctx.io.stderr, errorLine(e.message));
  if (ctx.io.signal.aborted) throw new ConnectionError("Interrupted: the session is closed");
  if (e instanceof RemoteError || e instanceof UsageError) return false;
  return !(await stillConnected(ctx.client));
}

/** Says the connection is lost and the shell stops (a script's later lines would not do what they say). */
async function stopping(ctx: ShellContext): Promise<number> {
  await writeLine(ctx.io.stderr, "bftp: The connection to the server is lost: stopping");
  return EXIT_CODES.CONNECTION;
}

/** Replaces the session with a new one to the same server, in the same folder. */
async function renew(state: ShellState): Promise<void> {
  const { ctx } = state;
  await state.session.close();
  state.session = await state.open();
  ctx.client = state.session.client;
  ctx.cwd = await ctx.client.cd(ctx.cwd);
}

/**
 * On a terminal, a lost connection (the server's idle timeout, a restart)
 * is opened again, once, and the prompt goes on; `false` when that fails.
 */
async function reconnect(state: ShellState): Promise<boolean> {
  try {
    await renew(state);
  } catch (e) {
    if (!(e instanceof BftpError)) throw e;
    await writeLine(state.ctx.io.stderr, errorLine(e.message));
    return false;
  }
  await writeLine(
    state.ctx.io.stderr,
    "bftp: The connection was lost: connected again; run the command again",
  );
  return true;
}

/**
 * Runs one typed line with Ctrl-C routed to it: Ctrl-C closes the
 * connection (a transfer cannot be cut otherwise, and cleans up after
 * itself), and a new session is opened in the same folder.
 */
async function runTyped(state: ShellState, line: string): Promise<void> {
  const { ctx } = state;
  let cut = false;
  const command = new AbortController();
  ctx.signal = command.signal;
  // A local command gets Ctrl-C itself, from the terminal.
  const local = line.trimStart().startsWith("!");
  ctx.io.trapInterrupt?.(() => {
    if (local) return true;
    // A second Ctrl-C, when the first did not end the command, ends the shell.
    if (cut) return false;
    cut = true;
    command.abort();
    ctx.client.close();
    return true;
  });
  try {
    await runLine(ctx, line);
  } catch (e) {
    if (!cut) throw e;
  } finally {
    ctx.io.trapInterrupt?.(null);
  }
  if (!cut) return;
  // The progress line (and the terminal's ^C) end here.
  const progressLine = endProgressLines();
  if (ctx.io.stderrIsTerminal) await writeLine(ctx.io.stderr, progressLine);
  await renew(state);
  throw new BftpError("INTERRUPTED", "Interrupted (the session goes on)");
}

/**
 * How long Tab waits for a server's listing before it gives up and rings
 * (keys, Ctrl-C among them, are not read while it waits).
 */
export const COMPLETION_WAIT_MS = 2000;

/** Where Tab completion looks: the commands, and folders on the server and here. */
function completionSources(ctx: ShellContext): CompletionSources {
  const toNames = (entries: Entry[]) =>
    entries.map((e) => ({ name: e.name, dir: e.type === "dir" }));
  return {
    commands: SHELL_COMMANDS.map((c) => c.name),
    // A server that does not answer must not freeze the prompt (the listing is left behind).
    remote: async (dir) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no listing in time")), COMPLETION_WAIT_MS);
      });
      try {
        return toNames(await Promise.race([ctx.client.list(dir === "" ? "." : dir), late]));
      } finally {
        clearTimeout(timer);
      }
    },
    local: async (dir) => toNames(await listLocal(dir === "" ? "." : dir)),
  };
}

/** The terminal's width, or 80 when it cannot be told. */
function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/** The shell on a terminal: edited lines; exit 0 at the end unless the connection is lost. */
async function interactive(state: ShellState): Promise<number> {
  const { ctx } = state;
  const { io } = ctx;
  const server = typeof ctx.client.hello.server === "string"
    ? ` (${visible(ctx.client.hello.server)})`
    : "";
  await writeLine(
    io.stderr,
    `Connected to ${
      formatHostPort(state.session.url.hostname, state.session.url.port)
    }${server}. ` +
      `Type "help" for the commands, "quit" or Ctrl-D to end.`,
  );
  const historyFile = historyPath(io.env);
  const editor = new LineEditor(historyFile === undefined ? [] : await loadHistory(historyFile));
  const term = {
    stdin: io.stdin,
    stderr: io.stderr,
    setRaw: io.setRaw ?? (() => {}),
    columns: terminalColumns,
  };
  const completion = completionSources(ctx);
  const keys = new TerminalKeys();
  while (!ctx.quit) {
    const prompt = `bftp:${visible(ctx.cwd)}> `;
    const known = editor.history.length;
    const line = await readEditedLine(term, {
      prompt,
      editor,
      completion,
      keys,
      signal: io.signal,
    });
    if (io.signal.aborted) throw new ConnectionError("Interrupted: the session is closed");
    if (line === null) break;
    if (historyFile !== undefined && editor.history.length > known) {
      await appendHistory(historyFile, line);
    }
    try {
      await runTyped(state, line);
    } catch (e) {
      // A cancelled command's Ctrl-C cancels the pasted lines behind it too (as in bash).
      if (e instanceof BftpError && e.code === "INTERRUPTED") keys.discard();
      if (await report(ctx, e) && !(await reconnect(state))) return await stopping(ctx);
    }
  }
  return 0;
}

/** The shell from a pipe: a script; the exit code of the last command that failed. */
async function scripted(ctx: ShellContext): Promise<number> {
  const { io } = ctx;
  const reader = new BufferedReader(io.stdin);
  let interrupted: () => void = () => {};
  const interruption = new Promise<null>((resolve) => {
    interrupted = () => resolve(null);
    io.signal.addEventListener("abort", interrupted, { once: true });
  });
  let exitCode = 0;
  try {
    while (!ctx.quit) {
      let line: string | null;
      try {
        line = await Promise.race([nextLine(reader), interruption]);
      } catch (e) {
        // A line too long: refused alone, as any bad line is.
        if (!(e instanceof UsageError)) throw e;
        await report(ctx, e);
        exitCode = e.exitCode;
        continue;
      }
      if (io.signal.aborted) throw new ConnectionError("Interrupted: the session is closed");
      if (line === null) break;
      try {
        const code = await runLine(ctx, line);
        if (code) exitCode = code;
      } catch (e) {
        if (await report(ctx, e)) return await stopping(ctx);
        exitCode = (e as BftpError).exitCode;
      }
    }
  } finally {
    io.signal.removeEventListener("abort", interrupted);
  }
  return exitCode;
}

/** The `shell` subcommand. */
export const shellCommand: Command = {
  name: "shell",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...CONNECTION_FLAGS,
      ...QUIET_FLAG,
    });
    if (positionals.length !== 1) throw new UsageError("Expected exactly one URL");
    const open = () => openSession(positionals[0]!, io, values);
    const session = await open();
    const ctx: ShellContext = {
      client: session.client,
      io,
      progress: progressFor(io, values.quiet ?? false),
      treeProgress: treeProgressFor(io, values.quiet ?? false),
      cwd: "/",
      quit: false,
      signal: io.signal,
    };
    const state: ShellState = { session, open, ctx };
    try {
      // A session starts at the root: only another folder needs a CD.
      if (session.url.path !== "/") ctx.cwd = await ctx.client.cd(session.url.path);
      return io.stdinIsTerminal ? await interactive(state) : await scripted(ctx);
    } finally {
      await state.session.close();
    }
  },
};
