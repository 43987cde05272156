/**
 * The `HOST:PORT` a pipe end connects to: `127.0.0.1:9000`,
 * `[::1]:9000`, `example.org:9000`.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** Where to connect. */
export interface PipeAddress {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** Port, 1 to 65535. */
  port: number;
}

/**
 * Parses `HOST:PORT`; an IPv6 address is written in brackets.
 *
 * @param text What the user typed.
 * @returns Host and port.
 * @throws {UsageError} When it is not `HOST:PORT` with a port of 1 to 65535.
 *
 * @example
 * ```ts
 * import { parsePipeAddress } from "./address.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parsePipeAddress("127.0.0.1:9000"), { hostname: "127.0.0.1", port: 9000 });
 * deepEqual(parsePipeAddress("[::1]:9000"), { hostname: "::1", port: 9000 });
 * throws(() => parsePipeAddress("9000"), /HOST:PORT/);
 * ```
 */
export function parsePipeAddress(text: string): PipeAddress {
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
