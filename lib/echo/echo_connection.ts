/**
 * Serves one echo connection: every byte read is written back exactly as
 * received, through the framing library's end-by-close copy. The copy
 * writes each chunk in full before reading the next, so a client that sends
 * without reading fills the socket buffers and then waits: the server holds
 * one buffer per connection, however much the client sends.
 *
 * @module
 */

import { ConnectionError } from "../errors.ts";
import { copyUntilClose } from "../framing/mod.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { isDisconnect as isPeerGone } from "../transport/close.ts";

/** Options for {@linkcode echoConnection}. */
export interface EchoConnectionOptions {
  /**
   * The size of the connection's one buffer, in bytes: the most the server
   * holds for it at any time.
   *
   * @default {16384}
   */
  bufferSize?: number;
  /** Called with the size of each chunk, before it is written back. */
  onChunk?: (bytes: number) => void;
}

/**
 * Echoes a connection until the peer closes its sending side. The caller
 * closes the connection afterwards.
 *
 * @param conn The accepted connection (read and written).
 * @param options Buffer size and a per-chunk callback.
 * @returns The number of bytes echoed.
 * @throws {ConnectionError} When the peer stops accepting bytes; Deno's
 * connection errors (reset, broken pipe) pass through, see
 * {@linkcode isDisconnect}.
 *
 * @example
 * ```ts
 * import { echoConnection } from "./echo_connection.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * using server = await listener.accept();
 * const served = echoConnection(server);
 * await client.write(new TextEncoder().encode("ping"));
 * await client.closeWrite();
 * const reply = new Uint8Array(4);
 * deepEqual(await client.read(reply), 4);
 * deepEqual(await served, 4);
 * client.close();
 * ```
 */
export async function echoConnection(
  conn: ByteReader & ByteWriter,
  options: EchoConnectionOptions = {},
): Promise<number> {
  const onChunk = options.onChunk;
  return await copyUntilClose(conn, conn, {
    bufferSize: options.bufferSize ?? 16384,
    ...(onChunk ? { onChunk: (chunk: Uint8Array) => onChunk(chunk.byteLength) } : {}),
  });
}

/**
 * Tells whether an error only means that a connection is gone: reset or
 * closed by the peer, or closed under a pending read by this side.
 *
 * @param e The thrown value.
 * @returns `true` for the errors a server expects from a vanishing client.
 *
 * @example
 * ```ts
 * import { isDisconnect } from "./echo_connection.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(isDisconnect(new Deno.errors.ConnectionReset("reset")));
 * ok(!isDisconnect(new TypeError("bug")));
 * ```
 */
export function isDisconnect(e: unknown): boolean {
  return isPeerGone(e) || e instanceof ConnectionError;
}
