/**
 * What the client subcommands share: opening a session from a URL (closed
 * when the user presses Ctrl-C), and progress lines that appear only on a
 * terminal and not with `-q`.
 *
 * @module
 */

import { BftpClient } from "../client/client.ts";
import type { TransferOptions } from "../client/client.ts";
import { type BftpUrl, parseBftpUrl } from "../client/url.ts";
import { Progress } from "../transfer/progress.ts";
import type { CliIo } from "./io.ts";

/** An open session and the URL it came from. */
export interface Session {
  /** The connected client. */
  client: BftpClient;
  /** The parsed URL. */
  url: BftpUrl;
  /** Quits the session and stops watching for Ctrl-C. */
  close(): Promise<void>;
}

/**
 * Connects to the server a URL names. Ctrl-C closes the connection, so a
 * transfer in flight fails and cleans up after itself.
 *
 * @param urlText The `bftp://` URL.
 * @param io The console (its abort signal).
 * @returns The session.
 *
 * @example
 * ```ts
 * import { openSession } from "./session.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const io = { signal: new AbortController().signal } as Parameters<typeof openSession>[1];
 * await rejects(openSession("http://x/", io), /Invalid URL/);
 * ```
 */
export async function openSession(urlText: string, io: CliIo): Promise<Session> {
  const url = parseBftpUrl(urlText);
  const client = await BftpClient.connect({ hostname: url.hostname, port: url.port });
  const onAbort = () => client.close();
  io.signal.addEventListener("abort", onAbort);
  return {
    client,
    url,
    close: async () => {
      io.signal.removeEventListener("abort", onAbort);
      await client.quit();
    },
  };
}

/**
 * Makes per-file progress callbacks: a progress line on stderr when it is a
 * terminal and `quiet` is off; nothing otherwise.
 *
 * @param io The console.
 * @param quiet `-q` was given.
 * @returns A factory for {@linkcode TransferOptions}, or `undefined`.
 *
 * @example
 * ```ts
 * import { progressFor } from "./session.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const io = { stderrIsTerminal: false } as Parameters<typeof progressFor>[0];
 * deepEqual(progressFor(io, false), undefined);
 * ```
 */
export function progressFor(
  io: CliIo,
  quiet: boolean,
): ((label: string, size: number | null) => TransferOptions) | undefined {
  if (quiet || !io.stderrIsTerminal) return undefined;
  return (label, size) => {
    const progress = new Progress({ label, total: size, out: io.stderr });
    let moved = 0;
    return {
      onProgress: (n) => {
        moved += n;
        progress.add(n);
        if (size !== null && moved >= size) progress.done();
      },
      onStart: (s) => {
        if (s === 0) progress.done();
      },
    };
  };
}
