/**
 * Helpers every kind of test shares: SHA-256 of bytes, of a file and of a
 * stream, as the protocol spells it (lowercase hex).
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * Hashes bytes or text (as UTF-8) with SHA-256.
 *
 * @param data The bytes or text.
 * @returns Lowercase hex.
 */
export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Hashes a file with SHA-256, reading it in 1 MiB pieces.
 *
 * @param path The file.
 * @returns Lowercase hex.
 */
export async function sha256File(path: string): Promise<string> {
  using file = await Deno.open(path);
  const hash = createHash("sha256");
  const buf = new Uint8Array(1 << 20);
  while (true) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/**
 * Hashes everything a stream yields with SHA-256.
 *
 * @param stream The stream.
 * @returns Lowercase hex and the byte count.
 */
export async function sha256Stream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}
