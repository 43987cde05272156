/**
 * The wire side of a delta (feature `"blocks"`): BLOCKS, a file's checksum
 * and its blocks' digests; a GET of a range; and a PUT that sends only the
 * blocks the server's copy does not have (`reuse`). What to move is
 * decided in `sync/delta.ts`.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { DIGEST_BYTES } from "../checksum.ts";
import type { ByteReader, ByteWriter } from "../framing/types.ts";
import type { FileVersion, PutRequest } from "../protocol/messages.ts";
import {
  type BlocksReply,
  checkBlocksReply,
  checkGetReply,
  checkPutDoneReply,
} from "../protocol/replies.ts";
import { type BodyResult, receiveBody, sendBody } from "../transfer/body.ts";
import { receiveWhole } from "../transfer/receive_whole.ts";
import type { RequestChannel } from "./request_channel.ts";

/** A file's blocks as the server hashed them. */
export interface RemoteBlocks extends BlocksReply {
  /** Each block's digest, raw, end to end. */
  digests: Uint8Array;
}

/**
 * Asks BLOCKS for `path`: its size, time and checksum, and each block's
 * digest (verified by the body's trailer).
 *
 * @param channel The session (its server offers `"blocks"`).
 * @param path The remote file.
 * @param blockSize The block size.
 * @returns The reply and the digests.
 *
 * @example
 * ```ts ignore
 * const blocks = await runBlocks(channel, "/a.bin", 65536);
 * ```
 */
export async function runBlocks(
  channel: RequestChannel,
  path: string,
  blockSize: number,
): Promise<RemoteBlocks> {
  const { checksum } = channel;
  return await channel.withBody({ op: "BLOCKS", path, blockSize }, async (reply, stream) => {
    const got = checkBlocksReply(reply, blockSize, checksum);
    const digests = new Uint8Array(got.count * DIGEST_BYTES[checksum]);
    await receiveWhole(stream.reader, digests, path, checksum);
    return { ...got, digests };
  });
}

/**
 * Downloads `length` bytes of `path` from `offset` into `sink`, of the file
 * version `expect` (else CHANGED), verified by their own checksum.
 *
 * @param channel The session (its server offers `"blocks"`).
 * @param path The remote file.
 * @param range Where, how much, and of which version.
 * @param sink Where the bytes go.
 * @returns Their size and checksum.
 *
 * @example
 * ```ts ignore
 * await runGetRange(channel, "/a.bin", { offset: 65536, length: 65536, expect }, sink);
 * ```
 */
export async function runGetRange(
  channel: RequestChannel,
  path: string,
  range: { offset: number; length: number; expect: FileVersion },
  sink: ByteWriter,
): Promise<BodyResult> {
  const { offset, length, expect } = range;
  return await channel.withBody(
    { op: "GET", path, offset, length, expect },
    async (reply, stream) => {
      const got = checkGetReply(reply);
      if (got.offset !== offset || reply.length !== length) {
        throw new ProtocolError(`Malformed reply: not the range asked of "${path}"`);
      }
      return await receiveBody(stream.reader, sink, {
        expectedSize: length,
        maxSize: length,
        stopOnSinkError: true,
        label: path,
        checksum: channel.checksum,
      });
    },
  );
}

/** What a delta PUT sends besides its body (see `PutRequest`). */
export interface DeltaPut {
  /** The new file's size. */
  size: number;
  /** The version of the server's file it is made from. */
  base: FileVersion;
  /** The block size. */
  blockSize: number;
  /** The server's blocks kept in place: pairs of first block and count. */
  reuse: number[];
  /** The whole new file's checksum, in the session's checksum. */
  whole: string;
  /** The modification time to give it. */
  mtime?: number | undefined;
  /** The permission bits to give it. */
  mode?: number | undefined;
}

/**
 * Uploads a file to `path` as a delta of the server's copy: `source` gives
 * the bytes of the blocks not reused, in order (`literal` of them). The
 * server confirms the whole file's checksum.
 *
 * @param channel The session (its server offers `"blocks"`).
 * @param path The remote file.
 * @param source The literal bytes.
 * @param literal How many.
 * @param delta The request's other fields.
 * @returns The new file's size and checksum, as the server confirmed them.
 *
 * @example
 * ```ts ignore
 * await runPutDelta(channel, "/a.bin", source, literal, delta);
 * ```
 */
export async function runPutDelta(
  channel: RequestChannel,
  path: string,
  source: ByteReader,
  literal: number,
  delta: DeltaPut,
): Promise<BodyResult> {
  const { mtime, mode, ...fields } = delta;
  const req: PutRequest = {
    op: "PUT",
    path,
    overwrite: true,
    ...fields,
    ...(mtime === undefined ? {} : { mtime }),
    ...(mode === undefined ? {} : { mode }),
  };
  return await channel.withBody(req, async (ready, stream) => {
    if (ready.ready !== true) throw new ProtocolError("Malformed reply: expected ready");
    await sendBody(stream.writer, source, {
      size: literal,
      checksum: channel.checksum,
      label: path,
    });
    const { size, hash } = checkPutDoneReply(await stream.nextReply(), channel.checksum);
    if (hash !== delta.whole || size !== delta.size) {
      throw new ProtocolError(`Server confirmed hash ${hash}, but the file made is ${delta.whole}`);
    }
    return { size, checksum: channel.checksum, hash };
  }, true);
}
