/**
 * Tiny, deliberately broken BFTP servers for the client tests: they speak
 * the handshake and the request frames, written by hand from the wire format
 * (not with bftp's own code). {@linkcode startFakeBftpServer} serves one file
 * whose body is sent wrong; {@linkcode startScriptedBftpServer} answers each
 * request with whatever bytes a test scripts, to play a hostile server, and
 * lets the script read what the client sends ({@linkcode readSizedBody}).
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
  /** Its port on 127.0.0.1. */
  port: number;
  /** The requests received, as `OP path`. */
  requests: string[];
  /** Stops listening and waits for every connection to end. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

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
  out.set(hexBytes(json.byteLength, 8));
  out.set(json, 8);
  return out;
}

/** A request as the scripted server received it. */
export interface ScriptedRequest {
  /** The operation. */
  op: string;
  /** The path, when the request has one. */
  path?: string;
  [field: string]: unknown;
}

/** What a script does after answering: go on, hang up, or go silent until the server closes. */
export type ScriptAfter = void | "close" | "stall";

/** Reads what the client sends after a request, such as a PUT's body. */
export interface ScriptReader {
  /** Reads exactly `n` bytes; `null` when the client hangs up first. */
  exactly(n: number): Promise<Uint8Array | null>;
}

/**
 * Answers one request: writes whatever bytes it likes through `send`, and
 * reads what follows the request (a body) through `read`, which the
 * scripted server always passes (a script called by another script may
 * not get it).
 */
export type Script = (
  req: ScriptedRequest,
  send: (bytes: Uint8Array) => Promise<void>,
  read?: ScriptReader,
) => Promise<ScriptAfter> | ScriptAfter;

/**
 * A number as fixed-width lowercase hex ASCII, as BFTP size headers are.
 *
 * @param n The number (a bigint for sizes past 2^53).
 * @param width The digits.
 * @returns The bytes.
 */
export function hexBytes(n: number | bigint, width: number): Uint8Array {
  return encoder.encode(n.toString(16).padStart(width, "0"));
}

/**
 * Starts a server on 127.0.0.1 that answers the hello with `hello` (a
 * well-formed version 1 hello by default) and every request with `script`.
 * QUIT is answered `{"ok":true}` unless the script handles it.
 *
 * @param script The answers.
 * @param hello The hello frame's bytes.
 * @returns The server.
 */
export function startScriptedBftpServer(
  script: Script,
  hello: Uint8Array = frame({ ok: true, version: 1, server: "hostile 0", readOnly: false }),
): FakeBftpServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: string[] = [];
  const sessions = new Set<Promise<void>>();
  let closing = false;

  const session = async (conn: Deno.Conn) => {
    const reader = new WireReader(conn);
    // A BFTP/2 client takes a version 1 hello reply and goes on one request at a time.
    if (!(await reader.line())?.startsWith("BFTP/")) return;
    await writeAll(conn, hello);
    while (true) {
      const header = await reader.exactly(8);
      if (header === null) return;
      const body = await reader.exactly(parseInt(new TextDecoder().decode(header), 16));
      if (body === null) return;
      const req = JSON.parse(new TextDecoder().decode(body)) as ScriptedRequest;
      requests.push(`${req.op} ${req.path ?? ""}`.trim());
      const after = await script(req, (bytes) => writeAll(conn, bytes), reader);
      if (after === "close") return;
      if (after === "stall") {
        while (!closing) await new Promise((resolve) => setTimeout(resolve, 20));
        return;
      }
      if (req.op === "QUIT") {
        await writeAll(conn, frame({ ok: true }));
        return;
      }
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const done: Promise<void> = session(conn)
          .catch((e) => {
            // The client hangs up first when it refuses what it got: that is the point.
            if (
              !(e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
                e instanceof Deno.errors.BadResource)
            ) {
              throw e;
            }
          })
          .finally(() => {
            try {
              conn.close();
            } catch (e) {
              if (!(e instanceof Deno.errors.BadResource)) throw e;
            }
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
      closing = true;
      listener.close();
      await accepting;
      await Promise.all([...sessions]);
    })();
    return closed;
  };
  return {
    url: `bftp://127.0.0.1:${listener.addr.port}`,
    port: listener.addr.port,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Reads a sized body as a client sends it after a PUT is accepted: 16 hex
 * digits of size, the bytes, then the 64 hex digits of their SHA-256.
 *
 * @param read The script's reader.
 * @returns The bytes and the trailer, or `null` when the client hung up first.
 */
export async function readSizedBody(
  read: ScriptReader | undefined,
): Promise<{ content: Uint8Array; trailer: string } | null> {
  if (read === undefined) throw new TypeError("No reader: the script was not called by the server");
  const header = await read.exactly(16);
  if (header === null) return null;
  const size = parseInt(new TextDecoder().decode(header), 16);
  if (!(size < 2 ** 53)) throw new Error("A chunked body: not scripted here");
  const content = await read.exactly(size);
  const trailer = content === null ? null : await read.exactly(64);
  if (content === null || trailer === null) return null;
  return { content, trailer: new TextDecoder().decode(trailer) };
}

/**
 * Answers a GET with a sized body: the reply, the size header, the bytes,
 * then `trailer` (a fair server sends their SHA-256); with `cut`, only the
 * first half of the bytes, and the connection is closed.
 *
 * @param send The script's sender.
 * @param body The bytes.
 * @param trailer The 64 characters after them.
 * @param cut Stop halfway through the bytes and hang up.
 * @returns What the script does next.
 */
export async function sendSizedBody(
  send: (bytes: Uint8Array) => Promise<void>,
  body: Uint8Array,
  trailer: string,
  cut = false,
): Promise<ScriptAfter> {
  await send(frame({ ok: true, size: body.byteLength, mtime: 0 }));
  await send(hexBytes(body.byteLength, 16));
  if (cut) {
    await send(body.subarray(0, body.byteLength >> 1));
    return "close";
  }
  await send(body);
  await send(encoder.encode(trailer));
}

/**
 * A script that answers a GET of 1,000 bytes, sends 10 of them, and then
 * goes silent with the connection open (for the client's stall timeout).
 */
export async function stallMidBody(
  req: ScriptedRequest,
  send: (bytes: Uint8Array) => Promise<void>,
): Promise<ScriptAfter> {
  if (req.op !== "GET") return;
  await send(frame({ ok: true, size: 1000, mtime: 0 }));
  await send(hexBytes(1000, 16));
  await send(new Uint8Array(10));
  return "stall";
}

/**
 * Starts a fake server on 127.0.0.1 that answers STAT and GET for any path
 * with `content`, spoiling the GET body as `fault` says: a
 * {@linkcode startScriptedBftpServer} with a read-only hello.
 *
 * @param content The file's bytes.
 * @param fault How the body goes wrong.
 * @returns The server.
 */
export function startFakeBftpServer(content: Uint8Array, fault: FakeFault): FakeBftpServer {
  const script: Script = async (req, send) => {
    // QUIT is left to the scripted server, which answers it and hangs up.
    if (req.op === "QUIT") return;
    if (req.op === "STAT") {
      const name = (req.path ?? "").split("/").pop() ?? "";
      const entry = { name, type: "file", size: content.byteLength, mtime: 0, mode: 0o644 };
      await send(frame({ ok: true, entry }));
    } else if (req.op === "GET") {
      return await sendSizedBody(send, content, "ab".repeat(32), fault === "cut");
    } else {
      await send(frame({ ok: false, code: "DENIED", message: "Fake server" }));
    }
    return;
  };
  return startScriptedBftpServer(
    script,
    frame({ ok: true, version: 1, server: "fake 0", readOnly: true }),
  );
}
