/**
 * Standard input read on a second thread. Deno's asynchronous stdin read
 * costs a hop to its blocking pool for every pipe buffer (64 KiB), and the
 * next read starts only when the caller asks; here a worker reads with
 * blocking reads ahead of the caller, into 1 MiB slices, so that reading
 * the pipe overlaps hashing and sending. For pipes and files, not for a
 * terminal.
 *
 * @module
 */

import type { ViewReader } from "../framing/types.ts";
import { LocalIoError } from "../errors.ts";

/** Options for {@linkcode ThreadedStdinReader}. */
export interface ThreadedStdinReaderOptions {
  /**
   * Bytes per slice the thread reads into.
   *
   * @default {1048576}
   */
  sliceSize?: number;
  /**
   * Slices in flight: how far the thread reads ahead.
   *
   * @default {4}
   */
  slices?: number;
}

type Outbound =
  | { buffer: ArrayBuffer; length: number }
  | { eof: true }
  | { error: string };

/**
 * A {@linkcode ByteReader} over standard input, read on a worker thread that
 * starts on the first `read()`. `close()` it when done (the thread may be
 * left blocked in a read until stdin has data or ends; the process exit
 * ends it).
 *
 * @example
 * ```ts
 * import { ThreadedStdinReader } from "./stdin_reader.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * // Nothing starts until the first read.
 * const reader = new ThreadedStdinReader();
 * reader.close();
 * deepEqual(await reader.read(new Uint8Array(4)), null);
 * ```
 */
export class ThreadedStdinReader implements ViewReader {
  #options: Required<ThreadedStdinReaderOptions>;
  #worker: Worker | null = null;
  /** Slices that arrived, oldest first, with the read position in the first. */
  #ready: Uint8Array<ArrayBuffer>[] = [];
  #offset = 0;
  /** The slice `readView` lent last, given back to the thread on the next call. */
  #lent: Uint8Array<ArrayBuffer> | null = null;
  #eof = false;
  #error: string | null = null;
  #closed = false;
  #wake: (() => void) | null = null;

  /** @param options Slice size and count. */
  constructor(options: ThreadedStdinReaderOptions = {}) {
    this.#options = { sliceSize: options.sliceSize ?? 1 << 20, slices: options.slices ?? 4 };
  }

  #start(): Worker {
    const worker = new Worker(new URL("./stdin_worker.ts", import.meta.url).href, {
      type: "module",
      name: "bftp-stdin",
    });
    worker.onmessage = (e: MessageEvent<Outbound>) => {
      const msg = e.data;
      if ("buffer" in msg) this.#ready.push(new Uint8Array(msg.buffer, 0, msg.length));
      else if ("eof" in msg) this.#eof = true;
      else this.#error = msg.error;
      this.#notify();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#error = e.message;
      this.#notify();
    };
    worker.postMessage({
      start: { slice: this.#options.sliceSize, slices: this.#options.slices },
    });
    return worker;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /**
   * Reads what has arrived, up to `p.byteLength` bytes, waiting only when
   * nothing has.
   *
   * @param p Where the bytes go.
   * @returns The count, or `null` at the end of stdin (or once closed).
   * @throws {LocalIoError} When reading stdin failed.
   */
  async read(p: Uint8Array): Promise<number | null> {
    if (!await this.#arrived()) return null;
    let n = 0;
    while (n < p.byteLength && this.#ready.length > 0) {
      const slice = this.#ready[0]!;
      const take = Math.min(p.byteLength - n, slice.byteLength - this.#offset);
      p.set(slice.subarray(this.#offset, this.#offset + take), n);
      n += take;
      this.#offset += take;
      if (this.#offset === slice.byteLength) {
        this.#ready.shift();
        this.#offset = 0;
        this.#giveBack(slice);
      }
    }
    return n;
  }

  /**
   * Lends the rest of the oldest slice that arrived, without copying it;
   * the view stays valid until the next `read`, `readView` or `close`.
   *
   * @returns The view, or `null` at the end of stdin (or once closed).
   * @throws {LocalIoError} When reading stdin failed.
   */
  async readView(): Promise<Uint8Array | null> {
    if (!await this.#arrived()) return null;
    const slice = this.#ready.shift()!;
    const view = slice.subarray(this.#offset);
    this.#offset = 0;
    this.#lent = slice;
    return view;
  }

  /**
   * Gives back the slice lent last, starts the thread, and waits until a
   * slice has arrived: `false` at the end (or once closed).
   */
  async #arrived(): Promise<boolean> {
    if (this.#lent !== null) {
      this.#giveBack(this.#lent);
      this.#lent = null;
    }
    if (this.#closed) return false;
    this.#worker ??= this.#start();
    while (this.#ready.length === 0) {
      if (this.#error !== null) {
        throw new LocalIoError(`Cannot read stdin: ${this.#error}`);
      }
      if (this.#eof || this.#closed) return false;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return true;
  }

  /** The whole slice buffer goes back to the thread for its next read. */
  #giveBack(slice: Uint8Array<ArrayBuffer>): void {
    this.#worker?.postMessage({ buffer: slice.buffer }, [slice.buffer]);
  }

  /** Stops the thread; later reads return `null`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker?.terminate();
    this.#worker = null;
    this.#ready = [];
    this.#lent = null;
    this.#notify();
  }
}
