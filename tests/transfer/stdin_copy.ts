// Test fixture, run as a child process: copies stdin to stdout through a
// ThreadedStdinReader, reading into a buffer of argv[0] bytes (default 1000)
// with slices of argv[1] bytes (default 65536); with argv[2] "views", every
// other read borrows the reader's slice instead (readView).

import { ThreadedStdinReader } from "../../lib/transfer/stdin_reader.ts";

const readSize = Number(Deno.args[0] ?? 1000);
const sliceSize = Number(Deno.args[1] ?? 65536);
const reader = new ThreadedStdinReader({ sliceSize, slices: 3 });
const views = Deno.args[2] === "views";
const buf = new Uint8Array(readSize);
try {
  for (let turn = 0;; turn++) {
    let bytes: Uint8Array;
    if (views && turn % 2 === 1) {
      const view = await reader.readView();
      if (view === null) break;
      bytes = view;
    } else {
      const n = await reader.read(buf);
      if (n === null) break;
      bytes = buf.subarray(0, n);
    }
    let done = 0;
    while (done < bytes.byteLength) done += Deno.stdout.writeSync(bytes.subarray(done));
  }
} finally {
  reader.close();
}
Deno.exit(0);
