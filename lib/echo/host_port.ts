/**
 * `HOST:PORT` addresses as the echo commands take and print them: parsing
 * `127.0.0.1:2525`, `[::1]:2525` and `localhost:2525`, and formatting an
 * address back, with brackets around IPv6 hosts.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** A host and a port. */
export interface HostPort {
  /** A host name or an IP address, without brackets. */
  hostname: string;
  /** The TCP port, 0 to 65535. */
  port: number;
}

/**
 * Parses `HOST:PORT`; an IPv6 host is written in brackets.
 *
 * @param text What the user typed.
 * @returns The host (brackets removed) and the port.
 * @throws {UsageError} When the text is not `HOST:PORT` or the port is not 0 to 65535.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./host_port.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseHostPort("127.0.0.1:2525"), { hostname: "127.0.0.1", port: 2525 });
 * deepEqual(parseHostPort("[::1]:7"), { hostname: "::1", port: 7 });
 * ```
 */
export function parseHostPort(text: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const hostname = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (hostname === undefined || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`Invalid address "${text}": expected HOST:PORT`);
  }
  return { hostname, port };
}

/**
 * Formats a host and port as `HOST:PORT`, bracketing an IPv6 host.
 *
 * @param addr The host and port.
 * @returns `127.0.0.1:2525` or `[::1]:2525`.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./host_port.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatHostPort({ hostname: "::1", port: 2525 }), "[::1]:2525");
 * ```
 */
export function formatHostPort(addr: HostPort): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${host}:${addr.port}`;
}
