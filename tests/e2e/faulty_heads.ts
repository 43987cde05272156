/**
 * Heads that fail, for the tests of a client given several heads
 * (`heads_test.ts`): a listener that hangs up before the hello, one that
 * never answers, and a proxy
 * in front of a real head that cuts or stalls a transfer after so many bytes.
 *
 * @module
 */

/** A listener that accepts connections and closes them at once, before the hello. */
export function hangingUp(): { head: string } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  return {
    head: `127.0.0.1:${listener.addr.port}`,
    [Symbol.asyncDispose]: async () => {
      listener.close();
      await accepting;
    },
  };
}

/** A listener that accepts connections and keeps them, never answering, until the client leaves. */
export function silentHead(): { head: string } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Promise<void>[] = [];
  const hold = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(1024);
    try {
      while ((await conn.read(buf)) !== null) { /* read, never answer */ }
    } catch {
      // The client reset the connection: it has left.
    }
    conn.close();
  };
  const accepting = (async () => {
    for await (const conn of listener) held.push(hold(conn));
  })();
  return {
    head: `127.0.0.1:${listener.addr.port}`,
    [Symbol.asyncDispose]: async () => {
      listener.close();
      await accepting;
      await Promise.all(held);
    },
  };
}

/** How {@linkcode cuttingProxy} spoils the first connection. */
export interface ProxyFault {
  /** `down`: the bytes to the client; `up`: those to the server. */
  direction: "down" | "up";
  /** How many bytes go that way before the fault. */
  limit: number;
  /**
   * The server's end stays open this long after the client's is cut (a
   * head that has not noticed yet).
   *
   * @default {0}
   */
  holdServerMs?: number;
  /**
   * Stall instead of cutting: nothing more goes that way, and both ends stay
   * open until the client gives up (a head that hangs).
   *
   * @default {false}
   */
  stall?: boolean;
  /** Keeps a copy of every byte sent to the server, each connection's (a limit of Infinity: no fault). */
  keepUp?: Uint8Array[];
}

/**
 * A proxy in front of a head that forwards the first connection until the
 * fault's limit, then cuts both ends (a head lost mid-transfer) or stalls.
 * Later connections pass whole.
 */
export function cuttingProxy(
  target: string,
  fault: ProxyFault,
): { head: string; cuts: number; connections: number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [hostname, port] = [
    target.slice(0, target.lastIndexOf(":")),
    Number(target.split(":").at(-1)),
  ];
  const state = { head: `127.0.0.1:${listener.addr.port}`, cuts: 0, connections: 0 };
  const pumps: Promise<void>[] = [];
  const serve = async (client: Deno.Conn, first: boolean) => {
    const server = await Deno.connect({ hostname, port });
    let closing: Promise<void> | undefined;
    let closed = () => {};
    const ended = new Promise<void>((resolve) => closed = resolve);
    const close = () =>
      closing ??= (async () => {
        closed();
        client.close();
        const hold = first ? fault.holdServerMs ?? 0 : 0;
        if (hold > 0) await new Promise((r) => setTimeout(r, hold));
        server.close();
      })();
    const pump = async (from: Deno.Conn, to: Deno.Conn, cutAt: number, keep?: Uint8Array[]) => {
      const buf = new Uint8Array(64 * 1024);
      let moved = 0;
      try {
        for (;;) {
          const n = await from.read(buf);
          if (n === null) break;
          const take = Math.min(n, cutAt - moved);
          keep?.push(buf.slice(0, take));
          let done = 0;
          while (done < take) done += await to.write(buf.subarray(done, take));
          moved += take;
          if (moved >= cutAt) {
            state.cuts++;
            if (fault.stall) await ended;
            break;
          }
        }
      } catch {
        // The other end closed: the proxy closes too.
      }
      await close();
    };
    const down = first && fault.direction === "down" ? fault.limit : Infinity;
    const up = first && fault.direction === "up" ? fault.limit : Infinity;
    await Promise.all([pump(server, client, down), pump(client, server, up, fault.keepUp)]);
  };
  const accepting = (async () => {
    let first = true;
    for await (const conn of listener) {
      state.connections++;
      pumps.push(serve(conn, first).catch(() => conn.close()));
      first = false;
    }
  })();
  return Object.assign(state, {
    [Symbol.asyncDispose]: async () => {
      listener.close();
      await accepting;
      await Promise.all(pumps);
    },
  });
}

const latin1 = new TextDecoder("latin1");

/**
 * The PUT requests (their JSON) in the bytes a client sent, bodies and all,
 * as a proxy's `keepUp` kept them.
 */
export function putRequestsIn(sent: readonly Uint8Array[]): string[] {
  return sent.map((c) => latin1.decode(c)).join("").match(/\{"op":"PUT"[^}]*\}/g) ?? [];
}
