/**
 * The stdin thread: widens stdin's pipe to 1 MiB where it is one, then
 * reads standard input with blocking reads into pooled 1 MiB slices and
 * sends each slice, in order, to the thread that started it, which sends
 * it back for reuse. A slice goes as soon as it is full or a
 * read found the pipe drained (a slow producer gets its bytes passed on at
 * once); `{ eof: true }` follows the last one, `{ error }` a failed read.
 * Loaded by URL from `stdin_reader.ts`; a compiled binary must include it
 * (`deno compile --include lib/transfer/stdin_worker.ts`).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { widenPipe } from "../libc/fd_file.ts";

/** What the thread is told: a slice handed back, or the slice size and pool size to start with. */
type Inbound = { buffer: ArrayBuffer } | { start: { slice: number; slices: number } };

const free: ArrayBuffer[] = [];
let wake: (() => void) | null = null;
/** A read shorter than this found the pipe drained (Linux pipes hold 64 KiB unless widened). */
const DRAINED = 64 * 1024;

async function pump(): Promise<void> {
  widenPipe(0);
  while (true) {
    while (free.length === 0) await new Promise<void>((resolve) => wake = resolve);
    const slice = new Uint8Array(free.pop()!);
    let fill = 0;
    let eof = false;
    while (fill < slice.byteLength) {
      const n = Deno.stdin.readSync(slice.subarray(fill));
      if (n === null) {
        eof = true;
        break;
      }
      fill += n;
      if (n < DRAINED) break;
    }
    if (fill > 0) self.postMessage({ buffer: slice.buffer, length: fill }, [slice.buffer]);
    else free.push(slice.buffer);
    if (eof) {
      self.postMessage({ eof: true });
      return;
    }
  }
}

self.onmessage = (e: MessageEvent<Inbound>) => {
  const msg = e.data;
  if ("start" in msg) {
    for (let i = 0; i < msg.start.slices; i++) free.push(new ArrayBuffer(msg.start.slice));
    pump().catch((err: unknown) => {
      self.postMessage({ error: err instanceof Error ? err.message : String(err) });
    });
    return;
  }
  free.push(msg.buffer);
  const w = wake;
  wake = null;
  w?.();
};
