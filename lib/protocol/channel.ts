/**
 * A BFTP channel: requests and replies as size-header frames of JSON over
 * one byte stream, and the version handshake that opens a session.
 *
 * @module
 */

import { ConnectionError, ProtocolError, RemoteError } from "../errors.ts";
import { BufferedReader } from "../framing/buffered_reader.ts";
import { encodeDelimited, readDelimited } from "../framing/delimited.ts";
import { readSized, writeSized } from "../framing/size_header.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import { writeAll } from "../framing/write_all.ts";
import { HELLO_LINE, MAX_HELLO_BYTES, MAX_REPLY_BYTES, MAX_REQUEST_BYTES } from "./limits.ts";
import {
  decodeReply,
  decodeRequest,
  encodeMessage,
  type OkReply,
  type Reply,
  type Request,
} from "./messages.ts";

/** Thrown by {@linkcode Channel.receiveRequest} for a frame that was read whole but is not a valid request: the session can go on. */
export class BadRequestError extends ProtocolError {
  /** @param message What is wrong with the request. */
  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
}

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
   */
  async send(message: Request | Reply): Promise<void> {
    this.#onMessage?.("send", message);
    await writeSized(this.writer, encodeMessage(message));
  }

  /**
   * Receives the next request.
   *
   * @returns The request, or `null` when the client closed cleanly.
   * @throws {BadRequestError} When the frame is whole but invalid (answer and go on).
   * @throws {ProtocolError} When the framing itself is broken (close the session).
   */
  async receiveRequest(): Promise<Request | null> {
    const bytes = await readSized(this.reader, { maxBytes: MAX_REQUEST_BYTES });
    if (bytes === null) return null;
    try {
      return decodeRequest(bytes);
    } catch (e) {
      if (e instanceof ProtocolError) throw new BadRequestError(e.message);
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
    const bytes = await readSized(this.reader, { maxBytes: MAX_REPLY_BYTES });
    if (bytes === null) throw new ConnectionError("Connection closed by the server");
    const reply = decodeReply(bytes);
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
   * @returns The server's hello reply (`version`, `server`).
   * @throws {RemoteError} When the server refuses (BUSY, DENIED...).
   */
  async clientHandshake(): Promise<OkReply> {
    this.#onMessage?.("send", HELLO_LINE);
    await writeAll(this.writer, encodeDelimited(HELLO_LINE));
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
      if (e instanceof RemoteError) throw e;
      // A TLS record opens with its type (20 to 23) and major version 3.
      const tls = first.length === 2 && first[0]! >= 0x14 && first[0]! <= 0x17 && first[1] === 3;
      const hint = tls
        ? "it speaks TLS: use a bftps:// URL"
        : first.length === 0
        ? "it may be full, or not a BFTP server"
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
    if (reply.version !== 1) {
      const shown = String(reply.version).slice(0, 32).replace(/[^\x20-\x7e]/g, "?");
      throw new ProtocolError(`Unsupported protocol version "${shown}"`);
    }
    return reply;
  }

  /**
   * Reads the client's hello line on the server side.
   *
   * @returns `true` for a BFTP/1 client, `false` for anything else (a
   * BAD_REQUEST reply has then been sent), `null` if it closed at once.
   */
  async serverReadHello(): Promise<boolean | null> {
    let line: Uint8Array | null;
    try {
      line = await readDelimited(this.reader, { maxBytes: MAX_HELLO_BYTES });
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Over MAX_HELLO_BYTES without a line feed: what arrived is still buffered, so the
      // answer can quote its start as it quotes a whole line.
      line = new Uint8Array(Math.min(this.reader.buffered, MAX_HELLO_BYTES));
      line = line.subarray(0, (await this.reader.read(line)) ?? 0);
    }
    if (line === null) return null;
    const text = new TextDecoder().decode(line).replace(/\r$/, "");
    if (text === HELLO_LINE) return true;
    await this.send({
      ok: false,
      code: "BAD_REQUEST",
      message: `Unsupported protocol "${
        text.slice(0, 32).replace(/[^\x20-\x7e]/g, "?")
      }": this server speaks "${HELLO_LINE}"`,
    });
    return false;
  }
}
