import { encodeSized } from "../../lib/framing/size_header.ts";

const encoder = new TextEncoder();
const frame = (obj: unknown) => encodeSized(encoder.encode(JSON.stringify(obj)));

/**
 * A BFTP server that answers the hello and a GET of 1,000 bytes, sends 10 of
 * them, and then goes silent with the connection open.
 */
export function stallingServer(): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const served = (async () => {
    const conn = await listener.accept();
    conns.push(conn);
    const buf = new Uint8Array(4096);
    await conn.read(buf); // the hello line
    await conn.write(frame({ ok: true, version: 1, server: "stall" }));
    await conn.read(buf); // the GET frame
    await conn.write(frame({ ok: true, size: 1000, mtime: 0 }));
    await conn.write(encoder.encode("00000000000003e8"));
    await conn.write(new Uint8Array(10));
    // Silent from here on; the client must give up by itself.
    await conn.read(buf).catch(() => null);
  })();
  return {
    port: listener.addr.port,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by the peer's end already */ }
      }
      await served.catch(() => {});
    },
  };
}
