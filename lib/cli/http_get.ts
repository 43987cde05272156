/**
 * `bftp http-get`: fetch a URL over HTTP or HTTPS on bftp's own sockets, in
 * place of a simple `curl -o`.
 *
 * @module
 */

import { basename } from "../local_path.ts";
import { UsageError } from "../errors.ts";
import { escapeCharacter, replaceUnsafe } from "../terminal_text.ts";
import { writeAll } from "../framing/write_all.ts";
import { httpGet } from "../http/get.ts";
import { OutputFile } from "../http/output_file.ts";
import { parseHeaderField } from "../http/request.ts";
import type { HeaderField } from "../http/response.ts";
import { type HttpTarget, parseHttpUrl } from "../http/url.ts";
import { clientTlsFromFlags } from "../transport/client_tls_flags.ts";
import { endProgressLinesOn, Progress } from "./progress.ts";
import { intFlag, parseFlags, secondsFlag } from "./args.ts";
import { QUIET_FLAG, TIMEOUT_FLAG, TLS_TRUST_FLAGS } from "./common_flags.ts";
import type { Command } from "./command.ts";
import type { CliIo } from "./io.ts";

const FLAGS = {
  output: { type: "string", short: "o" },
  include: { type: "boolean", short: "i" },
  location: { type: "boolean", short: "L" },
  "max-redirs": { type: "string" },
  "max-time": { type: "string", short: "m" },
  ...TIMEOUT_FLAG,
  cacert: TLS_TRUST_FLAGS.cacert,
  header: { type: "string", short: "H", multiple: true },
  ...QUIET_FLAG,
} as const;

const HELP = `bftp http-get - download a URL over HTTP or HTTPS (HTTP/1.0 GET)

Usage: bftp http-get URL [-o FILE] [-i] [-L] [--max-redirs N] [--timeout S]
                     [-m S] [--cacert FILE] [-H 'Name: value']... [-q]

Writes the body to stdout, or to FILE. FILE appears only when the whole
body has arrived (it is written beside FILE under a hidden temporary name,
then renamed); a failed download leaves no FILE.

Options:
  -o, --output FILE     write the body to FILE ("-" for stdout)
  -i, --include         write the response headers before the body
  -L, --location        follow redirects (301, 302, 303, 307, 308)
  --max-redirs N        follow at most N redirects (default 10)
  --timeout S           fail after S seconds without progress (default 30,
                        0: never)
  -m, --max-time S      fail when the whole download takes over S seconds,
                        however steadily the server sends (default 0: never)
  --cacert FILE         also trust the CA certificate(s) in FILE (PEM) for https
  -H, --header 'N: v'   send an extra header (repeatable; 'N:' removes a
                        default one)
  -q, --quiet           no progress line (shown only when stderr is a terminal)

Examples:
  bftp http-get http://www.google.co.il/search?q=python+socket+programming -o index.html
  bftp http-get -L http://www.cs.uic.edu/~jbell/CourseNotes/OperatingSystems/index.html
  bftp http-get --cacert ca.pem https://127.0.0.1:8443/report.pdf -o report.pdf
  bftp http-get -i 'http://[::1]:8080/'

Exit codes: 0 a 2xx answer (or 3xx without -L), 22 a 4xx or 5xx answer,
4 refused or DNS failure, 8 TLS failure, 5 malformed response or too many
redirects, 6 body cut short, 7 timeout, 3 local file error, 2 usage.`;

/**
 * The response's header block as `-i` writes it: as received into a file
 * or a pipe; on a terminal, every character a terminal would act on or
 * hide escaped (C1 controls, bidirectional marks; the line breaks kept),
 * as every string a peer sends is shown there.
 */
function shownHead(raw: Uint8Array, terminal: boolean | undefined): Uint8Array {
  if (terminal !== true) return raw;
  const text = new TextDecoder().decode(raw);
  const lines = text.split("\r\n").map((line) => replaceUnsafe(line, escapeCharacter));
  return new TextEncoder().encode(lines.join("\r\n"));
}

/** The `http-get` subcommand. */
export const httpGetCommand: Command = {
  name: "http-get",
  help: HELP,
  run,
};

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS);
  if (positionals.length === 0) throw new UsageError("Missing URL");
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`);
  const target = usage(() => parseHttpUrl(positionals[0]!));
  const headers: HeaderField[] = values.header.map((h) => usage(() => parseHeaderField(h)));
  const maxRedirects = intFlag(values["max-redirs"], "max-redirs", 10);
  const timeout = secondsFlag(values.timeout, "timeout", 30) * 1000;
  const maxTime = secondsFlag(values["max-time"], "max-time", 0) * 1000;
  const caCerts = (await clientTlsFromFlags({ cacert: values.cacert }))?.caCerts ?? [];
  const include = values.include ?? false;
  const outPath = values.output;
  const showProgress = io.stderrIsTerminal && !values.quiet;

  const out = outPath === undefined || outPath === "-"
    ? undefined
    : await OutputFile.create(outPath);
  const sink = out ?? io.stdout;
  let progress: Progress | undefined;
  try {
    await httpGet(target, sink, {
      followRedirects: values.location ?? false,
      maxRedirects,
      headers,
      timeout,
      maxTime,
      caCerts,
      signal: io.signal,
      onResponse: async ({ head, framing, final, target: from }) => {
        if (include) {
          await writeAll(sink, shownHead(head.raw, out === undefined && io.stdoutIsTerminal));
        }
        if (final && showProgress) {
          progress = new Progress({
            label: outPath === undefined || outPath === "-" ? labelOf(from) : basename(outPath),
            total: framing.kind === "length" ? framing.length : null,
            out: io.stderr,
            columns: io.stderrColumns,
          });
        }
      },
      onChunk: showProgress ? (chunk) => progress?.add(chunk.byteLength) : undefined,
    });
    progress?.done();
    await out?.commit();
  } catch (e) {
    await endProgressLinesOn(io.stderr);
    await out?.discard();
    throw e;
  }
  return 0;
}

function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(e.message);
    throw e;
  }
}

function labelOf(target: HttpTarget): string {
  const name = target.path.split("?")[0]!.split("/").filter((s) => s !== "").pop();
  return name ?? target.host;
}
