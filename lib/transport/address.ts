/**
 * Network addresses as people read them: `HOST:PORT` with IPv6 in brackets,
 * parsed from what a user typed and formatted for messages, and a client's
 * address reduced to the host that a per-client limit counts.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** A host and a port to connect to. */
export interface HostPort {
  /** Host name or IP address (IPv6 without brackets, with its zone if any). */
  hostname: string;
  /** Port, 1 to 65535. */
  port: number;
}

/**
 * Parses `HOST:PORT` as the pipe and echo commands take it: `127.0.0.1:9000`,
 * `[::1]:9000`, `example.org:9000`; an IPv6 address is written in brackets.
 *
 * @param text What the user typed.
 * @returns Host and port.
 * @throws {UsageError} When it is not `HOST:PORT` with a port of 1 to 65535.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./address.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseHostPort("127.0.0.1:9000"), { hostname: "127.0.0.1", port: 9000 });
 * deepEqual(parseHostPort("[::1]:9000"), { hostname: "::1", port: 9000 });
 * throws(() => parseHostPort("9000"), /HOST:PORT/);
 * ```
 */
export function parseHostPort(text: string): HostPort {
  const m = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.]+)?)\]|([^\s:\/\[\]@]+)):(\d{1,5})$/.exec(text);
  const hostname = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (hostname === undefined) {
    throw new UsageError(`Invalid address "${text}": expected HOST:PORT`);
  }
  if (!(port >= 1 && port <= 65535)) {
    throw new UsageError(`Invalid port in "${text}": expected 1 to 65535`);
  }
  return { hostname, port };
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

/**
 * The addresses other machines can reach a listener bound to every
 * address (`0.0.0.0`: each interface's IPv4 address; `::`: its IPv6 ones
 * too), leaving out loopback and link-local ones, which another machine
 * cannot use as they are; `[]` for a listener bound to one address.
 *
 * @param hostname The address listened on.
 * @param interfaces This machine's interfaces (`Deno.networkInterfaces()`).
 * @returns The addresses, each once, in the interfaces' order.
 *
 * @example
 * ```ts
 * import { reachableAddresses } from "./address.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const interfaces = [
 *   { family: "IPv4", address: "127.0.0.1" },
 *   { family: "IPv4", address: "192.0.2.2" },
 *   { family: "IPv6", address: "fe80::1" },
 *   { family: "IPv6", address: "fd00::2" },
 * ] as const;
 * deepEqual(reachableAddresses("0.0.0.0", interfaces), ["192.0.2.2"]);
 * deepEqual(reachableAddresses("::", interfaces), ["192.0.2.2", "fd00::2"]);
 * deepEqual(reachableAddresses("127.0.0.1", interfaces), []);
 * ```
 */
export function reachableAddresses(
  hostname: string,
  interfaces: ReadonlyArray<Pick<Deno.NetworkInterfaceInfo, "family" | "address">>,
): string[] {
  if (hostname !== "0.0.0.0" && hostname !== "::") return [];
  const usable = interfaces.filter(({ family, address }) =>
    family === "IPv4"
      ? !address.startsWith("127.")
      : hostname === "::" && address !== "::1" && !/^fe[89ab]/i.test(address)
  );
  return [...new Set(usable.map((i) => i.address))];
}
