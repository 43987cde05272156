/**
 * Helpers every kind of test shares: SHA-256 of bytes, of a file and of a
 * stream, as the protocol spells it (lowercase hex); temporary folders; waiting
 * for a condition.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { createChecksum } from "../lib/checksum.ts";
import type { ChecksumName } from "../lib/protocol/limits.ts";

/**
 * Hashes bytes or text (as UTF-8) in a body checksum: what a transfer's
 * result says of them.
 *
 * @param checksum The algorithm.
 * @param data The bytes or text.
 * @returns Lowercase hex.
 */
export async function hashIn(checksum: ChecksumName, data: Uint8Array | string): Promise<string> {
  const hash = await createChecksum(checksum);
  hash.update(typeof data === "string" ? new TextEncoder().encode(data) : data);
  return hash.digest();
}

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

/** A temporary folder removed (with everything in it) on dispose. */
export interface TempDir extends AsyncDisposable {
  /** Its path, with no symbolic link in it. */
  path: string;
  /** A path inside it. */
  join(...parts: string[]): string;
}

/** Options for {@linkcode tempDir}. */
export interface TempDirOptions {
  /**
   * The start of the folder's name.
   *
   * @default {"bftp-test-"}
   */
  prefix?: string;
}

/**
 * Makes a temporary folder for a test; `await using` removes it.
 *
 * @param options The name's prefix.
 * @returns The folder.
 */
export async function tempDir(options: TempDirOptions = {}): Promise<TempDir> {
  const path = await Deno.realPath(
    await Deno.makeTempDir({ prefix: options.prefix ?? "bftp-test-" }),
  );
  return {
    path,
    join: (...parts) => join(path, ...parts),
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/**
 * Waits until `check` returns true, polling every 10 ms.
 *
 * @param check The condition.
 * @param what What is awaited, for the error.
 * @param timeoutMs How long to wait before throwing.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A writer that keeps what is written to it as text (a progress line's
 * output, say).
 *
 * @returns The writer; `text` holds everything written so far.
 */
export function textWriter(): { text: string; write(p: Uint8Array): Promise<number> } {
  const out = {
    text: "",
    write(p: Uint8Array) {
      out.text += new TextDecoder().decode(p);
      return Promise.resolve(p.byteLength);
    },
  };
  return out;
}

/** A listener that accepts connections and never says a word: a frozen server or peer. */
export interface SilentListener extends AsyncDisposable {
  /** Its port on 127.0.0.1. */
  port: number;
}

/**
 * Listens on 127.0.0.1 (port 0), accepts every connection and holds it
 * open without reading or writing, until disposed of (then all are closed).
 *
 * @returns The listener.
 */
export function silentListener(): SilentListener {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
      for (const conn of held) conn.close();
    },
  };
}
