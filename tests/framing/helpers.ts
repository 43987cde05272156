/**
 * Shared helpers of the framing, protocol and transfer tests: a seeded
 * pseudo-random generator (so a failure reproduces from its seed), chunk
 * schedules (one byte at a time, everything at once, random sizes),
 * in-memory streams that deliver exactly a given schedule, and a real
 * loopback socket pair on port 0.
 *
 * @module
 */

import { concatBytes } from "../../lib/framing/concat.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import type { ByteReader, ByteWriter } from "../../lib/framing/types.ts";

/** A pseudo-random generator: each call returns a number in [0, 1). */
export type Rng = () => number;

/**
 * A small seeded generator (mulberry32): the same seed gives the same sequence.
 *
 * @param seed Any 32-bit integer.
 * @returns The generator.
 */
export function seededRandom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random integer in `[min, max]`.
 *
 * @param rng The generator.
 * @param min The smallest value.
 * @param max The largest value.
 * @returns The integer.
 */
export function randomInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/**
 * Random bytes, optionally drawn from a small alphabet.
 *
 * @param rng The generator.
 * @param length How many.
 * @param alphabet The bytes to draw from (all 256 when absent).
 * @returns The bytes.
 */
export function randomBytes(rng: Rng, length: number, alphabet?: Uint8Array): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = alphabet ? alphabet[randomInt(rng, 0, alphabet.byteLength - 1)]! : randomInt(
      rng,
      0,
      255,
    );
  }
  return out;
}

/** How a peer splits what it sends. */
export type Chunking = "one byte at a time" | "all at once" | "random chunks";

/** Every chunking the round-trip tests try. */
export const CHUNKINGS: readonly Chunking[] = [
  "one byte at a time",
  "all at once",
  "random chunks",
];

/**
 * Splits `total` bytes into chunk sizes.
 *
 * @param total The byte count.
 * @param chunking The strategy.
 * @param rng The generator (for random chunks).
 * @param maxChunk The largest random chunk.
 * @returns Sizes, each at least 1, summing to `total`.
 */
export function chunkSizes(total: number, chunking: Chunking, rng: Rng, maxChunk = 700): number[] {
  if (total === 0) return [];
  if (chunking === "all at once") return [total];
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const n = chunking === "one byte at a time" ? 1 : Math.min(left, randomInt(rng, 1, maxChunk));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

/**
 * Joins byte arrays.
 *
 * @param parts The arrays.
 * @returns One array.
 */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/**
 * A reader over bytes in memory that hands them out exactly as a schedule
 * says: each read returns at most the next scheduled chunk (less when the
 * caller's buffer is smaller; the rest of that chunk comes next).
 */
export class MemoryReader implements ByteReader {
  #data: Uint8Array;
  #sizes: number[];
  #offset = 0;
  #chunkLeft = 0;
  /** How many read calls were made. */
  reads = 0;

  /**
   * @param data What the stream holds.
   * @param sizes The chunk schedule; when it runs out, the rest comes at once.
   */
  constructor(data: Uint8Array, sizes: number[] = [data.byteLength]) {
    this.#data = data;
    this.#sizes = [...sizes];
  }

  /** How many bytes were handed out. */
  get delivered(): number {
    return this.#offset;
  }

  /**
   * @param p Where to put the bytes.
   * @returns The count, or `null` at the end.
   */
  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    if (p.byteLength === 0) return Promise.resolve(0);
    if (this.#offset >= this.#data.byteLength) return Promise.resolve(null);
    if (this.#chunkLeft === 0) {
      this.#chunkLeft = this.#sizes.shift() ?? this.#data.byteLength - this.#offset;
    }
    const n = Math.min(p.byteLength, this.#chunkLeft, this.#data.byteLength - this.#offset);
    p.set(this.#data.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    this.#chunkLeft -= n;
    return Promise.resolve(n);
  }
}

/** A writer into memory that accepts at most `maxPerWrite` bytes per call (a partial write). */
export class MemoryWriter implements ByteWriter {
  #chunks: Uint8Array[] = [];
  #rng: Rng | undefined;
  #maxPerWrite: number;
  /** How many write calls were made. */
  writes = 0;

  /**
   * @param maxPerWrite The most bytes one call accepts.
   * @param rng When given, each call accepts a random count from 1 to `maxPerWrite`.
   */
  constructor(maxPerWrite = Infinity, rng?: Rng) {
    this.#maxPerWrite = maxPerWrite;
    this.#rng = rng;
  }

  /** Everything written so far. */
  get bytes(): Uint8Array {
    return concat(...this.#chunks);
  }

  /**
   * @param p The bytes offered.
   * @returns How many were taken.
   */
  write(p: Uint8Array): Promise<number> {
    this.writes++;
    const cap = this.#rng && Number.isFinite(this.#maxPerWrite)
      ? randomInt(this.#rng, 1, this.#maxPerWrite)
      : this.#maxPerWrite;
    const n = Math.min(p.byteLength, cap);
    this.#chunks.push(p.slice(0, n));
    return Promise.resolve(n);
  }
}

/** Two ends of a real loopback TCP connection. */
export interface SocketPair extends Disposable {
  /** The connecting end. */
  client: Deno.TcpConn;
  /** The accepted end. */
  server: Deno.TcpConn;
}

/**
 * Closes a connection, ignoring one that is already closed.
 *
 * @param conn The connection.
 */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (e) {
    if (!(e instanceof Deno.errors.BadResource)) throw e;
  }
}

/**
 * Opens a real TCP connection to itself on 127.0.0.1, port 0.
 *
 * @returns Both ends; disposing closes both.
 */
export async function socketPair(): Promise<SocketPair> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  client.setNoDelay(true);
  server.setNoDelay(true);
  return {
    client,
    server,
    [Symbol.dispose]() {
      closeQuietly(client);
      closeQuietly(server);
    },
  };
}

/**
 * Writes `data` as a schedule of separate writes.
 *
 * @param writer Where to.
 * @param data The bytes.
 * @param sizes The chunk sizes (summing to `data.byteLength`).
 */
export async function writeChunked(
  writer: ByteWriter,
  data: Uint8Array,
  sizes: number[],
): Promise<void> {
  let offset = 0;
  for (const n of sizes) {
    await writeAll(writer, data.subarray(offset, offset + n));
    offset += n;
  }
  if (offset !== data.byteLength) throw new RangeError("The chunk sizes do not add up");
}

/**
 * Sends `data` over a real socket, split by `sizes`, then closes the sending
 * side; meanwhile `read` consumes the receiving side.
 *
 * @param data What the peer sends.
 * @param sizes How it is split into writes.
 * @param read The test's reader of the other end.
 * @returns What `read` returns.
 */
export async function overSocket<T>(
  data: Uint8Array,
  sizes: number[],
  read: (conn: Deno.TcpConn) => Promise<T>,
): Promise<T> {
  using pair = await socketPair();
  const sending = (async () => {
    try {
      await writeChunked(pair.client, data, sizes);
      await pair.client.closeWrite();
    } catch (e) {
      // The reader may stop early (a limit hit) and close: some tests want exactly that.
      if (
        !(e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset ||
          e instanceof Deno.errors.BadResource)
      ) {
        throw e;
      }
    }
  })();
  try {
    return await read(pair.server);
  } finally {
    closeQuietly(pair.server);
    await sending;
  }
}
