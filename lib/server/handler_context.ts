/**
 * What a request handler that moves a body (GET, PUT) needs of its session:
 * the served folder, the two directions of the stream, the way to answer,
 * and the mark that a body is on the wire (an error then cannot be answered
 * in band, so the session closes instead).
 *
 * @module
 */

import type { BufferedReader } from "../framing/buffered_reader.ts";
import type { ByteWriter } from "../framing/types.ts";
import type { ChecksumName, ProtocolVersion } from "../protocol/limits.ts";
import type { PutDoneFields, ReplyFields } from "../protocol/replies.ts";
import type { FileAttributes, ServedRoot, Upload } from "../root/served_root.ts";
import type { UploadFolders } from "../root/upload_folders.ts";

/** A session as seen by the handlers of GET and PUT. */
export interface HandlerContext {
  /** The served folder. */
  readonly root: ServedRoot;
  /** Reads the request's body (PUT). */
  readonly reader: BufferedReader;
  /** Writes the answer's body (GET). */
  readonly writer: ByteWriter;
  /**
   * The session's buffer for a small answer's body of `size` bytes, lent
   * to one body at a time (the writer copies what it is given), or
   * `undefined` for a larger one: a GET of a small file reads through it,
   * not through a new buffer.
   */
  readonly bodyBuffer?: ((size: number) => Uint8Array | undefined) | undefined;
  /** Sends a success reply with these fields. */
  reply(fields: ReplyFields): Promise<void>;
  /** Receives one line for the log, prefixed with the client's address. */
  log(line: string): void;
  /** Marks whether a body is on the wire. */
  setInBody(inBody: boolean): void;
  /** The protocol version of the session (2: an eager PUT gets no `ready` reply). */
  readonly version: ProtocolVersion;
  /**
   * Offers a PUT whose body arrived whole to the session's commit group:
   * the session commits it later, with the uploads pipelined after it, and
   * answers it then (group commit).
   *
   * @returns `true` when the session took it (it commits, answers and logs it); `false`: commit now.
   */
  commitLater(
    upload: Upload,
    attributes: FileAttributes,
    reply: PutDoneFields,
  ): Promise<boolean>;
  /** The session's body checksum: every trailer is in it. */
  readonly checksum: ChecksumName;
  /** The folders of the request's uploads so far, when it has many (MPUT). */
  readonly folders?: UploadFolders | undefined;
}
