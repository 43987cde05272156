/**
 * What a subcommand is: a name, a one-line summary for `bftp --help`, its
 * own help text, and a `run` that returns the exit code.
 *
 * @module
 */

import type { CliIo } from "./io.ts";

/** A bftp subcommand. */
export interface Command {
  /** The subcommand's name, as typed: `get`, `serve` */
  name: string;
  /** The full text of `bftp NAME --help`: usage line, flags, examples. */
  help: string;
  /**
   * Runs the command. Errors are thrown (as {@linkcode BftpError}s), not
   * printed; `main.ts` prints them and exits with their code.
   *
   * @param args The arguments after the subcommand name.
   * @param io The console.
   * @returns The exit code on success (normally 0).
   */
  run(args: string[], io: CliIo): Promise<number>;
}
