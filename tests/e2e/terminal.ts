/**
 * Runs the real bftp in a real terminal: a detached tmux session of a given
 * width, whose screen is captured when the command ends. Bounded in time;
 * the tmux server (on a socket of its own) is always killed afterwards.
 *
 * @module
 */

import { BFTP_BIN } from "./helpers.ts";

/** Options for {@linkcode runInTerminal}. */
export interface RunInTerminalOptions {
  /**
   * The terminal's width in columns.
   *
   * @default {80}
   */
  columns?: number;
  /**
   * The terminal's height in lines.
   *
   * @default {24}
   */
  rows?: number;
  /** The working folder. */
  cwd?: string;
  /** Keys typed into the terminal (tmux `send-keys` names, e.g. `C-c`) after `afterMs`. */
  type?: { afterMs: number; keys: string };
  /** A file that receives stdout instead of the terminal (stderr stays on it). */
  stdoutFile?: string;
  /**
   * Milliseconds to wait for the command to end.
   *
   * @default {20000}
   */
  timeoutMs?: number;
}

/** What the terminal showed. */
export interface TerminalResult {
  /** The exit code. */
  code: number;
  /** The screen's lines, trailing blank lines and the exit marker removed. */
  lines: string[];
}

const EXIT_MARK = "__bftp_exit__";

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

async function tmux(socket: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", socket, "-f", "/dev/null", ...args],
    env: { TERM: "xterm-256color" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * Runs `bftp ...args` in a fresh terminal of `columns` width and returns
 * the screen once it exits.
 *
 * @param args The command line after `bftp`.
 * @param options Size, working folder, time limit.
 * @returns The exit code and the screen's lines.
 */
export async function runInTerminal(
  args: string[],
  options: RunInTerminalOptions = {},
): Promise<TerminalResult> {
  const socket = `bftp-test-${crypto.randomUUID()}`;
  const redirect = options.stdoutFile === undefined ? "" : ` > ${quote(options.stdoutFile)}`;
  const command = [BFTP_BIN, ...args].map(quote).join(" ") + redirect;
  const cd = options.cwd === undefined ? "" : `cd ${quote(options.cwd)} && `;
  // The shell survives a Ctrl-C typed for bftp, to report its exit code.
  const script = `trap : INT; ${cd}${command}; echo ${EXIT_MARK}$?; sleep 60`;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  try {
    await tmux(socket, [
      "new-session",
      "-d",
      "-x",
      String(options.columns ?? 80),
      "-y",
      String(options.rows ?? 24),
      "sh",
      "-c",
      script,
    ]);
    let typeAt = options.type === undefined ? Infinity : Date.now() + options.type.afterMs;
    while (true) {
      if (Date.now() >= typeAt) {
        await tmux(socket, ["send-keys", options.type!.keys]);
        typeAt = Infinity;
      }
      const screen = await tmux(socket, ["capture-pane", "-p"]);
      const lines = screen.split("\n").map((l) => l.trimEnd());
      const at = lines.findIndex((l) => l.startsWith(EXIT_MARK));
      if (at >= 0) {
        const code = Number(lines[at]!.slice(EXIT_MARK.length));
        return { code, lines: lines.slice(0, at) };
      }
      if (Date.now() > deadline) {
        throw new Error(`Timed out in the terminal; the screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await tmux(socket, ["kill-server"]).catch(() => {});
  }
}
