/**
 * The commands of `bftp shell`: each runs one request (or a few) on the
 * shell's one session and prints as the matching one-shot command does.
 * Remote paths are relative to the session's current folder on the server;
 * local paths to the folder bftp was started in.
 *
 * @module
 */

import { posix } from "../local_path.ts";
import { RemoteError, UsageError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import { expandRemoteGlob } from "../client/glob.ts";
import { removePath } from "../client/remove_tree.ts";
import { parseFlags } from "./args.ts";
import { failureNotice, skipNotice } from "./session.ts";
import { formatListing, formatStat, jsonEntry, terminalJson, visible } from "./format.ts";
import { writeLine } from "./io.ts";
import { DEFAULT_WINDOW } from "../client/window.ts";
import { eachPath, exactly, expandAll, LISTING_FLAGS, type ShellCommand } from "./shell_command.ts";
import { checkGetDestination, checkSeveralInto, type GetRules, getToLocal } from "./get_rules.ts";
import { putFromLocal, type PutRules, putSourceKind } from "./put_rules.ts";
import { expandLocalGlob } from "./local_paths.ts";
import { lcd, lls, lmkdir, lpwd } from "./shell_local.ts";
import { helpRows } from "./text_width.ts";
import { chmod } from "./shell_chmod.ts";
import { shellSync } from "./sync.ts";

const ls: ShellCommand = {
  name: "ls",
  aliases: ["dir"],
  usage: "ls [-l] [--json] [PATH]",
  summary: "list a folder (default: the current one); -l long form",
  async run(ctx, args) {
    const { values, positionals } = parseFlags(args, {
      ...LISTING_FLAGS,
      json: { type: "boolean" },
    });
    exactly(positionals, 0, 1, "PATH");
    const path = positionals[0] ?? ".";
    let entries: Entry[];
    try {
      entries = await ctx.client.list(path);
    } catch (e) {
      if (!(e instanceof RemoteError && e.code === "NOT_DIR")) throw e;
      entries = [await ctx.client.stat(path)];
    }
    // As `bftp ls --json` gives it: the same fields, nothing a terminal would act on.
    const text = values.json
      ? terminalJson(entries.map(jsonEntry))
      : formatListing(entries, values.long ?? false);
    if (text !== "") await writeLine(ctx.io.stdout, text);
  },
};

const cd: ShellCommand = {
  name: "cd",
  aliases: ["chdir"],
  usage: "cd [PATH]",
  summary: "change the current folder on the server (default: /)",
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 0, 1, "PATH");
    ctx.cwd = await ctx.client.cd(positionals[0] ?? "/");
  },
};

const pwd: ShellCommand = {
  name: "pwd",
  aliases: [],
  usage: "pwd",
  summary: "print the current folder on the server",
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 0, 0, "");
    ctx.cwd = await ctx.client.pwd();
    await writeLine(ctx.io.stdout, visible(ctx.cwd));
  },
};

const get: ShellCommand = {
  name: "get",
  // sftp's mget is get with wildcards, which get takes.
  aliases: ["mget"],
  usage: "get [-r] [-p] [-a] REMOTE [LOCAL|-]",
  summary:
    "download a file (or a folder with -r); LOCAL - is stdout; -p keeps times and modes; -a resumes",
  async run(ctx, args) {
    const { values, positionals } = parseFlags(args, {
      recursive: { type: "boolean", short: "r" },
      preserve: { type: "boolean", short: "p" },
      resume: { type: "boolean", short: "a" },
    });
    exactly(positionals, 1, 2, "REMOTE");
    const [pattern, local] = positionals as [string, string | undefined];
    const rules: GetRules = {
      recursive: values.recursive ?? false,
      recursiveFlag: "get -r",
      preserve: values.preserve ?? false,
      resume: values.resume ?? false,
      progress: ctx.progress,
      treeProgress: ctx.treeProgress,
      onSkip: skipNotice(ctx.io),
      onFailure: failureNotice(ctx.io),
      written: new Set<string>(),
    };
    checkGetDestination(local, rules);
    const remotes = await expandRemoteGlob(ctx.client, pattern);
    await checkSeveralInto(remotes.length, local, `"${pattern}" names several files`);
    // Pipelined unless a progress line per file is shown or the bytes go to stdout.
    const shown = rules.progress !== undefined || rules.treeProgress !== undefined;
    return await eachPath(ctx, remotes, async (remote) => {
      if (local === "-") await ctx.client.get(remote, ctx.io.stdout);
      else await getToLocal(ctx.client, remote, local, rules);
    }, { window: local === "-" || shown ? 1 : DEFAULT_WINDOW });
  },
};

const put: ShellCommand = {
  name: "put",
  aliases: ["mput"],
  usage: "put [-r] [-p] [-a] LOCAL [REMOTE]",
  summary:
    "upload a file (or a folder with -r); into REMOTE if a folder; -p keeps times and modes; -a resumes",
  async run(ctx, args) {
    const { values, positionals } = parseFlags(args, {
      recursive: { type: "boolean", short: "r" },
      preserve: { type: "boolean", short: "p" },
      resume: { type: "boolean", short: "a" },
    });
    exactly(positionals, 1, 2, "LOCAL");
    const [pattern, remote] = positionals as [string, string | undefined];
    if (pattern === "-") {
      throw new UsageError(
        'Cannot upload stdin from the shell: stdin carries the commands (use "bftp put - URL")',
      );
    }
    const rules: PutRules = {
      recursive: values.recursive ?? false,
      recursiveFlag: "put -r",
      preserve: values.preserve ?? false,
      resume: values.resume ?? false,
      progress: ctx.progress,
      treeProgress: ctx.treeProgress,
      onSkip: skipNotice(ctx.io),
      onFailure: failureNotice(ctx.io),
    };
    // Wildcards in LOCAL's last part, as sftp takes them: no shell has expanded them here.
    const locals = await expandLocalGlob(pattern, rules.onSkip);
    if (locals.length === 0) return;
    if (locals.length === 1) {
      const local = locals[0]!;
      return void await putFromLocal(
        ctx.client,
        local,
        await putSourceKind(local, rules),
        remote,
        rules,
      );
    }
    if (remote !== undefined && !remote.endsWith("/") && !(await ctx.client.isFolder(remote))) {
      throw new UsageError(
        `"${visible(remote)}" is not a folder on the server: "${pattern}" names several files`,
      );
    }
    // Pipelined into REMOTE (default: the current folder) unless a progress line per file is shown.
    const shown = rules.progress !== undefined || rules.treeProgress !== undefined;
    return await eachPath(ctx, locals, async (local) => {
      await putFromLocal(ctx.client, local, await putSourceKind(local, rules), remote ?? "", rules);
    }, { window: shown ? 1 : DEFAULT_WINDOW });
  },
};

/** `reget`, as sftp has it: `get -a`, a cut download continued. */
const reget: ShellCommand = {
  name: "reget",
  aliases: [],
  usage: "reget REMOTE [LOCAL]",
  summary: "get -a: continue a cut download from what arrived",
  run: (ctx, args) => get.run(ctx, ["--resume", ...args]),
};

/** `reput`, as sftp has it: `put -a`, a cut upload continued. */
const reput: ShellCommand = {
  name: "reput",
  aliases: [],
  usage: "reput LOCAL [REMOTE]",
  summary: "put -a: continue a cut upload from what the server kept",
  run: (ctx, args) => put.run(ctx, ["--resume", ...args]),
};

const rm: ShellCommand = {
  name: "rm",
  aliases: ["delete"],
  usage: "rm [-r] PATH...",
  summary: "remove files, or folders with everything in them with -r",
  async run(ctx, args) {
    const { values, positionals } = parseFlags(args, {
      recursive: { type: "boolean", short: "r" },
    });
    exactly(positionals, 1, Infinity, "PATH");
    const paths = await expandAll(ctx, positionals);
    return await eachPath(
      ctx,
      paths,
      (path) => removePath(ctx.client, path, values.recursive ?? false),
    );
  },
};

const mkdir: ShellCommand = {
  name: "mkdir",
  aliases: [],
  usage: "mkdir [-p] PATH...",
  summary: "make folders; -p makes parents and accepts existing ones",
  async run(ctx, args) {
    const { values, positionals } = parseFlags(args, {
      parents: { type: "boolean", short: "p" },
    });
    exactly(positionals, 1, Infinity, "PATH");
    // In order on the session: "mkdir a a/b" makes a before a/b.
    return await eachPath(
      ctx,
      positionals,
      (path) => ctx.client.mkdir(path, values.parents ?? false),
    );
  },
};

const rmdir: ShellCommand = {
  name: "rmdir",
  aliases: [],
  usage: "rmdir PATH...",
  summary: "remove empty folders",
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 1, Infinity, "PATH");
    return await eachPath(ctx, positionals, (path) => ctx.client.rmdir(path));
  },
};

const mv: ShellCommand = {
  name: "mv",
  aliases: ["rename"],
  usage: "mv FROM TO",
  summary: "rename or move; into TO if it is a folder",
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 2, 2, "FROM or TO");
    const [from, to] = positionals as [string, string];
    let target = to;
    if (to.endsWith("/") || (await ctx.client.isFolder(to))) {
      target = posix.join(to, posix.basename(from.replace(/\/+$/, "")));
    }
    await ctx.client.rename(from, target);
  },
};

const stat: ShellCommand = {
  name: "stat",
  aliases: [],
  usage: "stat [--json] PATH",
  summary: "describe a file or folder",
  async run(ctx, args) {
    const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
    exactly(positionals, 1, 1, "PATH");
    const path = positionals[0]!;
    const entry = await ctx.client.stat(path);
    await writeLine(
      ctx.io.stdout,
      values.json ? terminalJson(jsonEntry(entry)) : formatStat(path, entry),
    );
  },
};

const hash: ShellCommand = {
  name: "hash",
  aliases: [],
  usage: "hash PATH...",
  summary: 'print "SHA256  PATH" per file, as sha256sum does',
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 1, Infinity, "PATH");
    return await eachPath(ctx, positionals, (path) => ctx.client.hash(path), {
      finish: ({ sha256 }, path) => writeLine(ctx.io.stdout, `${sha256}  ${path}`),
    });
  },
};

const help: ShellCommand = {
  name: "help",
  aliases: ["?"],
  usage: "help [COMMAND]",
  summary: "list the commands, or describe one",
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 0, 1, "COMMAND");
    const topic = positionals[0];
    if (topic !== undefined) {
      const command = findShellCommand(topic);
      if (!command) throw new UsageError(`Unknown command "${topic}"`);
      await writeLine(ctx.io.stdout, shellCommandHelp(command));
      return;
    }
    await writeLine(ctx.io.stdout, shellCommandList());
  },
};

const quit: ShellCommand = {
  name: "quit",
  aliases: ["exit", "bye"],
  usage: "quit",
  summary: "end the session (so does end of input)",
  run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 0, 0, "");
    ctx.quit = true;
    return Promise.resolve();
  },
};

/** Every shell command, in `help` order. */
export const SHELL_COMMANDS: readonly ShellCommand[] = [
  ls,
  cd,
  pwd,
  get,
  put,
  reget,
  reput,
  shellSync,
  rm,
  mkdir,
  rmdir,
  mv,
  chmod,
  stat,
  hash,
  lcd,
  lpwd,
  lls,
  lmkdir,
  help,
  quit,
];

/**
 * The list `help` prints (and `bftp shell --help` too): one line per command.
 *
 * @returns `  USAGE  SUMMARY` lines (a long summary wrapped under its column,
 *   `helpRows`), without a trailing newline.
 *
 * @example
 * ```ts
 * import { shellCommandList } from "./shell_commands.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(shellCommandList().includes("  lcd [PATH]"));
 * ```
 */
export function shellCommandList(): string {
  const rows = [
    ...SHELL_COMMANDS.map((c) => [c.usage, c.summary] as const),
    ["!COMMAND", "run COMMAND on this machine with sh -c"] as const,
  ];
  return helpRows(rows).join("\n");
}

/**
 * Finds a shell command by name or alias.
 *
 * @param name What the user typed.
 * @returns The command, or `undefined`.
 *
 * @example
 * ```ts
 * import { findShellCommand } from "./shell_commands.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(findShellCommand("exit")?.name, "quit");
 * deepEqual(findShellCommand("nope"), undefined);
 * ```
 */
export function findShellCommand(name: string): ShellCommand | undefined {
  return SHELL_COMMANDS.find((c) => c.name === name || c.aliases.includes(name));
}

/**
 * The text of `help COMMAND` (and of `COMMAND --help`).
 *
 * @param command The command.
 * @returns Its usage line, summary and aliases.
 *
 * @example
 * ```ts
 * import { findShellCommand, shellCommandHelp } from "./shell_commands.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(shellCommandHelp(findShellCommand("get")!).startsWith("Usage: get"));
 * ```
 */
export function shellCommandHelp(command: ShellCommand): string {
  const lines = [`Usage: ${command.usage}`, "", `${command.summary}.`];
  if (command.aliases.length > 0) lines.push(`Also: ${command.aliases.join(", ")}.`);
  return lines.join("\n");
}
