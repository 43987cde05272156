/**
 * `bftp serve`: serves a folder over BFTP until SIGINT or SIGTERM.
 *
 * @module
 */

import { ServedRoot } from "../root/served_root.ts";
import { startServer } from "../server/server.ts";
import { formatHostPort } from "../client/url.ts";
import { intFlag, numberFlag, parseFlags, portFlag, stringFlag } from "./args.ts";
import type { Command } from "./command.ts";
import { type CliIo, writeLine } from "./io.ts";
import { ConnectionError, UsageError } from "../errors.ts";
import { startServerPool } from "../server/pool.ts";

const HELP = `Usage: bftp serve [ROOT] [options]

Serves the folder ROOT (default: the current folder) over BFTP. Prints
"listening on bftp://HOST:PORT" on stdout once ready, then one log line per
request on stderr. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --host H               address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)
  --port P               port (default 2121; 0 picks a free one)
  --read-only            refuse PUT, DELETE, MKDIR, RMDIR and RENAME
  --max-connections N    sessions at once; more get a BUSY answer (default 1000)
  --idle-timeout S       drop a client silent for S seconds, 0 never (default 300)
  --workers N            serve with N Web Workers sharing the port, one per core (default 1)
  --no-fsync             do not flush uploads to disk before renaming them into place
  -q, --quiet            no per-request log lines

Example:
  bftp serve ./public --port 2121`;

/** The `serve` subcommand. */
export const serveCommand: Command = {
  name: "serve",
  summary: "serve a folder over BFTP",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      host: { type: "string" },
      port: { type: "string" },
      "read-only": { type: "boolean" },
      "max-connections": { type: "string" },
      "idle-timeout": { type: "string" },
      "no-fsync": { type: "boolean" },
      workers: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    });
    if (positionals.length > 1) throw new UsageError(`Too many arguments: "${positionals[1]}"`);
    const root = await ServedRoot.open(positionals[0] ?? ".", {
      readOnly: values["read-only"] === true,
      fsync: values["no-fsync"] !== true,
    });
    const quiet = values.quiet === true;
    const log = (line: string) => {
      void writeLine(io.stderr, `${new Date().toISOString()} ${line}`);
    };
    const cleaned = await root.cleanTemporaries();
    if (cleaned > 0) log(`removed ${cleaned} temporary file(s) left by interrupted uploads`);
    const workers = intFlag(values, "workers", 1);
    if (workers < 1) throw new UsageError(`Invalid value "${workers}" for --workers: at least 1`);
    const hostname = stringFlag(values, "host") ?? "127.0.0.1";
    const port = portFlag(values, "port", 2121);
    const settings = {
      hostname,
      port,
      maxConnections: intFlag(values, "max-connections", 1000),
      idleTimeout: numberFlag(values, "idle-timeout", 300),
      log: quiet ? () => {} : log,
    };
    let server: { addr: Deno.NetAddr; close(): Promise<void> };
    try {
      server = workers === 1 ? startServer({ root, ...settings }) : await startServerPool({
        rootPath: root.hostPath,
        workers,
        readOnly: root.readOnly,
        fsync: values["no-fsync"] !== true,
        ...settings,
      });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        throw new ConnectionError(
          `Cannot listen on "${formatHostPort(hostname, port)}": address already in use`,
        );
      }
      if (e instanceof Deno.errors.AddrNotAvailable || e instanceof Deno.errors.PermissionDenied) {
        throw new ConnectionError(
          `Cannot listen on "${formatHostPort(hostname, port)}": ${e.message}`,
        );
      }
      throw e;
    }
    await writeLine(
      io.stdout,
      `listening on bftp://${formatHostPort(server.addr.hostname, server.addr.port)}`,
    );
    if (!quiet) {
      log(
        `serving ${root.hostPath}${root.readOnly ? " (read-only)" : ""}` +
          (workers > 1 ? ` with ${workers} workers` : ""),
      );
    }
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.close();
    if (!quiet) log("stopped");
    return 0;
  },
};
