/**
 * BFTP URLs: `bftp://HOST[:PORT]/PATH`. The path is taken literally (no
 * percent-decoding), as scp takes its paths, and is absolute in the served
 * root.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** The default BFTP port. */
export const DEFAULT_PORT = 2121;

/** A parsed BFTP URL. */
export interface BftpUrl {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** Port. */
  port: number;
  /** Absolute path in the served root, `/` when none was given. */
  path: string;
}

/**
 * Parses a BFTP URL.
 *
 * @param text What the user typed.
 * @returns Host, port and path.
 * @throws {UsageError} When it is not a `bftp://` URL.
 *
 * @example
 * ```ts
 * import { parseBftpUrl } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseBftpUrl("bftp://[::1]:9000/docs/a.txt"), { hostname: "::1", port: 9000, path: "/docs/a.txt" });
 * deepEqual(parseBftpUrl("bftp://example.org").port, 2121);
 * ```
 */
export function parseBftpUrl(text: string): BftpUrl {
  const m = /^bftp:\/\/(\[[0-9A-Fa-f:.]+(?:%[\w.]+)?\]|[^\/:\[\]@]+)(?::(\d{1,5}))?(\/.*)?$/s.exec(
    text,
  );
  if (!m) {
    throw new UsageError(`Invalid URL "${text}": expected bftp://HOST[:PORT]/PATH`);
  }
  const host = m[1]!;
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`Invalid port in URL "${text}"`);
  return {
    hostname: host.startsWith("[") ? host.slice(1, -1) : host,
    port,
    path: m[3] ?? "/",
  };
}

/**
 * Formats a host and port as `HOST:PORT`, bracketing IPv6 addresses.
 *
 * @param hostname Host name or address.
 * @param port Port.
 * @returns The address for messages and URLs.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatHostPort("::1", 80), "[::1]:80");
 * ```
 */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
