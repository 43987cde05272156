/**
 * The registry of subcommands, in the order `bftp --help` lists them, and
 * the top-level help text. Each subcommand lives in its own file here.
 *
 * @example
 * ```ts
 * import { findCommand } from "./mod.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(await findCommand("nonexistent") === undefined);
 * ```
 *
 * @module
 */

import type { Command } from "./command.ts";
import { importLater } from "../import_later.ts";
import { helpRows } from "./text_width.ts";

export type { Command } from "./command.ts";
export type { CliIo } from "./io.ts";

/**
 * A subcommand as `bftp --help` lists it; its module is loaded only when it
 * runs, so a command starts without compiling every other one (a `bftp
 * stat` took 0.44 s with every command loaded, 0.25 s with its own).
 */
export interface CommandEntry {
  /** The subcommand's name, as typed: `get`, `serve`. */
  name: string;
  /** One line for `bftp --help`. */
  summary: string;
  /** Loads the command. */
  load(): Promise<Command>;
}

/** Every subcommand, in help order. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "serve",
    summary: "serve a folder over BFTP (bftps:// with --tls-cert)",
    load: async () =>
      (await importLater<typeof import("./serve.ts")>("./serve.ts", import.meta.url))
        .serveCommand,
  },
  {
    name: "get",
    summary: "download files or a folder (-r); DEST - is stdout",
    load: async () =>
      (await importLater<typeof import("./get.ts")>("./get.ts", import.meta.url))
        .getCommand,
  },
  {
    name: "put",
    summary: "upload files, stdin (-) or a folder (-r)",
    load: async () =>
      (await importLater<typeof import("./put.ts")>("./put.ts", import.meta.url))
        .putCommand,
  },
  {
    name: "sync",
    summary: "make a folder match another, either way, sending only what changed",
    load: async () =>
      (await importLater<typeof import("./sync.ts")>("./sync.ts", import.meta.url))
        .syncCommand,
  },
  {
    name: "ls",
    summary: "list a remote folder (-l long, --json)",
    load: async () =>
      (await importLater<typeof import("./ls.ts")>("./ls.ts", import.meta.url))
        .lsCommand,
  },
  {
    name: "stat",
    summary: "describe a remote file or folder (--json)",
    load: async () =>
      (await importLater<typeof import("./stat.ts")>("./stat.ts", import.meta.url))
        .statCommand,
  },
  {
    name: "hash",
    summary: "print a remote file's SHA-256 (sha256sum format)",
    load: async () =>
      (await importLater<typeof import("./hash.ts")>("./hash.ts", import.meta.url))
        .hashCommand,
  },
  {
    name: "rm",
    summary: "remove remote files (-r: folders with everything in them)",
    load: async () =>
      (await importLater<typeof import("./rm.ts")>("./rm.ts", import.meta.url))
        .rmCommand,
  },
  {
    name: "mkdir",
    summary: "make a remote folder (-p with parents)",
    load: async () =>
      (await importLater<typeof import("./mkdir.ts")>("./mkdir.ts", import.meta.url))
        .mkdirCommand,
  },
  {
    name: "rmdir",
    summary: "remove empty remote folders",
    load: async () =>
      (await importLater<typeof import("./rmdir.ts")>("./rmdir.ts", import.meta.url))
        .rmdirCommand,
  },
  {
    name: "mv",
    summary: "rename or move a remote file or folder",
    load: async () =>
      (await importLater<typeof import("./mv.ts")>("./mv.ts", import.meta.url))
        .mvCommand,
  },
  {
    name: "shell",
    summary: "one session, many commands (interactive, or a script on stdin)",
    load: async () =>
      (await importLater<typeof import("./shell.ts")>("./shell.ts", import.meta.url))
        .shellCommand,
  },
  {
    name: "send",
    summary: "send a file or stdin over a one-shot TCP pipe (to recv)",
    load: async () =>
      (await importLater<typeof import("./send.ts")>("./send.ts", import.meta.url))
        .sendCommand,
  },
  {
    name: "recv",
    summary: "receive from send over a one-shot TCP pipe, to a file or stdout",
    load: async () =>
      (await importLater<typeof import("./recv.ts")>("./recv.ts", import.meta.url))
        .recvCommand,
  },
  {
    name: "http-get",
    summary: "download an http:// or https:// URL (like a simple curl -o)",
    load: async () =>
      (await importLater<typeof import("./http_get.ts")>("./http_get.ts", import.meta.url))
        .httpGetCommand,
  },
  {
    name: "echo-server",
    summary: "run a TCP echo server served by N worker threads",
    load: async () =>
      (await importLater<typeof import("./echo_server.ts")>("./echo_server.ts", import.meta.url))
        .echoServerCommand,
  },
  {
    name: "echo",
    summary: "send messages to an echo server, or load-test it",
    load: async () =>
      (await importLater<typeof import("./echo.ts")>("./echo.ts", import.meta.url))
        .echoCommand,
  },
  {
    name: "check",
    summary: "quality check: many round trips, identical copies, speed, CPU, memory",
    load: async () =>
      (await importLater<typeof import("./check.ts")>("./check.ts", import.meta.url))
        .checkCommand,
  },
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
 * deepEqual(await findCommand("no-such-command"), undefined);
 * deepEqual((await findCommand("ls"))?.name, "ls");
 * ```
 */
export async function findCommand(name: string): Promise<Command | undefined> {
  return await COMMANDS.find((c) => c.name === name)?.load();
}

/**
 * The text of `bftp --help`.
 *
 * @returns Usage, every subcommand with its summary (a long one wrapped under
 *   its column, within 80 columns), and where to read more.
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
  const lines = helpRows(COMMANDS.map((c) => [c.name, c.summary]), 8);
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
    "URLs look like bftp://HOST[:PORT]/PATH (default port 2121);",
    "bftp://H1:P1,H2:P2/PATH lists several servers of one volume, tried in turn",
    "(see --head in a command's help).",
    "Exit codes: 0 ok, 2 usage, 3 local file, 4 connection, 5 protocol, 6 integrity,",
    "7 timeout, 8 TLS, 9 changed since a resume began, 10 not found, 11 exists,",
    "12 refused path, 13 wrong type, 14 not empty, 15 denied, 16 busy, 17 no space,",
    "18 server error, 19 check threshold crossed, 22 HTTP error status (4xx, 5xx),",
    "130 interrupted, 1 internal error.",
  ].join("\n");
}
