/**
 * The BFTP client: one persistent session, one request at a time, each
 * answered with a typed result or a thrown {@linkcode RemoteError}.
 *
 * @module
 */

import { ConnectionError, ProtocolError } from "../errors.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { Channel } from "../protocol/channel.ts";
import type { Entry, OkReply, Request } from "../protocol/messages.ts";
import { type BodyResult, receiveBody, sendBody } from "../transfer/body.ts";
import { connectTcp } from "./connect.ts";

/** Options for {@linkcode BftpClient.connect}. */
export interface ClientOptions {
  /** Server host name or address. */
  hostname: string;
  /** Server port. */
  port: number;
  /**
   * Seconds to wait for the connection.
   *
   * @default {30}
   */
  connectTimeout?: number;
}

/** Options for {@linkcode BftpClient.get} and {@linkcode BftpClient.put}. */
export interface TransferOptions {
  /** Called with each chunk's length as it moves. */
  onProgress?: ((bytes: number) => void) | undefined;
  /** Called once the size is known (GET), before the body moves. */
  onStart?: ((size: number | null) => void) | undefined;
}

/** Options for {@linkcode BftpClient.put}. */
export interface PutOptions extends TransferOptions {
  /** The body's size, or `null` to stream until `source` ends (stdin). */
  size: number | null;
  /**
   * Replace an existing file.
   *
   * @default {true}
   */
  overwrite?: boolean;
}

function field<T>(reply: OkReply, key: string, check: (v: unknown) => v is T): T {
  const v = reply[key];
  if (!check(v)) throw new ProtocolError(`Malformed reply: "${key}" is missing or invalid`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isSize = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isHash = (v: unknown): v is string => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);

const ENTRY_TYPES: ReadonlySet<unknown> = new Set(["file", "dir", "link", "other"]);
/** A time a Date can hold (±8.64e15 ms), or null: anything else would crash a formatter. */
const isTime = (v: unknown): v is number | null =>
  v === null || (typeof v === "number" && Number.isSafeInteger(v) && Math.abs(v) <= 8.64e15);
const isMode = (v: unknown): v is number | null =>
  v === null || (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0o7777);

function isEntry(v: unknown): v is Entry {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.name === "string" && ENTRY_TYPES.has(e.type) && isSize(e.size) &&
    isTime(e.mtime) && isMode(e.mode);
}

const isEntries = (v: unknown): v is Entry[] => Array.isArray(v) && v.every(isEntry);

/**
 * A session with a BFTP server.
 *
 * @example
 * ```ts
 * import { BftpClient } from "./client.ts";
 * import { startServer } from "../server/server.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const server = startServer({ root: await ServedRoot.open(dir), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * try {
 *   deepEqual(await client.pwd(), "/");
 * } finally {
 *   await client.quit();
 *   await server.close();
 *   await Deno.remove(dir);
 * }
 * ```
 */
export class BftpClient {
  #conn: Deno.Conn;
  #channel: Channel;
  #closed = false;
  #broken = false;
  /** What the server said in its hello (`server`, `readOnly`). */
  readonly hello: OkReply;

  private constructor(conn: Deno.Conn, channel: Channel, hello: OkReply) {
    this.#conn = conn;
    this.#channel = channel;
    this.hello = hello;
  }

  /**
   * Connects and opens a session.
   *
   * @param options The server's address.
   * @returns The client.
   */
  static async connect(options: ClientOptions): Promise<BftpClient> {
    const conn = await connectTcp({
      hostname: options.hostname,
      port: options.port,
      timeout: options.connectTimeout ?? 30,
    });
    try {
      const channel = new Channel(conn);
      const hello = await channel.clientHandshake();
      return new BftpClient(conn, channel, hello);
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** The local port of the connection (how the server's log names this client). */
  get localPort(): number {
    return (this.#conn.localAddr as Deno.NetAddr).port;
  }

  /** Runs `fn` and marks the session unusable if the stream broke in it. */
  async #guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed || this.#broken) {
      throw new ConnectionError("The session is closed");
    }
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
        this.#broken = true;
        throw new ConnectionError("Connection closed", { cause: e });
      }
      if (
        e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
        e instanceof Deno.errors.ConnectionAborted
      ) {
        this.#broken = true;
        throw new ConnectionError("Connection lost", { cause: e });
      }
      if (e instanceof ProtocolError || e instanceof ConnectionError) this.#broken = true;
      throw e;
    }
  }

  async #request(req: Request): Promise<OkReply> {
    return await this.#guard(async () => {
      await this.#channel.send(req);
      return await this.#channel.expectOk();
    });
  }

  /** @returns The session's current folder. */
  async pwd(): Promise<string> {
    return field(await this.#request({ op: "PWD" }), "cwd", isString);
  }

  /**
   * Changes the session's current folder.
   *
   * @param path Relative or absolute.
   * @returns The new current folder.
   */
  async cd(path: string): Promise<string> {
    return field(await this.#request({ op: "CD", path }), "cwd", isString);
  }

  /**
   * Lists a folder.
   *
   * @param path The folder.
   * @returns Its entries, sorted by name.
   */
  async list(path: string): Promise<Entry[]> {
    return field(await this.#request({ op: "LIST", path }), "entries", isEntries);
  }

  /**
   * Describes a file or folder.
   *
   * @param path The path.
   * @returns The entry.
   */
  async stat(path: string): Promise<Entry> {
    return field(await this.#request({ op: "STAT", path }), "entry", isEntry);
  }

  /**
   * Asks the server for a file's SHA-256.
   *
   * @param path The file.
   * @returns Size and hash.
   */
  async hash(path: string): Promise<BodyResult> {
    const reply = await this.#request({ op: "HASH", path });
    return { size: field(reply, "size", isSize), sha256: field(reply, "sha256", isHash) };
  }

  /**
   * Removes a file.
   *
   * @param path The file.
   */
  async delete(path: string): Promise<void> {
    await this.#request({ op: "DELETE", path });
  }

  /**
   * Makes a folder.
   *
   * @param path The folder.
   * @param parents Make parents too, and accept an existing folder.
   */
  async mkdir(path: string, parents = false): Promise<void> {
    await this.#request({ op: "MKDIR", path, parents });
  }

  /**
   * Removes an empty folder.
   *
   * @param path The folder.
   */
  async rmdir(path: string): Promise<void> {
    await this.#request({ op: "RMDIR", path });
  }

  /**
   * Renames or moves within the served root.
   *
   * @param from The current path.
   * @param to The new path.
   */
  async rename(from: string, to: string): Promise<void> {
    await this.#request({ op: "RENAME", from, to });
  }

  /**
   * Downloads a file into `sink`, verifying its SHA-256 as it arrives.
   *
   * @param path The remote file.
   * @param sink Where the bytes go.
   * @param options Progress callbacks.
   * @returns Size and verified hash.
   * @throws {IntegrityError} When the hash does not match.
   */
  async get(path: string, sink: ByteWriter, options: TransferOptions = {}): Promise<BodyResult> {
    return await this.#guard(async () => {
      await this.#channel.send({ op: "GET", path });
      const reply = await this.#channel.expectOk();
      const size = field(reply, "size", isSize);
      options.onStart?.(size);
      try {
        return await receiveBody(this.#channel.reader, sink, {
          expectedSize: size,
          // Never more than the reply announced, even in a chunked body; a local write
          // failure ends the download at once (the session is closed after it anyway).
          maxSize: size,
          stopOnSinkError: true,
          label: path,
          onProgress: options.onProgress,
        });
      } catch (e) {
        // Whatever failed mid-body, the stream is no longer in step.
        this.#broken = true;
        throw e;
      }
    });
  }

  /**
   * Uploads from `source`; the server stores it atomically once the hash
   * checks out.
   *
   * @param path The remote file.
   * @param source Where the bytes come from.
   * @param options Size (or `null` for a stream), overwrite, progress.
   * @returns Size and hash, as the server confirmed them.
   */
  async put(path: string, source: ByteReader, options: PutOptions): Promise<BodyResult> {
    return await this.#guard(async () => {
      await this.#channel.send({
        op: "PUT",
        path,
        size: options.size,
        overwrite: options.overwrite ?? true,
      });
      await this.#channel.expectOk();
      options.onStart?.(options.size);
      let sent: BodyResult;
      try {
        sent = await sendBody(this.#conn, source, {
          size: options.size,
          label: path,
          onProgress: options.onProgress,
        });
      } catch (e) {
        this.#broken = true;
        throw e;
      }
      const reply = await this.#channel.expectOk();
      const sha256 = field(reply, "sha256", isHash);
      if (sha256 !== sent.sha256) {
        throw new ProtocolError(`Server confirmed hash ${sha256}, but ${sent.sha256} was sent`);
      }
      return { size: field(reply, "size", isSize), sha256 };
    });
  }

  /** Ends the session politely and closes the connection. */
  async quit(): Promise<void> {
    if (this.#closed) return;
    if (!this.#broken) {
      try {
        await this.#request({ op: "QUIT" });
      } catch {
        // Closing anyway.
      }
    }
    this.close();
  }

  /** Closes the connection at once (safe to call twice). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource)) throw e;
    }
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }
}
