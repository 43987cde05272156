/**
 * A test double for `bftp check`: a small BFTP server on a real socket that
 * keeps uploaded files in memory and answers MKDIR, PUT, HASH, LIST,
 * DELETE, RMDIR and QUIT correctly, but spoils the body of one chosen GET.
 * The spoiled body is self-consistent (its announced size and SHA-256
 * trailer match the bytes sent), so the client's own checks pass and only
 * an end-to-end comparison with the source can catch it; or the connection
 * is cut in the middle of the body.
 *
 * @module
 */

import { BftpError } from "../../lib/errors.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { Channel } from "../../lib/protocol/channel.ts";
import { receiveBody } from "../../lib/transfer/body.ts";
import { sha256 } from "../helpers.ts";

/** How the chosen GET goes wrong. */
export type GetFault =
  /** One byte in the middle is flipped; the trailer hashes the flipped bytes. */
  | "flip"
  /** The last byte is missing; the reply's size and the trailer agree with that. */
  | "short"
  /** The connection is closed halfway through the body. */
  | "cut";

/** Options for {@linkcode startFaultyServer}. */
export interface FaultyServerOptions {
  /** What to do to the body. */
  fault: GetFault;
  /** Which GET (counted from 1 over the server's life) to spoil. */
  spoilGet: number;
}

/** A running faulty server. */
export interface FaultyServer extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  port: number;
  /** How many GETs it answered. */
  readonly gets: number;
  /** Stops it and waits for its sessions to end. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

/**
 * Starts the faulty server on 127.0.0.1, port 0.
 *
 * @param options The fault and which GET gets it.
 * @returns The server.
 */
export function startFaultyServer(options: FaultyServerOptions): FaultyServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const files = new Map<string, Uint8Array>();
  const conns = new Set<Deno.Conn>();
  const sessions = new Set<Promise<void>>();
  let gets = 0;

  const sendGet = async (conn: Deno.Conn, channel: Channel, content: Uint8Array) => {
    gets++;
    let body = content;
    if (gets === options.spoilGet && options.fault === "flip") {
      body = content.slice();
      body[body.byteLength >> 1]! ^= 0x01;
    } else if (gets === options.spoilGet && options.fault === "short") {
      body = content.subarray(0, content.byteLength - 1);
    }
    await channel.send({ ok: true, size: body.byteLength, mtime: 0 });
    await writeAll(conn, encoder.encode(body.byteLength.toString(16).padStart(16, "0")));
    if (gets === options.spoilGet && options.fault === "cut") {
      await writeAll(conn, content.subarray(0, content.byteLength >> 1));
      conn.close();
      return false;
    }
    await writeAll(conn, body);
    await writeAll(conn, encoder.encode(sha256(body)));
    return true;
  };

  const session = async (conn: Deno.Conn) => {
    const channel = new Channel(conn);
    if (!(await channel.serverReadHello())) return;
    await channel.send({ ok: true, version: 1, server: "faulty 0", readOnly: false });
    while (true) {
      const req = await channel.receiveRequest();
      if (req === null) return;
      switch (req.op) {
        case "MKDIR":
        case "RMDIR":
          await channel.send({ ok: true });
          break;
        case "PUT": {
          await channel.send({ ok: true, ready: true });
          const chunks: Uint8Array[] = [];
          const sink = {
            write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.byteLength)),
          };
          const got = await receiveBody(channel.reader, sink, { expectedSize: req.size });
          const content = new Uint8Array(got.size);
          let at = 0;
          for (const c of chunks) {
            content.set(c, at);
            at += c.byteLength;
          }
          files.set(req.path, content);
          await channel.send({ ok: true, size: got.size, sha256: got.hash });
          break;
        }
        case "HASH": {
          const content = files.get(req.path);
          await channel.send(
            content
              ? { ok: true, size: content.byteLength, sha256: sha256(content) }
              : { ok: false, code: "NOT_FOUND", message: `"${req.path}" not found` },
          );
          break;
        }
        case "GET": {
          const content = files.get(req.path);
          if (!content) {
            await channel.send({
              ok: false,
              code: "NOT_FOUND",
              message: `"${req.path}" not found`,
            });
          } else if (!(await sendGet(conn, channel, content))) {
            return;
          }
          break;
        }
        case "LIST": {
          const prefix = req.path.endsWith("/") ? req.path : `${req.path}/`;
          const entries = [...files.entries()].filter(([p]) => p.startsWith(prefix)).map((
            [p, c],
          ) => ({
            name: p.slice(prefix.length),
            type: "file",
            size: c.byteLength,
            mtime: 0,
            mode: 420,
          }));
          await channel.send({ ok: true, entries });
          break;
        }
        case "DELETE":
          files.delete(req.path);
          await channel.send({ ok: true });
          break;
        case "QUIT":
          await channel.send({ ok: true });
          return;
        default:
          await channel.send({ ok: false, code: "BAD_REQUEST", message: "Not in this double" });
      }
    }
  };

  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const done: Promise<void> = session(conn)
        .catch((e) => {
          // The client hangs up after a spoiled body: that is expected here.
          if (
            !(e instanceof BftpError || e instanceof Deno.errors.BadResource ||
              e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
              e instanceof Deno.errors.Interrupted)
          ) {
            throw e;
          }
        })
        .finally(() => {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // Closed by a "cut" already.
          }
          sessions.delete(done);
        });
      sessions.add(done);
    }
  })();

  const close = async () => {
    try {
      listener.close();
    } catch {
      // Closed already.
    }
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
    await accepting.catch(() => {});
    await Promise.all(sessions);
  };
  return {
    port: listener.addr.port,
    get gets() {
      return gets;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
