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
 *
 * @param ctx The shell's session and console (its stderr and interrupt signal).
 * @param paths The paths, in order.
 * @param run Works on one path.
 * @param options The window, and what to do with each result in order.
 * @returns 0, or the exit code of the last path that failed.
 *
 * @example
 * ```ts
 * import { eachPath, type ShellContext } from "./shell_command.ts";
 * import { RemoteError } from "../errors.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * let err = "";
 * const stderr = {
 *   write: (p: Uint8Array) => (err += new TextDecoder().decode(p), Promise.resolve(p.byteLength)),
 * };
 * const ctx = { io: { stderr }, signal: new AbortController().signal } as ShellContext;
 * const sizes: Record<string, number> = { "/a.txt": 2, "/b.txt": 5 };
 * const seen: string[] = [];
 * const code = await eachPath(ctx, ["/a.txt", "/gone", "/b.txt"], async (path) => {
 *   if (!(path in sizes)) throw new RemoteError("NOT_FOUND", `"${path}" not found`);
 *   return sizes[path]!;
 * }, { finish: (n, path) => Promise.resolve(void seen.push(`${path} ${n}`)) });
 * deepEqual([code, seen, err], [10, ["/a.txt 2", "/b.txt 5"], 'bftp: "/gone" not found\n']);
 * ```
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

/**
 * Every match of each pattern, in order (wildcards in the last part), on
 * the shell's session; a pattern that matches nothing stays as it is, so
 * that using it reports "not found".
 *
 * @param ctx The shell's session.
 * @param patterns The paths as typed, absolute or relative to the current folder.
 * @returns The paths they stand for.
 *
 * @example
 * ```ts
 * import { expandAll, type ShellContext } from "./shell_command.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * for (const name of ["a.log", "b.log", "c.txt"]) await Deno.writeTextFile(`${dir}/${name}`, "x");
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const ctx = { client } as ShellContext;
 * const paths = await expandAll(ctx, ["*.log", "/c.txt", "/*.gz"]);
 * deepEqual(paths, ["a.log", "b.log", "/c.txt", "/*.gz"]);
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function expandAll(ctx: ShellContext, patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of patterns) out.push(...await expandRemoteGlob(ctx.client, pattern));
  return out;
}

/**
 * Checks a command's argument count.
 *
 * @param args The words after the command name.
 * @param min The fewest it takes.
 * @param max The most it takes.
 * @param what What is missing when there are too few, for the message (`REMOTE`).
 * @throws {UsageError} When there are fewer than `min` or more than `max`.
 *
 * @example
 * ```ts
 * import { exactly } from "./shell_command.ts";
 * import { UsageError } from "../errors.ts";
 * import { throws } from "node:assert/strict";
 *
 * exactly(["a.txt"], 1, 2, "REMOTE");
 * throws(() => exactly([], 1, 2, "REMOTE"), UsageError, "Missing REMOTE");
 * throws(() => exactly(["a", "b", "c"], 1, 2, "REMOTE"), /Too many arguments: "c"/);
 * ```
 */
export function exactly(args: string[], min: number, max: number, what: string): void {
  if (args.length < min) throw new UsageError(`Missing ${what}`);
  if (args.length > max) throw new UsageError(`Too many arguments: "${args[max]}"`);
}

/**
 * The flags of `ls` and `lls`: `-l`, the long form, and sftp's `-a` (names
 * starting with a dot: always shown here) and `-1` (one a line: always so).
 */
export const LISTING_FLAGS = {
  long: { type: "boolean", short: "l" },
  all: { type: "boolean", short: "a" },
  one: { type: "boolean", short: "1" },
} as const;
