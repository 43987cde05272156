/**
 * A real terminal for the end-to-end tests: runs a command in a detached
 * tmux session of a fixed size (its own tmux server, so nothing is shared
 * with the user's), types keys into it, reads the screen, and waits for
 * the command's exit code. Every wait is bounded; disposing kills the
 * tmux server and everything in it.
 *
 * @module
 */

import { join } from "node:path";
import { BFTP_BIN, tempDir } from "./helpers.ts";

/** Options for {@linkcode startTerminal}. */
export interface TerminalOptions {
  /**
   * Columns.
   *
   * @default {100}
   */
  width?: number;
  /**
   * Rows.
   *
   * @default {30}
   */
  height?: number;
  /** The command's working folder. */
  cwd?: string;
  /** A file that receives stdout instead of the terminal (stderr stays on it). */
  stdoutFile?: string;
  /**
   * The home folder (for the shell's history file).
   *
   * @default {a new empty folder, removed at the end}
   */
  home?: string;
}

/** A command running in a terminal. */
export interface Terminal extends AsyncDisposable {
  /** Types text as it is (no key names). */
  type(text: string): Promise<void>;
  /** Presses keys by tmux name: `Enter`, `Up`, `Tab`, `C-c`, `BSpace`... */
  press(...keys: string[]): Promise<void>;
  /** The screen's text, one line per row, trailing blanks dropped. */
  screen(): Promise<string>;
  /** Where the cursor is: its column and row, from 0. */
  cursor(): Promise<{ column: number; row: number }>;
  /**
   * Waits until the screen matches.
   *
   * @returns The screen.
   */
  waitForScreen(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the command to end and gives its exit code. */
  exitCode(timeoutMs?: number): Promise<number>;
}

async function tmux(socket: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-S", socket, "-f", "/dev/null", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts `bftp ARGS` in a new terminal.
 *
 * @param args The command line after `bftp`.
 * @param options The terminal's size and working folder.
 * @returns The terminal.
 */
export async function startTerminal(
  args: string[],
  options: TerminalOptions = {},
): Promise<Terminal> {
  // The tmux server's socket and the exit code live in a folder of the test's own.
  const tmp = await tempDir({ prefix: "bftp-term-" });
  const dir = tmp.path;
  const socket = join(dir, "tmux.sock");
  const status = join(dir, "status");
  await Deno.writeTextFile(status, "");
  // Never the user's own home: what the command keeps there stays in the test.
  const home = options.home ?? join(dir, "home");
  if (options.home === undefined) await Deno.mkdir(home);
  const redirect = options.stdoutFile === undefined ? "" : ` > ${shellQuote(options.stdoutFile)}`;
  const command = [BFTP_BIN, ...args].map(shellQuote).join(" ") + redirect;
  // The exit code goes to a file; the pane stays open after it so the screen can still be read.
  // The wrapper outlives a Ctrl-C meant for the command (a handled signal is not inherited).
  const script = `trap : INT; ${command}; echo $? > ${shellQuote(status)}; exec sleep 600`;
  await tmux(socket, [
    "new-session",
    "-d",
    "-x",
    String(options.width ?? 100),
    "-y",
    String(options.height ?? 30),
    ...(options.cwd === undefined ? [] : ["-c", options.cwd]),
    "-e",
    "NO_COLOR=1",
    "-e",
    `HOME=${home}`,
    "sh",
    "-c",
    script,
  ]);
  const screen = async () =>
    (await tmux(socket, ["capture-pane", "-p", "-t", "0"])).replace(/[ \t]+$/gm, "").trimEnd();
  const dispose = async () => {
    try {
      await tmux(socket, ["kill-server"]);
    } catch {
      // Already gone.
    }
    await tmp[Symbol.asyncDispose]();
  };
  return {
    type: async (text) => void await tmux(socket, ["send-keys", "-t", "0", "-l", "--", text]),
    press: async (...keys) => void await tmux(socket, ["send-keys", "-t", "0", ...keys]),
    screen,
    async cursor() {
      const [column, row] =
        (await tmux(socket, ["display-message", "-p", "-t", "0", "#{cursor_x} #{cursor_y}"]))
          .trim().split(" ").map(Number);
      return { column: column!, row: row! };
    },
    async waitForScreen(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const text = await screen();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) {
          throw new Error(`Timed out waiting for ${pattern} on the screen:\n${text}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async exitCode(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const text = (await Deno.readTextFile(status)).trim();
        if (text !== "") return Number(text);
        if (Date.now() > deadline) {
          throw new Error(`Timed out waiting for the command to end:\n${await screen()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    [Symbol.asyncDispose]: dispose,
  };
}

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
  /**
   * Keys typed into the terminal (tmux `send-keys` names, e.g. `C-c`): once
   * the screen matches `when` (a loaded machine may take seconds to start
   * the command), then after `afterMs`.
   */
  type?: { afterMs: number; keys: string; when?: RegExp };
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
  /** The screen's lines, trailing blank lines removed. */
  lines: string[];
}

/**
 * Runs `bftp ...args` in a fresh terminal, optionally types keys into it,
 * and returns the screen once it exits.
 *
 * @param args The command line after `bftp`.
 * @param options Size, working folder, keys, time limit.
 * @returns The exit code and the screen's lines.
 */
export async function runInTerminal(
  args: string[],
  options: RunInTerminalOptions = {},
): Promise<TerminalResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  await using terminal = await startTerminal(args, {
    width: options.columns ?? 80,
    height: options.rows ?? 24,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.stdoutFile === undefined ? {} : { stdoutFile: options.stdoutFile }),
  });
  if (options.type !== undefined) {
    if (options.type.when) await terminal.waitForScreen(options.type.when, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, options.type!.afterMs));
    await terminal.press(options.type.keys);
  }
  const code = await terminal.exitCode(timeoutMs);
  return { code, lines: (await terminal.screen()).split("\n") };
}
