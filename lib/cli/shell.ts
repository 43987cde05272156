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
import { formatHostPort } from "../client/url.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { type CliIo, errorLine, writeLine, writeText } from "./io.ts";
import { endProgressLines } from "./progress.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, openSession, progressFor } from "./session.ts";
import { findShellCommand, shellCommandHelp, type ShellContext } from "./shell_commands.ts";
import { splitCommandLine } from "./shell_parse.ts";

/** The longest command line accepted, in bytes. */
const MAX_LINE_BYTES = 64 * 1024;

const HELP = `Usage: bftp shell URL [-q]

Opens one session with the server at URL, starts in URL's folder, and runs
commands typed on stdin, one per line, on that same session:

  ls [-l] [--json] [PATH]     cd [PATH]        pwd
  get [-r] REMOTE [LOCAL|-]   put [-r] LOCAL [REMOTE]
  rm PATH...   mkdir [-p] PATH...   rmdir PATH...   mv FROM TO
  stat [--json] PATH          hash PATH...     help [COMMAND]   quit

Remote paths are relative to the current folder on the server (cd changes
it); local paths to the folder bftp runs in. Quote names with spaces ("a b",
'a b' or a\\ b); # starts a comment. "put -" is refused: stdin carries the
commands. On a terminal there is a prompt on stderr; from a pipe, the lines
are a script:

  printf 'cd docs\\npwd\\nls\\n' | bftp shell bftp://127.0.0.1:2121/

A failed command prints "bftp: MESSAGE" on stderr and the shell goes on.
The shell ends at "quit" or end of input. Exit code: 0 when every command
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
      throw new UsageError(`A command line is longer than ${MAX_LINE_BYTES} bytes`);
    } else {
      throw e;
    }
  }
  if (bytes === null) return null;
  return new TextDecoder().decode(bytes).replace(/\r$/, "");
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

async function runLine(ctx: ShellContext, words: string[]): Promise<void> {
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
    await command.run(ctx, args);
  } catch (e) {
    if (e instanceof UsageError) {
      throw new UsageError(`${e.message} (usage: ${command.usage})`);
    }
    throw e;
  }
}

/** The `shell` subcommand. */
export const shellCommand: Command = {
  name: "shell",
  summary: "one session, many commands (interactive, or a script on stdin)",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...CONNECTION_FLAGS,
      quiet: { type: "boolean", short: "q" },
    });
    if (positionals.length !== 1) throw new UsageError("Expected exactly one URL");
    const interactive = io.stdinIsTerminal;
    const session = await openSession(positionals[0]!, io, values);
    try {
      const { client, url } = session;
      const ctx: ShellContext = {
        client,
        io,
        progress: progressFor(io, values.quiet === true),
        // A session starts at the root: only another folder needs a CD.
        cwd: url.path === "/" ? "/" : await client.cd(url.path),
        quit: false,
      };
      if (interactive) {
        const server = typeof client.hello.server === "string" ? ` (${client.hello.server})` : "";
        await writeLine(
          io.stderr,
          `Connected to ${formatHostPort(url.hostname, url.port)}${server}. Type "help" for ` +
            `the commands, "quit" or Ctrl-D to end.`,
        );
      }
      const reader = new BufferedReader(io.stdin);
      let interrupted: () => void = () => {};
      const interruption = new Promise<null>((resolve) => {
        interrupted = () => resolve(null);
        io.signal.addEventListener("abort", interrupted, { once: true });
      });
      let exitCode = 0;
      try {
        while (!ctx.quit) {
          if (interactive) await writeText(io.stderr, `bftp:${ctx.cwd}> `);
          const line = await Promise.race([nextLine(reader), interruption]);
          if (io.signal.aborted) throw new ConnectionError("Interrupted: the session is closed");
          if (line === null) {
            if (interactive) await writeText(io.stderr, "\n");
            break;
          }
          try {
            const words = splitCommandLine(line);
            if (words.length > 0) await runLine(ctx, words);
          } catch (e) {
            if (!(e instanceof BftpError)) throw e;
            // A failed transfer's progress line stops and ends before the message.
            const progressLine = endProgressLines();
            if (progressLine !== "") await writeLine(io.stderr, progressLine);
            await writeLine(io.stderr, errorLine(e.message));
            exitCode = e.exitCode;
            if (io.signal.aborted) throw new ConnectionError("Interrupted: the session is closed");
            if (
              !(e instanceof RemoteError || e instanceof UsageError) &&
              !(await stillConnected(client))
            ) {
              await writeLine(io.stderr, "bftp: The connection to the server is lost: stopping");
              return EXIT_CODES.CONNECTION;
            }
          }
        }
      } finally {
        io.signal.removeEventListener("abort", interrupted);
      }
      return exitCode;
    } finally {
      await session.close();
    }
  },
};
