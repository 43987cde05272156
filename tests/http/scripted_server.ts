/**
 * A small HTTP test server of ours, for what Python's http.server cannot
 * do: each connection's request head is read in full, recorded, and handed
 * to a script that writes whatever raw bytes the test wants (redirects,
 * chunked bodies, a body cut short, oversize headers, or nothing at all).
 *
 * @module
 */

import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { writeAll } from "../../lib/framing/write_all.ts";

/** A request as the server received it. */
export interface ScriptedRequest {
  /** The request line, such as `GET /a?b HTTP/1.0`. */
  line: string;
  /** The request target (path and query). */
  path: string;
  /** The header lines, as sent. */
  headers: string[];
}

/** What a script gets besides the request. */
export interface ScriptContext {
  /** Writes text or bytes to the client. */
  send(data: string | Uint8Array): Promise<void>;
  /** Resolves when the server is closing (for a script that never answers). */
  closing: Promise<void>;
  /** The server's own port. */
  port: number;
}

/** Answers one request; the connection is closed when it returns. */
export type Script = (request: ScriptedRequest, ctx: ScriptContext) => Promise<void>;

const encoder = new TextEncoder();

/** A running scripted server on 127.0.0.1 and a port the OS chose. */
export class ScriptedServer implements AsyncDisposable {
  /** Every request received, in order. */
  readonly requests: ScriptedRequest[] = [];
  /** Errors the scripts raised (other than the client going away). */
  readonly errors: unknown[] = [];
  #listener: Deno.TcpListener;
  #tasks = new Set<Promise<void>>();
  #loop: Promise<void>;
  #closing: PromiseWithResolvers<void> = Promise.withResolvers<void>();
  #script: Script;

  /** @param script How to answer each request. */
  constructor(script: Script) {
    this.#script = script;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#loop = this.#acceptLoop();
  }

  /** The listening port. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /**
   * A URL on this server.
   *
   * @param path The path and query, starting with `/`.
   * @returns `http://127.0.0.1:PORT` followed by `path`.
   */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async #acceptLoop(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        throw e;
      }
      const task = this.#handle(conn).finally(() => {
        this.#tasks.delete(task);
        try {
          conn.close();
        } catch (e) {
          if (!(e instanceof Deno.errors.BadResource)) throw e;
        }
      });
      this.#tasks.add(task);
    }
  }

  async #handle(conn: Deno.Conn): Promise<void> {
    try {
      const reader = new BufferedReader(conn);
      const head = await reader.readUntil(encoder.encode("\r\n\r\n"), 65536);
      if (head === null) return;
      const [line = "", ...headers] = new TextDecoder().decode(head).split("\r\n");
      const request = { line, path: line.split(" ")[1] ?? "", headers };
      this.requests.push(request);
      await this.#script(request, {
        send: (data) => writeAll(conn, typeof data === "string" ? encoder.encode(data) : data),
        closing: this.#closing.promise,
        port: this.port,
      });
    } catch (e) {
      if (
        e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset ||
        e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted
      ) return;
      this.errors.push(e);
    }
  }

  /** Stops accepting, drops open connections and waits for every script to end. */
  async close(): Promise<void> {
    this.#closing.resolve();
    this.#listener.close();
    await this.#loop;
    await Promise.all([...this.#tasks]);
  }

  /** Same as {@linkcode ScriptedServer.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A script that sends a status line, then its header a byte at a time,
 * one every `everyMs` (a slow-loris server), `count` bytes at most; it ends
 * when the client hangs up (a send fails).
 *
 * @param count The most bytes to drip.
 * @param everyMs The pause between two.
 * @returns The script.
 */
export function drippingHeader(count: number, everyMs: number): Script {
  return async (_req, ctx) => {
    await ctx.send("HTTP/1.0 200 OK\r\n");
    for (let i = 0; i < count; i++) {
      if (!await ctx.send("X").then(() => true, () => false)) return;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };
}
