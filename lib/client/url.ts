/**
 * BFTP URLs: `bftp://HOST[:PORT]/PATH`, and `bftps://` for BFTP over TLS.
 * The path is taken literally (no percent-decoding), as scp takes its
 * paths, and is absolute in the served root.
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
  /** `bftps://`: TLS from the first byte, never plain TCP. */
  secure: boolean;
}

/**
 * Parses a BFTP URL.
 *
 * @param text What the user typed.
 * @returns Host, port and path.
 * @throws {UsageError} When it is not a `bftp://` or `bftps://` URL.
 *
 * @example
 * ```ts
 * import { parseBftpUrl } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseBftpUrl("bftp://[::1]:9000/docs/a.txt"), {
 *   hostname: "::1",
 *   port: 9000,
 *   path: "/docs/a.txt",
 *   secure: false,
 * });
 * deepEqual(parseBftpUrl("bftp://example.org").port, 2121);
 * deepEqual(parseBftpUrl("bftps://example.org/a").secure, true);
 * ```
 */
export function parseBftpUrl(text: string): BftpUrl {
  const m = /^bftp(s?):\/\/(\[[0-9A-Fa-f:.]+(?:%[\w.]+)?\]|[^\/:\[\]@]+)(?::(\d{1,5}))?(\/.*)?$/s
    .exec(
      text,
    );
  if (!m) {
    throw new UsageError(`Invalid URL "${text}": expected bftp://HOST[:PORT]/PATH or bftps://...`);
  }
  const host = m[2]!;
  const port = m[3] === undefined ? DEFAULT_PORT : Number(m[3]);
  if (port < 1 || port > 65535) throw new UsageError(`Invalid port in URL "${text}"`);
  return {
    hostname: host.startsWith("[") ? host.slice(1, -1) : host,
    port,
    path: m[4] ?? "/",
    secure: m[1] === "s",
  };
}

/**
 * Joins a remote folder and a name in it, with one slash between them.
 *
 * @param dir The remote folder (`/` for the root).
 * @param name A name in it.
 * @returns The remote path.
 *
 * @example
 * ```ts
 * import { joinRemote } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(joinRemote("/", "a.txt"), "/a.txt");
 * deepEqual(joinRemote("/docs", "a.txt"), "/docs/a.txt");
 * ```
 */
export function joinRemote(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
