/**
 * A tiny, deliberately broken BFTP server for the end-to-end tests: it speaks
 * the handshake and the request frames, written by hand from the wire format
 * (not with bftp's own code), and serves one file whose body is sent wrong.
 *
 * @module
 */

/** How the fake server spoils a GET. */
export type FakeFault =
  /** The body arrives whole, but its SHA-256 trailer does not match it. */
  | "bad-hash"
  /** The connection is closed halfway through the body. */
  | "cut";

/** A running fake server. */
export interface FakeBftpServer extends AsyncDisposable {
  /** `bftp://127.0.0.1:PORT`. */
  url: string;
  /** The requests received, as `OP path`. */
  requests: string[];
  /** Stops listening and waits for every connection to end. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** Reads exact byte counts and lines from a connection. */
class WireReader {
  #conn: Deno.Conn;
  #buf = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Reads until `n` bytes are buffered; `null` at a clean end of stream. */
  async #fill(n: number): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    while (this.#buf.byteLength < n) {
      const got = await this.#conn.read(chunk);
      if (got === null) return false;
      const next = new Uint8Array(this.#buf.byteLength + got);
      next.set(this.#buf);
      next.set(chunk.subarray(0, got), this.#buf.byteLength);
      this.#buf = next;
    }
    return true;
  }

  async exactly(n: number): Promise<Uint8Array | null> {
    if (!(await this.#fill(n))) return null;
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  async line(): Promise<string | null> {
    while (!this.#buf.includes(10)) {
      if (!(await this.#fill(this.#buf.byteLength + 1))) return null;
    }
    const end = this.#buf.indexOf(10);
    const text = new TextDecoder().decode(this.#buf.slice(0, end));
    this.#buf = this.#buf.slice(end + 1);
    return text;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) done += await conn.write(bytes.subarray(done));
}

/**
 * Encodes a BFTP message frame by hand: 8 hex digits of size, then the JSON.
 *
 * @param message The request or reply.
 * @returns The frame's bytes.
 */
export function frame(message: Record<string, unknown>): Uint8Array {
  const json = encoder.encode(JSON.stringify(message));
  const out = new Uint8Array(8 + json.byteLength);
  out.set(encoder.encode(hex(json.byteLength, 8)));
  out.set(json, 8);
  return out;
}

/**
 * Starts a fake server on 127.0.0.1 that answers STAT and GET for any path
 * with `content`, spoiling the GET body as `fault` says.
 *
 * @param content The file's bytes.
 * @param fault How the body goes wrong.
 * @returns The server.
 */
export function startFakeBftpServer(content: Uint8Array, fault: FakeFault): FakeBftpServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: string[] = [];
  const sessions = new Set<Promise<void>>();

  const session = async (conn: Deno.Conn) => {
    const reader = new WireReader(conn);
    if ((await reader.line()) !== "BFTP/1") return;
    await writeAll(
      conn,
      frame({ ok: true, version: 1, server: "fake 0", readOnly: true }),
    );
    while (true) {
      const header = await reader.exactly(8);
      if (header === null) return;
      const size = parseInt(new TextDecoder().decode(header), 16);
      const body = await reader.exactly(size);
      if (body === null) return;
      const req = JSON.parse(new TextDecoder().decode(body)) as { op: string; path?: string };
      requests.push(`${req.op} ${req.path ?? ""}`.trim());
      const name = (req.path ?? "").split("/").pop() ?? "";
      if (req.op === "QUIT") {
        await writeAll(conn, frame({ ok: true }));
        return;
      } else if (req.op === "STAT") {
        const entry = { name, type: "file", size: content.byteLength, mtime: 0, mode: 0o644 };
        await writeAll(conn, frame({ ok: true, entry }));
      } else if (req.op === "GET") {
        await writeAll(conn, frame({ ok: true, size: content.byteLength, mtime: 0 }));
        await writeAll(conn, encoder.encode(hex(content.byteLength, 16)));
        if (fault === "cut") {
          await writeAll(conn, content.subarray(0, content.byteLength >> 1));
          return;
        }
        await writeAll(conn, content);
        await writeAll(conn, encoder.encode("0".repeat(64)));
      } else {
        await writeAll(conn, frame({ ok: false, code: "DENIED", message: "Fake server" }));
      }
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const done: Promise<void> = session(conn)
          .catch((e) => {
            // The client may hang up first; anything else is a test failure.
            if (
              !(e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe)
            ) {
              throw e;
            }
          })
          .finally(() => {
            conn.close();
            sessions.delete(done);
          });
        sessions.add(done);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  })();

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      listener.close();
      await accepting;
      await Promise.all([...sessions]);
    })();
    return closed;
  };
  return {
    url: `bftp://127.0.0.1:${listener.addr.port}`,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
