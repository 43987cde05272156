/**
 * The local side of `bftp shell`, as sftp has it: `lcd` and `lpwd` change
 * and show the local folder that local paths are relative to, `lls` lists
 * it, `lmkdir` makes a folder there, and `!COMMAND` runs a command with
 * `sh -c`.
 *
 * @module
 */

import { join } from "../local_path.ts";
import { LocalIoError, localIoError, UsageError } from "../errors.ts";
import type { Entry } from "../protocol/messages.ts";
import { parseFlags } from "./args.ts";
import { formatListing } from "./format.ts";
import { type CliIo, writeLine } from "./io.ts";
import { exactly, LISTING_FLAGS, type ShellCommand } from "./shell_command.ts";

/**
 * Lists a local folder as entries (links are not followed); a file lists as itself.
 *
 * @param path The folder.
 * @returns Its entries, sorted by name.
 *
 * @example
 * ```ts
 * import { listLocal } from "./shell_local.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok((await listLocal("/")).some((e) => e.name === "tmp"));
 * ```
 */
export async function listLocal(path: string): Promise<Entry[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    throw localIoError("list", path, e);
  }
  if (!info.isDirectory) return [toEntry(path, info)];
  const entries: Entry[] = [];
  try {
    for await (const d of Deno.readDir(path)) {
      entries.push(toEntry(d.name, await Deno.lstat(join(path, d.name))));
    }
  } catch (e) {
    throw localIoError("list", path, e);
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function toEntry(name: string, info: Deno.FileInfo): Entry {
  return {
    name,
    type: info.isDirectory ? "dir" : info.isSymlink ? "link" : info.isFile ? "file" : "other",
    size: info.isDirectory ? 0 : info.size,
    mtime: info.mtime?.getTime() ?? null,
    mode: info.mode === null ? null : info.mode & 0o7777,
  };
}

/** `lcd [PATH]`: changes the local folder (default: the home folder). */
export const lcd: ShellCommand = {
  name: "lcd",
  aliases: ["lchdir"],
  usage: "lcd [PATH]",
  summary: "change the local folder (default: your home folder)",
  run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 0, 1, "PATH");
    const path = positionals[0] ?? ctx.io.env("HOME") ?? "/";
    try {
      Deno.chdir(path);
    } catch (e) {
      throw localIoError("change to", path, e);
    }
    return Promise.resolve();
  },
};

/** `lpwd`: prints the local folder. */
export const lpwd: ShellCommand = {
  name: "lpwd",
  aliases: [],
  usage: "lpwd",
  summary: "print the local folder",
  async run(ctx, args) {
    const { positionals } = parseFlags(args, {});
    exactly(positionals, 0, 0, "PATH");
    await writeLine(ctx.io.stdout, Deno.cwd());
  },
};

/** `lls [-l] [PATH]`: lists a local folder. */
export const lls: ShellCommand = {
  name: "lls",
  aliases: [],
  usage: "lls [-l] [PATH]",
  summary: "list a local folder (default: the current one); -l long form",
  async run(ctx, args) {
    const { values, positionals } = parseFlags(args, {
      ...LISTING_FLAGS,
    });
    exactly(positionals, 0, 1, "PATH");
    const text = formatListing(await listLocal(positionals[0] ?? "."), values.long ?? false);
    if (text !== "") await writeLine(ctx.io.stdout, text);
  },
};

/**
 * Runs `!COMMAND` with `sh -c` in the local folder, on the shell's console
 * (stdin only when it is a terminal: from a pipe it carries the script).
 *
 * @param io The console.
 * @param command What follows the `!`.
 * @throws {UsageError} When there is no command (an interactive sub-shell is not started).
 *
 * @example
 * ```ts ignore
 * import { runLocalCommand } from "./shell_local.ts";
 *
 * await runLocalCommand(io, "ls -la");
 * ```
 */
export async function runLocalCommand(io: CliIo, command: string): Promise<void> {
  if (command.trim() === "") {
    throw new UsageError('Give a command after "!" (e.g. "!ls"): bftp starts no sub-shell');
  }
  let status: Deno.CommandStatus;
  try {
    status = await new Deno.Command("sh", {
      args: ["-c", command],
      stdin: io.stdinIsTerminal ? "inherit" : "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
  } catch (e) {
    throw localIoError("run", "sh", e);
  }
  if (!status.success) {
    throw new LocalIoError(`The command ended with exit code ${status.code}`);
  }
}

/** `lmkdir [-p] PATH...`: makes local folders, as sftp's `lmkdir`. */
export const lmkdir: ShellCommand = {
  name: "lmkdir",
  aliases: [],
  usage: "lmkdir [-p] PATH...",
  summary: "make local folders; -p makes parents and accepts existing ones",
  async run(_ctx, args) {
    const { values, positionals } = parseFlags(args, {
      parents: { type: "boolean", short: "p" },
    });
    exactly(positionals, 1, Infinity, "PATH");
    for (const path of positionals) {
      try {
        await Deno.mkdir(path, { recursive: values.parents ?? false });
      } catch (e) {
        throw localIoError("create folder", path, e);
      }
    }
  },
};
