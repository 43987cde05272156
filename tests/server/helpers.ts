/**
 * Shared helpers of the server, root and client tests: a real BFTP server
 * on 127.0.0.1 port 0 over a fresh temporary folder, real clients, a raw
 * socket session for sending what a well-behaved client never would, and
 * the checks every error path makes.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { tempDir, waitFor } from "../helpers.ts";
import { BftpClient, type ClientOptions } from "../../lib/client/client.ts";
import { RemoteError, type RemoteErrorCode } from "../../lib/errors.ts";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { readSized, writeSized } from "../../lib/framing/size_header.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { MAX_REPLY_BYTES } from "../../lib/protocol/limits.ts";
import {
  decodeReply,
  encodeMessage,
  type Reply,
  type Request,
} from "../../lib/protocol/messages.ts";
import { SETTLE_FINE_MS } from "../../lib/root/hash_cache.ts";
import { ServedRoot } from "../../lib/root/served_root.ts";
import { type BftpServer, type ServerOptions, startServer } from "../../lib/server/server.ts";

/** Options for {@linkcode startTestServer}. */
export interface TestServerOptions {
  /**
   * Serve read-only.
   *
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Files to create under the root before starting (path -> content); a
   * path ending in "/" makes a folder.
   *
   * @default {{}}
   */
  files?: Record<string, string | Uint8Array>;
  /**
   * The connection limit.
   *
   * @default {1000}
   */
  maxConnections?: number;
  /**
   * More server options (TLS, tokens, limits).
   *
   * @default {{}}
   */
  server?: Omit<ServerOptions, "root" | "log"> | undefined;
}

/** A running server over a temporary folder. */
export interface TestServer extends AsyncDisposable {
  /** A temporary folder holding `root` (and whatever a test puts beside it). */
  base: string;
  /** The served folder's host path (real path). */
  root: string;
  /** The served root. */
  served: ServedRoot;
  /** The server. */
  server: BftpServer;
  /** Its port. */
  port: number;
  /** The server's log lines. */
  log: string[];
  /** Opens a real client session (TLS and token as `options` say). */
  connect(options?: Partial<ClientOptions>): Promise<BftpClient>;
  /** Opens a raw session (hello done: `BFTP/1` unless told otherwise). */
  raw(hello?: string): Promise<RawSession>;
  /** Waits until the server has this many sessions open. */
  waitForConnections(n: number): Promise<void>;
}

/**
 * Writes the files of a layout under `dir`.
 *
 * @param dir The folder.
 * @param files Path -> content; a path ending in "/" makes a folder.
 */
export async function writeLayout(
  dir: string,
  files: Record<string, string | Uint8Array>,
): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = `${dir}/${path}`;
    if (path.endsWith("/")) {
      await Deno.mkdir(full, { recursive: true });
      continue;
    }
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
}

/**
 * Waits until files written just now have settled: the server's hash cache
 * remembers a hash only for a file whose times are older than the read by
 * {@linkcode SETTLE_FINE_MS} (see `hash_cache.ts`), so a test that expects
 * an answer from the cache waits this long after writing.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_FINE_MS + 20));
}

/**
 * Starts a server on 127.0.0.1 port 0 over a new temporary folder. Disposing
 * it stops the server and removes the folder.
 *
 * @param options Read-only, initial files, connection limit.
 * @returns The running server.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = await tempDir();
  const base = dir.path;
  const root = `${base}/root`;
  await Deno.mkdir(root);
  await writeLayout(root, options.files ?? {});
  const served = await ServedRoot.open(root, { readOnly: options.readOnly ?? false, fsync: false });
  const log: string[] = [];
  const server = startServer({
    root: served,
    hostname: "127.0.0.1",
    port: 0,
    log: (line) => log.push(line),
    maxConnections: options.maxConnections ?? 1000,
    ...options.server,
  });
  const port = server.addr.port;
  return {
    base,
    root,
    served,
    server,
    port,
    log,
    connect: (more = {}) => BftpClient.connect({ hostname: "127.0.0.1", port, ...more }),
    raw: (hello) => RawSession.open(port, hello),
    waitForConnections: (n) =>
      waitFor(() => server.connections === n, `${n} open sessions (${server.connections} now)`),
    async [Symbol.asyncDispose]() {
      try {
        await server.close();
      } finally {
        await dir[Symbol.asyncDispose]();
      }
    },
  };
}

/** A session spoken by hand over a raw socket. */
export class RawSession implements Disposable {
  /** The connection. */
  readonly conn: Deno.TcpConn;
  /** Its buffered read side. */
  readonly reader: BufferedReader;
  /** The server's hello reply. */
  hello: Reply | undefined;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.reader = new BufferedReader(conn);
  }

  /**
   * Connects and does the handshake.
   *
   * @param port The server's port.
   * @param hello The hello line.
   * @returns The session.
   */
  static async open(port: number, hello = "BFTP/1"): Promise<RawSession> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const session = new RawSession(conn);
    try {
      await writeAll(conn, encodeDelimited(hello));
      session.hello = await session.receive();
      ok(session.hello.ok, "the handshake was refused");
      return session;
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /**
   * Sends one frame: a request, or any bytes as the frame's payload.
   *
   * @param message A request, or raw payload bytes.
   */
  async send(message: Request | Uint8Array): Promise<void> {
    await writeSized(this.conn, message instanceof Uint8Array ? message : encodeMessage(message));
  }

  /**
   * Sends raw bytes, not framed.
   *
   * @param bytes The bytes.
   */
  async write(bytes: Uint8Array): Promise<void> {
    await writeAll(this.conn, bytes);
  }

  /**
   * Reads one reply.
   *
   * @returns The reply.
   */
  async receive(): Promise<Reply> {
    const bytes = await readSized(this.reader, { maxBytes: MAX_REPLY_BYTES });
    if (bytes === null) throw new Error("The server closed the connection");
    return decodeReply(bytes);
  }

  /**
   * Sends a request and reads its reply.
   *
   * @param req The request.
   * @returns The reply.
   */
  async request(req: Request | Uint8Array): Promise<Reply> {
    await this.send(req);
    return await this.receive();
  }

  /** Closes the connection (safe twice). */
  close(): void {
    try {
      this.conn.close();
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Asserts that `action` fails with a {@linkcode RemoteError} of `code`
 * whose message does not show `hostRoot`, and that the session is still
 * usable afterwards (a PWD succeeds and shows `cwd`).
 *
 * @param client The session.
 * @param action The failing request.
 * @param code The expected code.
 * @param hostRoot The served folder's host path, which must never be shown.
 * @param cwd The session's folder, unchanged by the failure.
 * @returns The error.
 */
export async function expectRemoteError(
  client: BftpClient,
  action: () => Promise<unknown>,
  code: RemoteErrorCode,
  hostRoot: string,
  cwd = "/",
): Promise<RemoteError> {
  let caught: unknown;
  try {
    await action();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof RemoteError)) {
    throw new Error(`Expected a RemoteError ${code}, got ${String(caught)}`, { cause: caught });
  }
  equal(caught.code, code, caught.message);
  ok(!caught.message.includes(hostRoot), `the host path leaked: ${caught.message}`);
  equal(await client.pwd(), cwd, "the session is still usable");
  return caught;
}

/**
 * Lists a host folder's names, sorted, recursively (`a/`, `a/b.txt`).
 *
 * @param dir The folder.
 * @returns The relative paths; folders end in "/".
 */
export async function hostTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for await (const e of Deno.readDir(d)) {
      const rel = prefix + e.name;
      if (e.isDirectory) {
        out.push(rel + "/");
        await walk(`${d}/${e.name}`, rel + "/");
      } else {
        out.push(rel);
      }
    }
  };
  await walk(dir, "");
  return out.sort();
}
