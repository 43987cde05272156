/**
 * A BFTP channel: requests and replies as size-header frames of JSON over
 * one byte stream, and the version handshake that opens a session.
 *
 * @module
 */

import { ConnectionError, ProtocolError, RemoteError } from "../errors.ts";
import { BufferedReader } from "../framing/buffered_reader.ts";
import { encodeDelimited, readDelimited } from "../framing/delimited.ts";
import { readSized, readSizedBuffered } from "../framing/size_header.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import {
  type ChecksumName,
  CHECKSUMS,
  HELLO_LINE,
  MAX_HELLO_BYTES,
  MAX_REPLY_BYTES,
  MAX_REQUEST_BYTES,
  type ProtocolVersion,
} from "./limits.ts";
import {
  decodeReply,
  encodeMessageFrame,
  type OkReply,
  type Reply,
  type Request,
} from "./messages.ts";
import { BadRequestError, decodeRequestFrame } from "./request_frame.ts";

export { BadRequestError } from "./request_frame.ts";

/** A request as the client sends it: with an `id` in version 2. */
export type OutgoingRequest = Request & { id?: number };

/** What the server's side of the hello settled. */
export interface HelloAccepted {
  /** The version the client asked for (1 or 2). */
  version: ProtocolVersion;
  /** The body checksum: the client's first choice that this side speaks (`sha256` for version 1). */
  checksum: ChecksumName;
}

/** A refused hello from a server of version 1 only, said as such; any other refusal as it is. */
function olderServer(e: RemoteError): Error {
  if (e.code !== "BAD_REQUEST" || !e.message.endsWith('this server speaks "BFTP/1"')) return e;
  return new ProtocolError(
    `The server speaks only "BFTP/1", an older version of the protocol; this client speaks ` +
      `"${HELLO_LINE}" (upgrade the server)`,
  );
}

/** What the hello line of a version 2 client may look like: `BFTP/2`, or `BFTP/2 NAME,NAME...`. */
const HELLO_V2 = /^BFTP\/2(?: ([a-z0-9-]{1,16}(?:,[a-z0-9-]{1,16}){0,7}))?$/;

/**
 * One end of a BFTP session over a stream.
 *
 * @example
 * ```ts
 * import { Channel } from "./channel.ts";
 * import { ok } from "node:assert/strict";
 *
 * const sent: Uint8Array[] = [];
 * const stream = {
 *   read: () => Promise.resolve(null),
 *   write: (p: Uint8Array) => (sent.push(p.slice()), Promise.resolve(p.byteLength)),
 * };
 * await new Channel(stream).send({ op: "PWD" });
 * ok(new TextDecoder().decode(sent[0]).endsWith('{"op":"PWD"}'));
 * ```
 */
/**
 * Sees each message a {@linkcode Channel} sends (`"send"`) or receives
 * (`"receive"`): a request or reply, or the client's hello line as text.
 */
export type MessageObserver = (
  direction: "send" | "receive",
  message: Request | Reply | string,
) => void;

export class Channel {
  /** The buffered read side, for bodies that follow a frame. */
  readonly reader: BufferedReader;
  /** The write side. */
  readonly writer: ByteWriter;

  readonly #onMessage: MessageObserver | undefined;
  /** The id of the request being answered (server side), echoed in each reply. */
  #replyTo: number | undefined;

  /**
   * @param stream A connected stream.
   * @param onMessage Called with each message sent and received (`bftp -v`).
   */
  constructor(stream: ByteReader & ByteWriter, onMessage?: MessageObserver) {
    this.reader = new BufferedReader(stream);
    this.writer = stream;
    this.#onMessage = onMessage;
  }

  /**
   * Sends one request or reply.
   *
   * @param message The message.
   * @param replyTo The id a reply echoes: by default, the last request's (server side).
   */
  async send(message: OutgoingRequest | Reply, replyTo = this.#replyTo): Promise<void> {
    // A reply echoes the id of the request it answers (version 2).
    const sent = "ok" in message && replyTo !== undefined ? { ...message, id: replyTo } : message;
    this.#onMessage?.("send", sent);
    await writeAll(this.writer, encodeMessageFrame(sent));
  }

  /** The id of the request being answered (server side; `undefined` when it had none). */
  get replyTo(): number | undefined {
    return this.#replyTo;
  }

  /**
   * Receives the next request.
   *
   * @returns The request, or `null` when the client closed cleanly.
   * @throws {BadRequestError} When the frame is whole but invalid (answer and go on).
   * @throws {ProtocolError} When the framing itself is broken (close the session).
   */
  async receiveRequest(): Promise<Request | null> {
    this.#replyTo = undefined;
    const limit = { maxBytes: MAX_REQUEST_BYTES };
    // Taken at once when buffered whole (pipelined requests): no read, no promise a step.
    const bytes = readSizedBuffered(this.reader, limit) ?? await readSized(this.reader, limit);
    if (bytes === null) return null;
    try {
      const { request, id } = decodeRequestFrame(bytes);
      this.#replyTo = id;
      return request;
    } catch (e) {
      if (e instanceof BadRequestError) this.#replyTo = e.id;
      throw e;
    }
  }

  /**
   * Receives the next reply.
   *
   * @returns The reply.
   * @throws {ConnectionError} When the server closed the connection.
   */
  async receiveReply(): Promise<Reply> {
    const limit = { maxBytes: MAX_REPLY_BYTES };
    const bytes = readSizedBuffered(this.reader, limit) ?? await readSized(this.reader, limit);
    if (bytes === null) throw new ConnectionError("Connection closed by the server");
    return this.#received(decodeReply(bytes));
  }

  /**
   * Receives the next reply at once, when it is buffered whole already;
   * else `null`, and {@linkcode Channel.receiveReply} is the way.
   *
   * @returns The reply, or `null`.
   */
  receiveReplyBuffered(): Reply | null {
    const bytes = readSizedBuffered(this.reader, { maxBytes: MAX_REPLY_BYTES });
    return bytes === null ? null : this.#received(decodeReply(bytes));
  }

  #received(reply: Reply): Reply {
    this.#onMessage?.("receive", reply);
    return reply;
  }

  /**
   * Receives the next reply and insists it is a success.
   *
   * @returns The success reply.
   * @throws {RemoteError} When the server answered with an error.
   */
  async expectOk(): Promise<OkReply> {
    const reply = await this.receiveReply();
    if (!reply.ok) throw new RemoteError(reply.code, reply.message);
    return reply;
  }

  /**
   * Opens a session from the client side: sends the hello line and checks
   * the server's answer.
   *
   * @param checksums The body checksums to offer, in order of preference.
   * @returns The server's hello reply (`version`, `server`, and `checksum` for version 2).
   * @throws {RemoteError} When the server refuses (BUSY, DENIED...).
   */
  async clientHandshake(checksums: readonly ChecksumName[] = CHECKSUMS): Promise<OkReply> {
    const line = `${HELLO_LINE} ${checksums.join(",")}`;
    this.#onMessage?.("send", line);
    await writeAll(this.writer, encodeDelimited(line));
    // The first bytes the server sends, kept to tell a TLS server from others.
    const first: number[] = [];
    const recorder: ByteReader = {
      read: async (p) => {
        const n = await this.reader.read(p);
        for (let i = 0; n !== null && i < n && first.length < 2; i++) first.push(p[i]!);
        return n;
      },
    };
    let reply: OkReply;
    try {
      const bytes = await readSized(recorder, { maxBytes: MAX_REPLY_BYTES });
      if (bytes === null) throw new ConnectionError("Connection closed by the server");
      const answer = decodeReply(bytes);
      this.#onMessage?.("receive", answer);
      if (!answer.ok) throw new RemoteError(answer.code, answer.message);
      reply = answer;
    } catch (e) {
      if (e instanceof RemoteError) throw olderServer(e);
      // A TLS record opens with its type (20 to 23) and major version 3.
      const tls = first.length === 2 && first[0]! >= 0x14 && first[0]! <= 0x17 && first[1] === 3;
      const hint = tls
        ? "it speaks TLS: use a bftps:// URL"
        : first.length === 0
        ? "it may be full, speak TLS (a bftps:// URL), or not be a BFTP server"
        : "it is not a BFTP server";
      if (e instanceof ConnectionError) {
        throw new ConnectionError(
          `The server closed the connection without answering the BFTP hello (${hint})`,
          { cause: e },
        );
      }
      if (e instanceof ProtocolError) {
        throw new ProtocolError(`The server did not answer the BFTP hello (${hint})`, {
          cause: e,
        });
      }
      throw e;
    }
    // A server may answer version 1 (strictly one request at a time): the client goes on so.
    if (reply.version !== 1 && reply.version !== 2) {
      const shown = String(reply.version).slice(0, 32).replace(/[^\x20-\x7e]/g, "?");
      throw new ProtocolError(`Unsupported protocol version "${shown}"`);
    }
    if (reply.version === 2 && !checksums.includes(reply.checksum as ChecksumName)) {
      const shown = String(reply.checksum).slice(0, 32).replace(/[^\x20-\x7e]/g, "?");
      throw new ProtocolError(`The server chose a checksum that was not offered: "${shown}"`);
    }
    return reply;
  }

  /**
   * Reads the client's hello line on the server side.
   *
   * @param checksums The body checksums this server accepts: the client's
   * first choice among them is the session's.
   * @returns The version and checksum settled, `false` for a line this side
   * does not speak (a BAD_REQUEST reply has then been sent), `null` if the
   * client closed at once.
   */
  async serverReadHello(
    checksums: readonly ChecksumName[] = CHECKSUMS,
  ): Promise<HelloAccepted | false | null> {
    let line: Uint8Array | null;
    let tooLong = false;
    try {
      line = await readDelimited(this.reader, { maxBytes: MAX_HELLO_BYTES });
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Over MAX_HELLO_BYTES without a line feed: what arrived is still buffered, so the
      // answer can quote its start as it quotes a whole line. Never a hello, even where those
      // first bytes would make one.
      tooLong = true;
      line = new Uint8Array(Math.min(this.reader.buffered, MAX_HELLO_BYTES));
      line = line.subarray(0, (await this.reader.read(line)) ?? 0);
    }
    if (line === null) return null;
    const text = new TextDecoder().decode(line).replace(/\r$/, "");
    const quoted = text.slice(0, 32).replace(/[^\x20-\x7e]/g, "?");
    if (text === "BFTP/1" && !tooLong) return { version: 1, checksum: "sha256" };
    const v2 = tooLong ? null : HELLO_V2.exec(text);
    if (v2 === null) {
      await this.#refuseHello(
        `Unsupported protocol "${quoted}": this server speaks "${HELLO_LINE}" and "BFTP/1"`,
      );
      return false;
    }
    const offered = v2[1]?.split(",") ?? ["sha256"];
    const checksum = offered.find((c): c is ChecksumName => checksums.includes(c as ChecksumName));
    if (checksum === undefined) {
      await this.#refuseHello(
        `No checksum in common: the client offers "${offered.join(",")}", ` +
          `this server speaks "${checksums.join(",")}"`,
      );
      return false;
    }
    return { version: 2, checksum };
  }

  async #refuseHello(message: string): Promise<void> {
    await this.send({ ok: false, code: "BAD_REQUEST", message });
  }
}
