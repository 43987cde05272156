/**
 * BFTP URLs: `bftp://HOST[:PORT]/PATH`, and `bftps://` for BFTP over TLS.
 * The path is taken literally (no percent-decoding), as scp takes its
 * paths, and is absolute in the served root. Several servers ("heads")
 * serving one volume may be listed, as libpq and MongoDB URIs list hosts:
 * `bftp://h1:9000,h2:9001/PATH`, each with its own port (2121 when none).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { HostPort } from "../transport/address.ts";

/** The default BFTP port. */
export const DEFAULT_PORT = 2121;

/** A parsed BFTP URL. */
export interface BftpUrl {
  /** Host name or IP address (IPv6 without brackets): the first head's. */
  hostname: string;
  /** Port: the first head's. */
  port: number;
  /**
   * Every head the URL lists, in its order, without repeats; the first is
   * `hostname` and `port`.
   */
  heads: HostPort[];
  /** Absolute path in the served root, `/` when none was given. */
  path: string;
  /** `bftps://`: TLS from the first byte, never plain TCP. */
  secure: boolean;
}

/** One `HOST[:PORT]`: a bracketed IPv6 address (with its zone, if any) or a name. */
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.]+)?)\]|([^\s\/:\[\]@,]+))(?::(\d{1,5}))?$/;

/**
 * Parses a comma-separated list of `HOST[:PORT]` (IPv6 in brackets), the
 * port 2121 when none is given; a head given twice counts once.
 *
 * @param text The list, as in a URL's authority or `BFTP_HEADS`.
 * @returns The heads, in order.
 * @throws {TypeError} With the item that is not `HOST[:PORT]`, or whose port is not 1 to 65535.
 *
 * @example
 * ```ts
 * import { parseHostList } from "./url.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseHostList("h1:9000,[::1],h1:9000"), [
 *   { hostname: "h1", port: 9000 },
 *   { hostname: "::1", port: 2121 },
 * ]);
 * throws(() => parseHostList("h1,,h2"), /""/);
 * ```
 */
export function parseHostList(text: string): HostPort[] {
  const heads: HostPort[] = [];
  for (const item of text.split(",")) {
    const m = HOST_PORT.exec(item);
    const port = m?.[3] === undefined ? DEFAULT_PORT : Number(m[3]);
    if (!m || port < 1 || port > 65535) {
      throw new TypeError(`"${item}" is not HOST[:PORT] with a port of 1 to 65535`);
    }
    const hostname = m[1] ?? m[2]!;
    if (!heads.some((h) => sameHead(h, { hostname, port }))) heads.push({ hostname, port });
  }
  return heads;
}

/**
 * Whether two heads are the same server: the same port and host name (in
 * any case).
 *
 * @param a One head.
 * @param b The other.
 * @returns `true` when they name the same `HOST:PORT`.
 *
 * @example
 * ```ts
 * import { sameHead } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(sameHead({ hostname: "H1", port: 1 }, { hostname: "h1", port: 1 }), true);
 * deepEqual(sameHead({ hostname: "h1", port: 1 }, { hostname: "h1", port: 2 }), false);
 * ```
 */
export function sameHead(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.hostname.toLowerCase() === b.hostname.toLowerCase();
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
 *   heads: [{ hostname: "::1", port: 9000 }],
 *   path: "/docs/a.txt",
 *   secure: false,
 * });
 * deepEqual(parseBftpUrl("bftp://example.org").port, 2121);
 * deepEqual(parseBftpUrl("bftps://example.org/a").secure, true);
 * deepEqual(parseBftpUrl("bftp://h1:9000,h2/a").heads, [
 *   { hostname: "h1", port: 9000 },
 *   { hostname: "h2", port: 2121 },
 * ]);
 * ```
 */
export function parseBftpUrl(text: string): BftpUrl {
  // The scheme in any case, as RFC 3986 reads one (`BFTP://`).
  const m = /^bftp(s?):\/\/([^\/]*)(\/.*)?$/si.exec(text);
  let heads: HostPort[] | undefined;
  try {
    if (m) heads = parseHostList(m[2]!);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    throw new UsageError(`Invalid URL "${text}": ${e.message}`);
  }
  if (!m || heads === undefined) {
    throw new UsageError(
      `Invalid URL "${text}": expected bftp://HOST[:PORT][,HOST[:PORT]...]/PATH or bftps://...`,
    );
  }
  return {
    hostname: heads[0]!.hostname,
    port: heads[0]!.port,
    heads,
    path: m[3] ?? "/",
    secure: m[1] !== "",
  };
}

/**
 * Whether `text` is a BFTP URL (`bftp://` or `bftps://`, in any case)
 * rather than a local path.
 *
 * @param text A command-line argument.
 * @returns Whether it names a server.
 *
 * @example
 * ```ts
 * import { isBftpUrl } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual([isBftpUrl("BFTPS://h/a"), isBftpUrl("./bftp:/a")], [true, false]);
 * ```
 */
export function isBftpUrl(text: string): boolean {
  return /^bftps?:\/\//i.test(text);
}

/**
 * Joins a remote folder and a name in it, with one slash between them.
 *
 * @param dir The remote folder (`/` for the root; `""`, as the server
 * takes it, for the session's current folder).
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
 * deepEqual(joinRemote("", "a.txt"), "a.txt");
 * ```
 */
export function joinRemote(dir: string, name: string): string {
  // Not "/a.txt": that is the root's, whatever folder the session is in.
  if (dir === "") return name;
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
