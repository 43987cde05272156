// Test fixture, run as a child process: copies stdin to stdout through a
// ThreadedStdinReader, reading into a buffer of argv[0] bytes (default 1000)
// with slices of argv[1] bytes (default 65536).

import { ThreadedStdinReader } from "../../lib/transfer/stdin_reader.ts";

const readSize = Number(Deno.args[0] ?? 1000);
const sliceSize = Number(Deno.args[1] ?? 65536);
const reader = new ThreadedStdinReader({ sliceSize, slices: 3 });
const buf = new Uint8Array(readSize);
try {
  while (true) {
    const n = await reader.read(buf);
    if (n === null) break;
    let done = 0;
    while (done < n) done += Deno.stdout.writeSync(buf.subarray(done, n));
  }
} finally {
  reader.close();
}
Deno.exit(0);
