/**
 * A server session's side of its connection: the channel over a corked
 * writer, the buffer lent to small bodies, the request deadline, and the
 * commit group of its pipelined uploads. Whatever is held is sent, and the
 * group lands, before a read that waits; answers keep the requests' order.
 *
 * @module
 */

import { ConnectionError } from "../errors.ts";
import { CorkedWriter } from "../framing/corked_writer.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { Channel } from "../protocol/channel.ts";
import type { Reply } from "../protocol/messages.ts";
import { isDisconnect } from "../transport/close.ts";
import { CommitGroup, settlesAtOnce } from "./commit_group.ts";
import { RequestDeadline } from "./request_deadline.ts";
import type { SessionOptions } from "./session_options.ts";

/**
 * The largest body a session lends its buffer to (`HandlerContext.bodyBuffer`):
 * the buffer grows to the largest small body answered, as the corked
 * writer grows to what it holds, so a session of 1 KiB GETs keeps 1 KiB.
 */
const BODY_BUFFER_LENT = 64 * 1024;

/**
 * One session's connection, as its requests are read and answered.
 *
 * @example
 * ```ts
 * import { SessionWire } from "./session_wire.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const root = await ServedRoot.open(dir);
 * const written: string[] = [];
 * const stream = {
 *   read: () => Promise.resolve(null),
 *   write: (p: Uint8Array) => {
 *     written.push(new TextDecoder().decode(p));
 *     return Promise.resolve(p.byteLength);
 *   },
 * };
 * const wire = new SessionWire(stream, { root, remote: "test", log: () => {} }, () => {});
 * await wire.send({ ok: true, cwd: "/" });
 * equal(written.length, 0); // held until the next read that waits, or the end
 * await wire.end();
 * ok(written[0]!.endsWith('{"ok":true,"cwd":"/"}'));
 * equal(wire.lend(100)?.byteLength, 100);
 * root.close();
 * await Deno.remove(dir);
 * ```
 */
export class SessionWire {
  readonly #stream: ByteReader & ByteWriter;
  /** The pieces of an answer go out in one write; whatever is held is sent before every read. */
  readonly out: CorkedWriter;
  /** Lent to small answers' bodies, one at a time (`HandlerContext.bodyBuffer`). */
  #bodyBuffer = new Uint8Array(0);
  /** The session's requests in, its answers out. */
  readonly channel: Channel;
  /** The deadline of a hello or a request being read. */
  readonly deadline: RequestDeadline;
  /** Uploads whose bodies arrived whole, to be committed and answered together (group commit). */
  readonly group: CommitGroup;

  /**
   * @param stream The accepted connection (closed by the caller).
   * @param options The session's: its root, deadline and `drop`.
   * @param log Logs a line about this session.
   */
  constructor(
    stream: ByteReader & ByteWriter,
    options: SessionOptions,
    log: (line: string) => void,
  ) {
    this.#stream = stream;
    this.deadline = new RequestDeadline(options.requestTimeout ?? 0, (why) => options.drop?.(why));
    this.out = new CorkedWriter(stream);
    this.channel = new Channel({
      read: (p: Uint8Array) => this.#read(p),
      write: (p: Uint8Array) => this.out.write(p),
    });
    this.group = new CommitGroup(options.root, {
      send: (reply, id) => this.channel.send(reply, id),
      log: options.quiet ? undefined : log,
      flush: () => this.out.flush(),
    });
  }

  /**
   * Reads from the stream; before a read that waits, commits the group and
   * sends what is held (a group grows while its uploads' bytes keep coming).
   */
  async #read(p: Uint8Array): Promise<number | null> {
    let reading: Promise<number | null>;
    if (!this.group.idle) {
      reading = this.#stream.read(p);
      if (!await settlesAtOnce(reading)) {
        await this.group.commit();
        await this.out.flush();
      }
    } else {
      await this.out.flush();
      reading = this.#stream.read(p);
    }
    const n = await reading;
    this.deadline.sawBytes(n);
    return n;
  }

  /** Sends an answer; answers keep the order of the requests, so the group's go first. */
  async send(reply: Reply): Promise<void> {
    // Idle (every answer of a session that downloads): no promise to wait through.
    if (!this.group.idle) await this.group.commit();
    await this.channel.send(reply);
  }

  /** The session's body buffer, grown to `size` bytes; `undefined` over {@linkcode BODY_BUFFER_LENT}. */
  lend(size: number): Uint8Array | undefined {
    if (size > BODY_BUFFER_LENT) return undefined;
    if (this.#bodyBuffer.byteLength < size) this.#bodyBuffer = new Uint8Array(size);
    return this.#bodyBuffer;
  }

  /** Ends the session's side: drops the uploads still waiting, and sends what is held. */
  async end(): Promise<void> {
    // Uploads waiting for their group's commit when the stream broke: nobody to answer.
    await this.group.abort();
    // The last answer (QUIT's, the third wrong token's) may still be held.
    await this.out.flush().catch((e) => {
      if (!isDisconnect(e) && !(e instanceof ConnectionError)) throw e;
    });
  }
}
