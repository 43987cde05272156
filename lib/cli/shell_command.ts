/**
 * What a command of `bftp shell` is and works with (the session, the
 * console, the current folder), and the helpers the commands share: several
 * paths pipelined, wildcards expanded, argument counts checked.
 *
 * @module
 */

import type { BftpClient, TransferOptions } from "../client/client.ts";
import { expandRemoteGlob } from "../client/glob.ts";
import { DEFAULT_WINDOW } from "../client/window.ts";
import { UsageError } from "../errors.ts";
import type { CliIo } from "./io.ts";
import { eachSource, type EachSourceOptions } from "./sources.ts";
import type { TreeProgressStart } from "./tree_progress.ts";

/** What a shell command works with. */
export interface ShellContext {
  /** The shell's one session. */
  client: BftpClient;
  /** The console. */
  io: CliIo;
  /** Makes progress callbacks per file, or `undefined` for none. */
  progress: ((label: string, size: number | null) => TransferOptions) | undefined;
  /** Makes one progress line per folder tree, or `undefined` for none. */
  treeProgress: TreeProgressStart | undefined;
  /** The session's current folder on the server, as last reported by it. */
  cwd: string;
  /** Set by `quit` and `exit` to end the shell after the command. */
  quit: boolean;
  /**
   * Aborted when the command in progress is interrupted (Ctrl-C): a command
   * of several files then stops reporting the ones that fail.
   */
  signal: AbortSignal;
}

/** One command of the shell. */
export interface ShellCommand {
  /** The name, as typed. */
  name: string;
  /** Other names it answers to. */
  aliases: readonly string[];
  /** The usage line, e.g. `get [-r] REMOTE [LOCAL|-]`. */
  usage: string;
  /** One line for `help`. */
  summary: string;
  /**
   * Runs the command. Errors are thrown, not printed; a command of several
   * files reports each one that fails and returns the last one's exit code.
   *
   * @param ctx The shell's session and console.
   * @param args The words after the command name.
   * @returns The exit code when failures were reported, else nothing (or 0).
   */
  run(ctx: ShellContext, args: string[]): Promise<number | void>;
}

/**
 * Runs `run` for several paths of one command on the shell's session,
 * pipelined (`DEFAULT_WINDOW` at once, unless `window` says otherwise), as
 * the one-shot commands do: one path fails as usual; of several, each that
 * fails is reported and the others go on; `finish` takes the results in order.
 */
export function eachPath<R>(
  ctx: ShellContext,
  paths: readonly string[],
  run: (path: string) => Promise<R>,
  options: EachSourceOptions<string, R> = {},
): Promise<number> {
  const io = { signal: ctx.signal, stderr: ctx.io.stderr };
  return eachSource(paths, io, run, { window: DEFAULT_WINDOW, ...options });
}

/** Every match of each pattern, in order (wildcards in the last part). */
export async function expandAll(ctx: ShellContext, patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of patterns) out.push(...await expandRemoteGlob(ctx.client, pattern));
  return out;
}

export function exactly(args: string[], min: number, max: number, what: string): void {
  if (args.length < min) throw new UsageError(`Missing ${what}`);
  if (args.length > max) throw new UsageError(`Too many arguments: "${args[max]}"`);
}
