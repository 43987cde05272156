/**
 * The server's side of BLOCKS (feature `"blocks"`): a file's checksum and
 * the checksum of each of its blocks, for a client that compares them with
 * its own copy and moves only the blocks that differ (`sync`).
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import { hashBlocks } from "../file_hash.ts";
import { bytesReader } from "../framing/concat.ts";
import { fileReader } from "../framing/file_reader.ts";
import { MAX_BLOCKS } from "../protocol/limits.ts";
import type { BlocksRequest } from "../protocol/messages.ts";
import { quotePath } from "../root/paths.ts";
import { sendBody } from "../transfer/body.ts";
import type { HandlerContext } from "./handler_context.ts";

/**
 * Answers a BLOCKS request for `vpath` (already resolved): reads the file
 * once, then the reply and a body of the blocks' digests, raw, in order.
 * A file that changed while it was read is refused (CHANGED): its digests
 * would describe no version of it.
 *
 * @param context The session.
 * @param vpath The file, as a virtual path.
 * @param req The request.
 * @returns The body bytes sent.
 *
 * @example
 * ```ts ignore
 * const sent = await handleBlocks(context, "/a.bin", { op: "BLOCKS", path: "a.bin", blockSize: 65536 });
 * ```
 */
export async function handleBlocks(
  context: HandlerContext,
  vpath: string,
  req: BlocksRequest,
): Promise<number> {
  const opened = await context.root.openRead(vpath);
  try {
    const { size, mtime } = opened;
    const count = Math.ceil(size / req.blockSize);
    if (count > MAX_BLOCKS) {
      throw new RemoteError(
        "BAD_REQUEST",
        `${
          quotePath(vpath)
        } has ${count} blocks of ${req.blockSize} bytes, over ${MAX_BLOCKS}: ask with larger blocks`,
      );
    }
    const blocks = await hashBlocks(
      fileReader(opened.file, size),
      size,
      req.blockSize,
      context.checksum,
    );
    if (blocks.bytes !== size || !opened.unchanged()) {
      throw new RemoteError("CHANGED", `${quotePath(vpath)} changed while it was read`);
    }
    await context.reply({ size, mtime, blockSize: req.blockSize, count, hash: blocks.whole! });
    context.setInBody(true);
    const sent = await sendBody(context.writer, bytesReader(blocks.digests), {
      size: blocks.digests.length,
      checksum: context.checksum,
      label: vpath,
    });
    context.setInBody(false);
    return sent.size;
  } finally {
    opened.close();
  }
}
