/**
 * `bftp echo-server`: a TCP echo server whose connections are served by N
 * Web Workers in parallel, until SIGINT or SIGTERM. SIGUSR1 prints each
 * worker's counters.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { connectionBudget } from "../echo/file_limit.ts";
import { formatHostPort } from "../transport/address.ts";
import { formatWorkerStats } from "../echo/report.ts";
import { type EchoServerEvent, startEchoServer } from "../echo/server.ts";
import { hostFlag, intFlag, parseFlags, portFlag } from "./args.ts";
import { LISTEN_FLAGS, SERVER_TLS_FLAGS, serverTlsFlags } from "./common_flags.ts";
import { loadServerTls } from "../transport/tls_files.ts";
import type { Command } from "./command.ts";
import { type CliIo, writeLine } from "./io.ts";

const MAX_WORKERS = 256;

const HELP = `Usage: bftp echo-server [--host H] [--port P] [--workers N]
                        [--max-connections M] [--tls-cert F --tls-key F]

Echoes every byte back on each connection, exactly as received, for as long
as the client keeps it open. Connections are served by N Web Workers (threads)
in parallel: each listens on the same port (SO_REUSEPORT, Linux) and the
kernel spreads new connections over them. A worker that dies is replaced;
only its own clients lose their connections. Prints "listening on
tcp://HOST:PORT" on stdout once every worker listens.

Options:
  --host H               address to listen on (default 127.0.0.1)
  --port P               port (default 2525; 0 picks a free one)
  --workers N            worker threads (default: the number of CPUs, ${navigator.hardwareConcurrency} here)
  --max-connections M    connections open at once, over all workers; more wait
                         to be accepted (default: the open-file limit less 64)
  --tls-cert F           speak TLS with this certificate (PEM): prints
                         "fingerprint sha256 AB:CD:..." on stderr and
                         "listening on tls://..."
  --tls-key F            the certificate's private key (PEM)

Signals: SIGUSR1 prints how many connections and bytes each worker served
(on stderr); SIGINT (Ctrl-C) or SIGTERM stops the server and prints the same.

Examples:
  bftp echo-server --port 2525 --workers 2
  echo hello | nc -N 127.0.0.1 2525
  bftp echo 127.0.0.1:2525 --connections 50 --count 2000`;

/** The `echo-server` subcommand. */
export const echoServerCommand: Command = {
  name: "echo-server",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      ...LISTEN_FLAGS,
      workers: { type: "string" },
      "max-connections": { type: "string" },
      ...SERVER_TLS_FLAGS,
    });
    const tlsFiles = serverTlsFlags(values);
    if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
    const { workers, maxConnections } = poolSize(values.workers, values["max-connections"]);

    // Lines to stderr come from callbacks and signal handlers: keep them in order.
    let pending: Promise<void> = Promise.resolve();
    const log = (lines: string[]) => {
      pending = pending.then(async () => {
        for (const line of lines) await writeLine(io.stderr, line);
      });
    };

    const tls = tlsFiles && await loadServerTls(tlsFiles.cert, tlsFiles.key);
    const server = await startEchoServer({
      tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
      hostname: hostFlag(values.host, "127.0.0.1"),
      port: portFlag(values.port, "port", 2525),
      workers,
      maxConnections,
      onEvent: (event) => log([describeEvent(event)]),
    });
    const printStats = () => log(formatWorkerStats(server.stats()));
    // Test hook, deliberately absent from the help: with BFTP_ECHO_TEST_HOOKS=1
    // in the environment, SIGUSR2 crashes the lowest-numbered running worker
    // (an uncaught error inside it), so that end-to-end tests can watch the
    // pool replace it.
    const crashOne = () => {
      const victim = server.stats().find((s) => s.state === "running");
      if (victim) server.killWorker(victim.id, "crash");
    };
    const hooks = io.env("BFTP_ECHO_TEST_HOOKS") === "1";
    const unix = Deno.build.os !== "windows";
    try {
      if (unix) Deno.addSignalListener("SIGUSR1", printStats);
      if (unix && hooks) Deno.addSignalListener("SIGUSR2", crashOne);
      if (tls !== undefined) await writeLine(io.stderr, `fingerprint sha256 ${tls.fingerprint}`);
      await writeLine(
        io.stdout,
        `listening on ${tls === undefined ? "tcp" : "tls"}://${
          formatHostPort(server.addr.hostname, server.addr.port)
        }`,
      );
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        io.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    } finally {
      if (unix) Deno.removeSignalListener("SIGUSR1", printStats);
      if (unix && hooks) Deno.removeSignalListener("SIGUSR2", crashOne);
      await server.close();
      printStats();
      await pending;
    }
    return 0;
  },
};

/** The pool's workers and its connection limit, from their flags, each within its bounds. */
function poolSize(
  workersFlag: string | undefined,
  maxFlag: string | undefined,
): { workers: number; maxConnections: number } {
  const workers = intFlag(workersFlag, "workers", Math.max(1, navigator.hardwareConcurrency));
  if (workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(
      `Invalid value "${workers}" for --workers: expected 1 to ${MAX_WORKERS}`,
    );
  }
  const budget = connectionBudget();
  const maxConnections = intFlag(maxFlag, "max-connections", budget);
  if (maxConnections < workers || maxConnections > budget) {
    throw new UsageError(
      `Invalid value "${maxConnections}" for --max-connections: expected ${workers} to ${budget}` +
        " (at least one per worker, at most the open-file limit less 64)",
    );
  }
  return { workers, maxConnections };
}

function describeEvent(event: EchoServerEvent): string {
  switch (event.type) {
    case "died":
      return `worker ${event.id} died: ${event.message}; starting a new one`;
    case "replaced":
      return `worker ${event.by} listens in place of worker ${event.id}`;
    case "restart-failed":
      return `worker ${event.id} cannot be replaced yet: ${event.message}; trying again`;
  }
}
