/**
 * `bftp sync SRC DST`: makes DST's folder match SRC's, sending only what
 * changed, either way (one end a `bftp://` URL, the other a local folder);
 * and the shell's `sync LOCAL REMOTE`. The work is `sync_rules.ts`'s.
 *
 * @module
 */

import { BftpError, UsageError } from "../errors.ts";
import { type FilterRule, PathFilter, readExcludeFrom } from "../sync/filter.ts";
import { type ParsedFlags, parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { QUIET_FLAG, RETRY_FLAG, retryFlag } from "./common_flags.ts";
import type { CliIo } from "./io.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP } from "./session.ts";
import type { ShellCommand } from "./shell_command.ts";
import { isBftpUrl } from "../client/url.ts";
import { SessionPool } from "./sources.ts";
import { type SyncEnds, type SyncRules, syncTrees } from "./sync_rules.ts";
import { treeProgressFor } from "./tree_progress.ts";

/** The flags of a sync, in the command and in the shell alike. */
const SYNC_FLAGS = {
  "dry-run": { type: "boolean", short: "n" },
  delete: { type: "boolean" },
  checksum: { type: "boolean", short: "c" },
  update: { type: "boolean", short: "u" },
  "ignore-existing": { type: "boolean" },
  "whole-file": { type: "boolean", short: "W" },
  exclude: { type: "string", multiple: true },
  include: { type: "string", multiple: true },
  "exclude-from": { type: "string", multiple: true },
  json: { type: "boolean" },
  ...QUIET_FLAG,
} as const;

/** The help lines of {@linkcode SYNC_FLAGS}. */
const SYNC_FLAGS_HELP = `  -n, --dry-run       list what would change, and change nothing
  --delete            remove what DST has and SRC lacks (only inside DST's
                      folder, never the folder itself); without it nothing is
                      removed
  -c, --checksum      compare files of one size by content (SHA-256; the
                      server's hash cache keeps this cheap), not by
                      modification time
  -u, --update        leave alone a file DST has with a later modification time
                      (as rsync -u)
  --ignore-existing   leave alone every file DST has: send only new ones
  -W, --whole-file    send a changed file whole, never only its changed blocks
  --exclude GLOB      leave out the paths GLOB matches: neither sent nor deleted
  --include GLOB      take the paths GLOB matches (the first matching rule
                      decides)
  --exclude-from FILE read rules from FILE, one a line ("+ GLOB" includes)
  --json              print the result (or with -n the plan) as JSON on stdout
  -q, --quiet         no line per change, no summary, no progress line`;

/** The connection flags, with the body checksum renamed (`-c` is the content check here). */
const { checksum: _bodyChecksum, ...CONNECTION_WITHOUT_CHECKSUM } = CONNECTION_FLAGS;

const HELP = `Usage: bftp sync [options] SRC DST

Makes the folder DST match the folder SRC, sending only what changed: a file
goes when DST lacks it or it differs in size, modification time or permission
bits (rsync's quick check). Times and modes are kept, so a second sync at once
sends nothing. One of SRC and DST is a bftp:// URL, the other a local folder;
DST becomes a copy of SRC (not SRC inside DST; a trailing "/" changes nothing),
and is created if missing. Each file is verified and lands atomically: a cut
sync leaves every file old or new, and running it again finishes the job.
Links, FIFOs and devices are skipped with a message. A file that fails is
reported and the others go on; the exit code is then that of the last failure.
A full disk on either side stops the sync (told once, the files not yet tried
counted), with its exit code: 3 here, 17 on the server.

Each change is a line on stdout ("+ new", "* changed", "- deleted", a folder
with a trailing "/"), then a summary line; see docs/SYNC.md.

Options:
${SYNC_FLAGS_HELP}
  --body-checksum NAME check file bodies with only this checksum: xxh3-128 (the
                      default) or sha256 (--checksum of the other commands)
  --retry N           run the sync again, up to N times, after a passing failure
                      (the connection lost or refused, a stall, a busy server),
                      waiting 1 s, then 2, 4...; only what is still missing goes

${CONNECTION_HELP.replace(/\n {2}--checksum NAME[^\n]*\n[^\n]*\n/, "\n")}

Examples:
  bftp sync ./site bftp://127.0.0.1:2121/site
  bftp sync bftp://127.0.0.1:2121/photos ./photos
  bftp sync -n --delete ./site bftp://127.0.0.1:2121/site
  bftp sync --exclude '*.tmp' --exclude .git/ ./src bftp://127.0.0.1:2121/src`;

/**
 * The filter from the rules given, in command-line order (an
 * `--exclude-from` file's rules take its place).
 */
async function filterFrom(order: ParsedFlags["order"]): Promise<PathFilter | undefined> {
  const rules: FilterRule[] = [];
  for (const { name, value } of order) {
    if (value === undefined) continue;
    if (name === "exclude" || name === "include") rules.push({ kind: name, pattern: value });
    if (name === "exclude-from") rules.push(...await readExcludeFrom(value));
  }
  const filter = PathFilter.from(rules);
  return filter.empty ? undefined : filter;
}

/** The rules of a sync from its parsed flags. */
async function rulesFrom(
  parsed: ParsedFlags<typeof SYNC_FLAGS>,
  treeProgress: SyncRules["treeProgress"],
): Promise<SyncRules> {
  const { values } = parsed;
  return {
    dryRun: values["dry-run"] ?? false,
    deleting: values.delete ?? false,
    checksum: values.checksum ?? false,
    update: values.update ?? false,
    ignoreExisting: values["ignore-existing"] ?? false,
    wholeFile: values["whole-file"] ?? false,
    quiet: values.quiet ?? false,
    json: values.json ?? false,
    filter: await filterFrom(parsed.order),
    treeProgress,
  };
}

/** The `sync` subcommand. */
export const syncCommand: Command = {
  name: "sync",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const parsed = parseFlags(args, {
      ...CONNECTION_WITHOUT_CHECKSUM,
      ...SYNC_FLAGS,
      ...RETRY_FLAG,
      "body-checksum": { type: "string" },
    });
    const { values, positionals } = parsed;
    if (positionals.length !== 2) {
      throw new UsageError(
        positionals.length < 2 ? "Missing SRC or DST" : "Give one SRC and one DST",
      );
    }
    const [src, dst] = positionals as [string, string];
    if (isBftpUrl(src) === isBftpUrl(dst)) {
      throw new UsageError("One of SRC and DST must be a bftp:// URL, the other a local folder");
    }
    const rules = await rulesFrom(parsed, treeProgressFor(io, values.quiet ?? false));
    const { checksum: _content, "body-checksum": body, ...connection } = values;
    const sessions = new SessionPool(
      io,
      body === undefined ? connection : { ...connection, checksum: body },
      { retries: retryFlag(values.retry) },
    );
    try {
      // A sync cut by the network and tried again (--retry) sends only what is still missing.
      return await sessions.run(isBftpUrl(src) ? src : dst, async (client, url) => {
        const ends: SyncEnds = isBftpUrl(src)
          ? { direction: "pull", local: dst, remote: url.path }
          : { direction: "push", local: src, remote: url.path };
        return (await syncTrees(client, ends, rules, io))?.exitCode ?? 0;
      });
    } finally {
      await sessions.close();
    }
  },
};

/** The shell's `sync`: LOCAL to REMOTE, or with `--pull` REMOTE to LOCAL. */
export const shellSync: ShellCommand = {
  name: "sync",
  aliases: [],
  usage: "sync [OPTIONS] LOCAL REMOTE",
  summary: "make REMOTE match LOCAL (--pull: LOCAL match REMOTE); -n, --delete... as bftp sync",
  async run(ctx, args) {
    const parsed = parseFlags(args, { ...SYNC_FLAGS, pull: { type: "boolean" } });
    const { positionals } = parsed;
    if (positionals.length < 2) throw new UsageError("Missing LOCAL or REMOTE");
    if (positionals.length > 2) throw new UsageError(`Too many arguments: "${positionals[2]}"`);
    const [local, remote] = positionals as [string, string];
    const rules = await rulesFrom(parsed, ctx.treeProgress);
    const direction = parsed.values.pull === true ? "pull" : "push";
    const failed = await syncTrees(ctx.client, { direction, local, remote }, rules, ctx.io);
    if (failed !== undefined) {
      throw new BftpError(failed.code, "Some entries were not synced (see above)");
    }
  },
};
