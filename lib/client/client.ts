/**
 * The BFTP client: one persistent session (over TCP or TLS, with a token
 * when the server asks for one), one request at a time, each answered with
 * a typed result or a thrown {@linkcode RemoteError}.
 *
 * `BftpClient` is the API; sending a request and reading its reply is
 * request_channel.ts's job, the GET and PUT transfers are transfers.ts's.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import type { ChecksumName } from "../protocol/limits.ts";
import type { Entry, FileVersion, OkReply, Request } from "../protocol/messages.ts";
import {
  checkCwdReply,
  checkHashReply,
  checkListReply,
  checkStatReply,
  type HashReply,
} from "../protocol/replies.ts";
import type { BodyResult } from "../transfer/body.ts";
import { type ClientOptions, RequestChannel } from "./request_channel.ts";
import { type GetOptions, type PutOptions, runGet, runPut } from "./transfers.ts";
import { type ManyGetHandler, type ManyPutFile, runGetMany, runPutMany } from "./many_transfers.ts";
import {
  type DeltaPut,
  type RemoteBlocks,
  runBlocks,
  runGetRange,
  runPutDelta,
} from "./block_transfers.ts";

export { type ClientOptions, DEFAULT_STALL_TIMEOUT } from "./request_channel.ts";
export type { GetOptions, PutOptions, TransferOptions } from "./transfers.ts";
export type { ManyGetHandler, ManyPutFile } from "./many_transfers.ts";

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
  #channel: RequestChannel;
  /** What the server said in its hello (`server`, `readOnly`, `auth`). */
  readonly hello: OkReply;
  /** Whether this session may only read: the server's setting or a read-only token. */
  readonly readOnly: boolean;
  /** The session's body checksum, which every transfer's trailer is in. */
  readonly checksum: ChecksumName;

  private constructor(channel: RequestChannel) {
    this.#channel = channel;
    this.hello = channel.hello;
    this.readOnly = channel.readOnly;
    this.checksum = channel.checksum;
  }

  /**
   * Connects and opens a session: TLS first when asked, the hello, then
   * the token when the server requires one.
   *
   * @param options The server's address, TLS trust and token.
   * @returns The client.
   * @throws {RemoteError} DENIED when the server requires a token and none
   * was given, or the token is wrong.
   */
  static async connect(options: ClientOptions): Promise<BftpClient> {
    return new BftpClient(await RequestChannel.open(options));
  }

  /** The local port of the connection (how the server's log names this client). */
  get localPort(): number {
    return this.#channel.localPort;
  }

  /**
   * Whether requests can still go on this session: not closed, and no
   * transfer has broken the stream (a cut, a timeout, a protocol error).
   */
  get usable(): boolean {
    return this.#channel.usable;
  }

  #request(req: Request): Promise<OkReply> {
    return this.#channel.request(req);
  }

  /** @returns The session's current folder. */
  async pwd(): Promise<string> {
    return checkCwdReply(await this.#request({ op: "PWD" })).cwd;
  }

  /**
   * Changes the session's current folder.
   *
   * @param path Relative or absolute.
   * @returns The new current folder.
   */
  async cd(path: string): Promise<string> {
    return checkCwdReply(await this.#request({ op: "CD", path })).cwd;
  }

  /**
   * Lists a folder.
   *
   * @param path The folder.
   * @returns Its entries, sorted by name.
   */
  async list(path: string): Promise<Entry[]> {
    return checkListReply(await this.#request({ op: "LIST", path })).entries;
  }

  /**
   * Tells whether `path` is an existing folder (a STAT; NOT_FOUND is `false`).
   *
   * @param path The path.
   * @returns `true` for a folder; `false` for a file or nothing there.
   */
  async isFolder(path: string): Promise<boolean> {
    try {
      return (await this.stat(path)).type === "dir";
    } catch (e) {
      if (e instanceof RemoteError && e.code === "NOT_FOUND") return false;
      throw e;
    }
  }

  /**
   * Describes a file or folder.
   *
   * @param path The path.
   * @returns The entry.
   */
  async stat(path: string): Promise<Entry> {
    return checkStatReply(await this.#request({ op: "STAT", path })).entry;
  }

  /**
   * Asks the server for a file's SHA-256 (whatever the session's checksum).
   *
   * @param path The file.
   * @returns Size and SHA-256.
   */
  async hash(path: string): Promise<HashReply> {
    const { size, sha256 } = checkHashReply(await this.#request({ op: "HASH", path }));
    return { size, sha256 };
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
   * @param newMode The bits of the folder if it is made (less the server's
   * umask); the server's default (`0o777` less its umask) when absent.
   */
  async mkdir(path: string, parents = false, newMode?: number): Promise<void> {
    // A read-only session is refused every MKDIR, one of a folder that is there too; with
    // parents that one is no error (as GNU `mkdir -p` on a read-only file system), so it is
    // looked at first.
    if (parents && this.readOnly && (await this.isFolder(path))) return;
    await this.#request({
      op: "MKDIR",
      path,
      parents,
      ...(newMode === undefined ? {} : { newMode }),
    });
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
   * Whether the server offers a feature its hello names in `features`
   * (version 2): `"setstat"`, the SETSTAT request; `"mget"`, MGET; `"mput"`, MPUT.
   *
   * @param feature The feature's name.
   * @returns Whether the hello named it.
   */
  supports(feature: string): boolean {
    const features = this.hello.features;
    return Array.isArray(features) && features.includes(feature);
  }

  /**
   * Sets a remote file's or folder's modification time and permission bits
   * (SETSTAT; only when {@linkcode BftpClient.supports} says `"setstat"`).
   * A link there is refused, not followed.
   *
   * @param path The file or folder.
   * @param attributes The time (ms since the epoch) and the bits; either or both.
   */
  async setStat(path: string, attributes: { mtime?: number; mode?: number }): Promise<void> {
    await this.#request({ op: "SETSTAT", path, ...attributes });
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
   * Downloads a file into `sink`, verifying its SHA-256 as it arrives; or,
   * with `resume`, the rest of it, verifying the whole file's SHA-256.
   *
   * @param path The remote file.
   * @param sink Where the bytes go (from the reply's offset on).
   * @param options Progress callbacks, resume.
   * @returns The size of the body and the verified hash (of the whole file).
   * @throws {IntegrityError} When the hash does not match.
   * @throws {RemoteError} CHANGED when resuming a file that is no longer the expected version.
   */
  get(path: string, sink: ByteWriter, options: GetOptions = {}): Promise<BodyResult> {
    return runGet(this.#channel, path, sink, options);
  }

  /**
   * Downloads many whole files with one request (MGET; only when
   * {@linkcode BftpClient.supports} says `"mget"`), each verified; one
   * file's failure is its own (see `runGetMany`).
   *
   * @param paths The remote files, 1 to `MAX_MGET_PATHS`.
   * @param handler Where each body goes, and what became of each file.
   */
  getMany(paths: readonly string[], handler: ManyGetHandler): Promise<void> {
    return runGetMany(this.#channel, paths, handler);
  }

  /**
   * Uploads many whole files held in memory with one request (MPUT; only
   * when {@linkcode BftpClient.supports} says `"mput"`); one file's refusal
   * is its own (see `runPutMany`).
   *
   * @param files The files, 1 to `MAX_MGET_PATHS`.
   * @param overwrite Replace existing files.
   * @param done Told each file's outcome, in order.
   */
  putMany(
    files: readonly ManyPutFile[],
    overwrite: boolean,
    done: (index: number, outcome: BodyResult | RemoteError) => void,
  ): Promise<void> {
    return runPutMany(this.#channel, files, overwrite, done);
  }

  /**
   * A file's checksum and its blocks' digests (BLOCKS; only when
   * {@linkcode BftpClient.supports} says `"blocks"`).
   *
   * @param path The remote file.
   * @param blockSize The block size.
   * @returns The file's size, time, checksum, and the digests.
   */
  blocks(path: string, blockSize: number): Promise<RemoteBlocks> {
    return runBlocks(this.#channel, path, blockSize);
  }

  /**
   * Downloads a range of a file's version into `sink` (a GET with `length`;
   * only when {@linkcode BftpClient.supports} says `"blocks"`).
   *
   * @param path The remote file.
   * @param range Where, how much, and of which version (else CHANGED).
   * @param sink Where the bytes go.
   * @returns Their size and checksum.
   */
  getRange(
    path: string,
    range: { offset: number; length: number; expect: FileVersion },
    sink: ByteWriter,
  ): Promise<BodyResult> {
    return runGetRange(this.#channel, path, range, sink);
  }

  /**
   * Uploads a file as a delta of the server's copy (a PUT with `base`; only
   * when {@linkcode BftpClient.supports} says `"blocks"`).
   *
   * @param path The remote file.
   * @param source The bytes of the blocks not reused, in order.
   * @param literal How many.
   * @param delta The base, blocks reused and the whole file's checksum.
   * @returns The new file's size and checksum, as the server confirmed them.
   */
  putDelta(
    path: string,
    source: ByteReader,
    literal: number,
    delta: DeltaPut,
  ): Promise<BodyResult> {
    return runPutDelta(this.#channel, path, source, literal, delta);
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
  put(path: string, source: ByteReader, options: PutOptions): Promise<BodyResult> {
    return runPut(this.#channel, path, source, options);
  }

  /** Ends the session politely and closes the connection. */
  async quit(): Promise<void> {
    if (this.#channel.closed) return;
    if (this.#channel.usable) {
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
    this.#channel.close();
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.close();
  }
}
