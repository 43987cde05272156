/**
 * A real loopback connection for parser tests: a peer writes the given
 * pieces (each its own write, with a pause between them so the reader sees
 * them split), then closes; the test reads through a
 * {@linkcode BufferedReader} on the other end.
 *
 * @module
 */

import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { writeAll } from "../../lib/framing/write_all.ts";

const encoder = new TextEncoder();

/**
 * Runs `fn` with a reader over a socket whose peer sends `pieces`.
 *
 * @param pieces What the peer sends, in order.
 * @param fn The test body.
 * @returns What `fn` returns.
 */
export async function overWire<T>(
  pieces: (string | Uint8Array)[],
  fn: (reader: BufferedReader) => Promise<T>,
): Promise<T> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const peer = await accepted;
  const sending = (async () => {
    try {
      for (const [i, piece] of pieces.entries()) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 2));
        await writeAll(peer, typeof piece === "string" ? encoder.encode(piece) : piece);
      }
    } catch (e) {
      // The reader may stop early (a limit hit) and close: that is the point of some tests.
      if (!(e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset)) {
        throw e;
      }
    } finally {
      peer.close();
    }
  })();
  try {
    return await fn(new BufferedReader(client));
  } finally {
    client.close();
    await sending;
  }
}
