/**
 * The registry of subcommands, in the order `bftp --help` lists them, and
 * the top-level help text. Each subcommand lives in its own file here.
 *
 * @example
 * ```ts
 * import { findCommand } from "./mod.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(findCommand("nonexistent") === undefined);
 * ```
 *
 * @module
 */

import type { Command } from "./command.ts";
import { serveCommand } from "./serve.ts";
import { getCommand } from "./get.ts";
import { putCommand } from "./put.ts";
import { lsCommand } from "./ls.ts";
import { statCommand } from "./stat.ts";
import { hashCommand } from "./hash.ts";
import { rmCommand } from "./rm.ts";
import { mkdirCommand } from "./mkdir.ts";
import { rmdirCommand } from "./rmdir.ts";
import { mvCommand } from "./mv.ts";
import { shellCommand } from "./shell.ts";
import { sendCommand } from "./send.ts";
import { recvCommand } from "./recv.ts";
import { httpGetCommand } from "./http_get.ts";
import { echoServerCommand } from "./echo_server.ts";
import { echoCommand } from "./echo.ts";
import { checkCommand } from "./check.ts";

export type { Command } from "./command.ts";
export type { CliIo } from "./io.ts";

/** Every subcommand, in help order. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  getCommand,
  putCommand,
  lsCommand,
  statCommand,
  hashCommand,
  rmCommand,
  mkdirCommand,
  rmdirCommand,
  mvCommand,
  shellCommand,
  sendCommand,
  recvCommand,
  httpGetCommand,
  echoServerCommand,
  echoCommand,
  checkCommand,
];

/**
 * Finds a subcommand by name.
 *
 * @param name What the user typed.
 * @returns The command, or `undefined`.
 *
 * @example
 * ```ts
 * import { findCommand } from "./mod.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(findCommand("no-such-command"), undefined);
 * ```
 */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/**
 * The text of `bftp --help`.
 *
 * @returns Usage, every subcommand with its summary, and where to read more.
 *
 * @example
 * ```ts
 * import { mainHelp } from "./mod.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(mainHelp().startsWith("bftp "));
 * ```
 */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 8);
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "bftp - move files over TCP with BFTP, pipes, HTTP and benchmarks",
    "",
    "Usage: bftp COMMAND [ARGS...]",
    "       bftp COMMAND --help",
    "       bftp --version",
    "",
    "Commands:",
    ...lines,
    "",
    "URLs look like bftp://HOST[:PORT]/PATH (default port 2121); bftp://H1:P1,H2:P2/PATH",
    "lists several servers of one volume, tried in turn (see --head in a command's help).",
    "Exit codes: 0 ok, 2 usage, 3 local file, 4 connection, 5 protocol, 6 integrity,",
    "7 timeout, 8 TLS, 9 changed since a resume began, 10 not found, 11 exists,",
    "12 refused path, 13 wrong type, 14 not empty, 15 denied, 16 busy, 17 no space,",
    "18 server error, 19 check threshold crossed, 22 HTTP error status (4xx, 5xx),",
    "130 interrupted, 1 internal error.",
  ].join("\n");
}
