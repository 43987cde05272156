/**
 * A Deno connection seen as a `node:stream` Duplex, so that `node:tls` can
 * run a server-side TLS session over a socket that bftp accepted (and can
 * close) itself.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import { writeAll } from "../framing/write_all.ts";
import { nodeBuiltin } from "../node_builtin.ts";
import { closeQuietly } from "./close.ts";

/** The most bytes read from the socket in one go. */
const READ_BYTES = 256 * 1024;

/**
 * Wraps a connection. Destroying the Duplex closes the connection at once,
 * whatever state a TLS session over it is in.
 *
 * @param conn The connection; the Duplex owns it from now on.
 * @returns The Duplex.
 *
 * @example
 * ```ts
 * import { duplexOf } from "./conn_duplex.ts";
 * import { equal } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const duplex = duplexOf(await listener.accept());
 * await client.write(new TextEncoder().encode("hi"));
 * const chunk = await new Promise<Uint8Array>((resolve) => duplex.once("data", resolve));
 * equal(new TextDecoder().decode(chunk), "hi");
 * duplex.destroy();
 * equal(await client.read(new Uint8Array(1)), null);
 * client.close();
 * ```
 */
export function duplexOf(conn: Deno.Conn): Duplex {
  let reading = false;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeQuietly(conn);
  };
  const stream = nodeBuiltin<typeof import("node:stream")>("node:stream");
  return new stream.Duplex({
    read() {
      if (reading || closed) return;
      reading = true;
      // A fresh buffer each time: the consumer keeps the chunk it is given.
      const buf = new Uint8Array(READ_BYTES);
      conn.read(buf).then((n) => {
        reading = false;
        if (n === null) this.push(null);
        else if (this.push(buf.subarray(0, n))) this._read(READ_BYTES);
      }, (e) => {
        reading = false;
        if (closed) this.push(null);
        else this.destroy(e);
      });
    },
    write(chunk: Uint8Array, _encoding, callback) {
      writeAll(conn, chunk).then(() => callback(), (e) => callback(e));
    },
    final(callback) {
      conn.closeWrite().then(() => callback(), (e) => callback(e));
    },
    destroy(error, callback) {
      close();
      callback(error);
    },
  });
}
