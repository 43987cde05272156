/**
 * The port of a pool of workers that each listen with SO_REUSEPORT (`serve
 * --workers`, `echo-server`): the kernel hands each new connection to one
 * of them. Before the workers start, the pool reserves the port here.
 *
 * A plain listener comes first, because it shares its port with no one: it
 * reports "address in use" even when another SO_REUSEPORT group (another
 * pool of the same user) holds the port, which a reuse-port socket would
 * silently join; and for port 0 it learns a port that is really free (the
 * kernel may give a reuse-port socket a port such a group already has).
 * Then the port is held with SO_REUSEPORT until the workers have it.
 *
 * @module
 */

import { formatHostPort } from "./address.ts";
import { listenError } from "./listen.ts";

/** A port held for a pool's workers; release it once they listen. */
export interface ReservedPort extends Disposable {
  /** The address, with the real port when 0 was asked. */
  readonly addr: Deno.NetAddr;
  /** Stops holding the port (again is a no-op). */
  release(): void;
}

/**
 * Reserves a port for a SO_REUSEPORT pool.
 *
 * @param hostname The address to listen on.
 * @param port The port; 0 picks a free one.
 * @returns The held port.
 * @throws {Deno.errors.AddrInUse} When anyone holds the port, another
 * SO_REUSEPORT group included (as Deno reports it: callers word it with
 * their own hints).
 * @throws {ConnectionError} When the host is unknown, not this machine's,
 * or the port needs privileges (see {@linkcode listenError}).
 *
 * @example
 * ```ts
 * import { reservePort } from "./reuse_port.ts";
 * import { ok, throws } from "node:assert/strict";
 *
 * using held = reservePort("127.0.0.1", 0);
 * ok(held.addr.port > 0);
 * // A second pool cannot join the first one's port.
 * throws(() => reservePort("127.0.0.1", held.addr.port), Deno.errors.AddrInUse);
 * ```
 */
export function reservePort(hostname: string, port: number): ReservedPort {
  const listenOn = (port: number, reusePort: boolean) => {
    try {
      return Deno.listen({ hostname, port, ...(reusePort ? { reusePort } : {}) });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) throw e;
      throw listenError(formatHostPort(hostname, port), e);
    }
  };
  const plain = listenOn(port, false);
  const free = plain.addr.port;
  plain.close();
  const held = listenOn(free, true);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.close();
  };
  return { addr: held.addr, release, [Symbol.dispose]: release };
}
