/**
 * Network addresses as people read them: `HOST:PORT` with IPv6 in brackets,
 * and a client's address reduced to the host that a per-client limit counts.
 *
 * @module
 */

/**
 * Formats a host and port as `HOST:PORT`, bracketing IPv6 addresses.
 *
 * @param hostname Host name or address.
 * @param port Port.
 * @returns The address for messages and URLs.
 *
 * @example
 * ```ts
 * import { formatHostPort } from "./address.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatHostPort("::1", 80), "[::1]:80");
 * deepEqual(formatHostPort("127.0.0.1", 80), "127.0.0.1:80");
 * ```
 */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * The host part of a peer's address, the unit a per-client connection limit
 * counts: an IPv4 address seen through an IPv6 socket (`::ffff:1.2.3.4`)
 * counts as the IPv4 address, and IPv6 is lowercased.
 *
 * @param addr The peer's address.
 * @returns The host, or the transport name for non-IP addresses.
 *
 * @example
 * ```ts
 * import { clientHost } from "./address.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(clientHost({ transport: "tcp", hostname: "::FFFF:10.0.0.1", port: 5 }), "10.0.0.1");
 * ```
 */
export function clientHost(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  const host = addr.hostname.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  return mapped ? mapped[1]! : host;
}
