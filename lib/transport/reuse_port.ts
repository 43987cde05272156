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

/** How many free ports a reservation of port 0 tries. */
const FREE_PORT_ATTEMPTS = 5;

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
  let held: Deno.Listener<Deno.TcpConn, Deno.NetAddr> | undefined;
  // Port 0: the free port found may be taken by another program between the two listens (seen
  // once in scripts/test, whose files run in parallel): another is found, a few times at most.
  for (let attempt = 1; held === undefined; attempt++) {
    const plain = listenOn(port, false);
    const free = plain.addr.port;
    plain.close();
    try {
      held = listenOn(free, true);
    } catch (e) {
      if (port !== 0 || attempt >= FREE_PORT_ATTEMPTS || !(e instanceof Deno.errors.AddrInUse)) {
        throw e;
      }
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.close();
  };
  return { addr: held.addr, release, [Symbol.dispose]: release };
}
