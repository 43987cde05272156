/**
 * `bftp echo`: an echo client. Sends messages (the arguments, or stdin line
 * by line) and prints the replies; or, in load mode, drives many
 * connections at once, checks every reply, and reports round trips per
 * second and latency percentiles.
 *
 * @module
 */

import { UnexpectedEofError, UsageError } from "../errors.ts";
import { BufferedReader, readDelimited, readUntilClose, writeAll } from "../framing/mod.ts";
import { EchoClient } from "../echo/client.ts";
import { connectionBudget } from "../echo/file_limit.ts";
import { type HostPort, parseHostPort } from "../transport/address.ts";
import { runEchoLoad } from "../echo/load.ts";
import { formatLoadResult } from "../echo/report.ts";
import { intFlag, parseFlags, secondsFlag } from "./args.ts";
import { CLIENT_TLS_FLAGS, TIMEOUT_FLAG } from "./common_flags.ts";
import { clientTlsFromFlags } from "../transport/client_tls_flags.ts";
import type { ClientTlsOptions } from "../transport/types.ts";
import type { Command } from "./command.ts";
import { type CliIo, writeLine } from "./io.ts";

/** The longest stdin line sent as one message. */
const MAX_LINE = 16 * 1024 * 1024;
/** The most memory a load run may hold in messages (each connection holds two). */
const MAX_LOAD_BUFFERS = 1024 * 1024 * 1024;

const HELP = `Usage: bftp echo HOST:PORT [MESSAGE...] [TLS options]
       bftp echo HOST:PORT --connections C --count N [--size BYTES] [--json]
                 [TLS options]

Talks to an echo server (bftp echo-server, or any other). Sends each MESSAGE
followed by a newline, or each line of stdin when no MESSAGE is given, and
prints each reply as received: as many bytes as were sent. A line of stdin
over 16 MiB is refused (exit 5).

Load mode (given --connections or --count) opens C connections at once and
makes N round trips of BYTES random bytes on each, checks every reply byte
for byte, and prints round trips per second and latency p50/p99.

Options:
  --connections C    connections at once (load mode; default 10)
  --count N          round trips per connection (load mode; default 1000)
  --size BYTES       bytes per message (load mode; default 64)
  --json             print the load result as one JSON object
  --timeout S        seconds to wait for a connection or a reply (default 10)

TLS (to "bftp echo-server --tls-cert"; never falls back to plain TCP):
  --tls              speak TLS, trusting the usual root CAs
  --cacert F         speak TLS, trusting certificates signed by F (PEM)
  --fingerprint HEX  speak TLS, trusting exactly the certificate with this
                     SHA-256 fingerprint, as the server prints it
                     (colons optional)

Examples:
  bftp echo 127.0.0.1:2525 hello world
  printf 'one\\ntwo\\n' | bftp echo 127.0.0.1:2525
  bftp echo 127.0.0.1:2525 --connections 50 --count 2000 --json`;

/** The `echo` subcommand. */
export const echoCommand: Command = {
  name: "echo",
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseFlags(args, {
      connections: { type: "string" },
      count: { type: "string" },
      size: { type: "string" },
      json: { type: "boolean" },
      ...TIMEOUT_FLAG,
      ...CLIENT_TLS_FLAGS,
    });
    const [target, ...messages] = positionals;
    if (target === undefined) throw new UsageError("Missing HOST:PORT");
    const addr = parseHostPort(target);
    const timeout = secondsFlag(values.timeout, "timeout", 10) * 1000;
    if (timeout <= 0) throw new UsageError(`Invalid value "0" for --timeout: expected above 0`);
    const tls = await clientTlsFromFlags(values);
    const load = values.connections !== undefined || values.count !== undefined;
    if (!load) {
      for (const flag of ["size", "json"] as const) {
        if (values[flag] !== undefined) {
          throw new UsageError(`--${flag} needs load mode (--connections or --count)`);
        }
      }
      await sendMessages(addr, messages, timeout, io, tls);
      return 0;
    }
    if (messages.length > 0) {
      throw new UsageError(`Unexpected argument "${messages[0]}": load mode sends random bytes`);
    }
    const result = await runEchoLoad(addr, {
      ...loadShape(values),
      timeout,
      signal: io.signal,
      tls,
    });
    if (values.json) await writeLine(io.stdout, JSON.stringify(result));
    else for (const line of formatLoadResult(result)) await writeLine(io.stdout, line);
    return 0;
  },
};

/** The load's connections, messages and message size, from their flags, each within bounds. */
function loadShape(
  values: {
    connections?: string | undefined;
    count?: string | undefined;
    size?: string | undefined;
  },
): { connections: number; count: number; size: number } {
  const connections = positive(intFlag(values.connections, "connections", 10), "connections");
  const count = positive(intFlag(values.count, "count", 1000), "count");
  const size = positive(intFlag(values.size, "size", 64), "size");
  const budget = connectionBudget();
  if (connections > budget) {
    throw new UsageError(
      `Invalid value "${connections}" for --connections: at most ${budget} (the open-file limit less 64)`,
    );
  }
  if (connections * size * 2 > MAX_LOAD_BUFFERS) {
    throw new UsageError(
      `--connections ${connections} with --size ${size} would hold more than 1 GiB of messages`,
    );
  }
  return { connections, count, size };
}

function positive(value: number, name: string): number {
  if (value < 1) throw new UsageError(`Invalid value "${value}" for --${name}: expected 1 or more`);
  return value;
}

/** Message mode: one connection, one message at a time, replies to stdout. */
async function sendMessages(
  addr: HostPort,
  messages: string[],
  timeout: number,
  io: CliIo,
  tls: ClientTlsOptions | undefined,
): Promise<void> {
  using client = await EchoClient.connect(addr, { timeout, tls });
  const onAbort = () => client.close();
  io.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const encoder = new TextEncoder();
    const source = messages.length > 0
      ? messages.map((m) => encoder.encode(m + "\n"))
      : stdinMessages(io);
    for await (const message of source) {
      const reply = await client.roundTrip(message);
      await writeAll(io.stdout, reply);
    }
  } finally {
    io.signal.removeEventListener("abort", onAbort);
  }
}

/** Each line of stdin with its newline; a last line without one as it is. */
async function* stdinMessages(io: CliIo): AsyncGenerator<Uint8Array> {
  const reader = new BufferedReader(io.stdin);
  const newline = new Uint8Array([0x0a]);
  while (true) {
    let line: Uint8Array | null;
    try {
      line = await readDelimited(reader, { maxBytes: MAX_LINE });
    } catch (e) {
      if (!(e instanceof UnexpectedEofError)) throw e;
      // The input ended without a newline: what is left in the buffer is
      // the last line, sent as it is.
      yield await readUntilClose(reader, { maxBytes: MAX_LINE });
      return;
    }
    if (line === null) return;
    const message = new Uint8Array(line.byteLength + 1);
    message.set(line);
    message.set(newline, line.byteLength);
    yield message;
  }
}
