import { deepEqual, equal } from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("./stdin_copy.ts", import.meta.url));

/** Starts the fixture that copies its stdin to its stdout through a ThreadedStdinReader. */
function spawnCopy(readSize: number, sliceSize: number, mode = "read"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", FIXTURE, String(readSize), String(sliceSize), mode],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function copyThrough(input: Uint8Array, readSize: number, sliceSize: number, mode?: string) {
  const child = spawnCopy(readSize, sliceSize, mode);
  const writing = (async () => {
    const writer = child.stdin.getWriter();
    // In uneven pieces, so slices fill from several pipe reads.
    for (let i = 0; i < input.byteLength; i += 70_001) {
      await writer.write(input.subarray(i, i + 70_001));
    }
    await writer.close();
  })();
  const [out] = await Promise.all([child.output(), writing]);
  return out;
}

Deno.test("transfer: ThreadedStdinReader passes every byte of a pipe on, in order, whatever the read size", async () => {
  const input = new Uint8Array(randomBytes(3_000_000));
  for (const [readSize, sliceSize] of [[1000, 65536], [1 << 20, 65536], [65536, 1 << 20]]) {
    const out = await copyThrough(input, readSize!, sliceSize!);
    equal(out.code, 0);
    deepEqual(out.stdout, input, `read ${readSize}, slice ${sliceSize}`);
  }
});

Deno.test("transfer: ThreadedStdinReader lends its slices (readView) between reads, every byte in order", async () => {
  const input = new Uint8Array(randomBytes(3_000_000));
  for (const [readSize, sliceSize] of [[1000, 65536], [65536, 1 << 20]]) {
    const out = await copyThrough(input, readSize!, sliceSize!, "views");
    equal(out.code, 0);
    deepEqual(out.stdout, input, `read ${readSize}, slice ${sliceSize}, views`);
  }
});

Deno.test("transfer: ThreadedStdinReader ends at once on empty stdin", async () => {
  const out = await copyThrough(new Uint8Array(), 1000, 65536);
  equal(out.code, 0);
  equal(out.stdout.byteLength, 0);
});

Deno.test("transfer: ThreadedStdinReader hands a slow producer's bytes on at once, not when a slice fills", async () => {
  const child = spawnCopy(1000, 1 << 20);
  const writer = child.stdin.getWriter();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  try {
    for (const line of ["one\n", "two\n", "three\n"]) {
      await writer.write(new TextEncoder().encode(line));
      // The line comes back while stdin stays open and the slice is far from full.
      let echoed = "";
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), 10_000)
      );
      try {
        while (echoed.length < line.length) {
          const next = await Promise.race([reader.read(), late]);
          if (next === "late" || next.done) break;
          echoed += decoder.decode(next.value);
        }
      } finally {
        clearTimeout(timer);
      }
      if (echoed !== line) child.kill();
      equal(echoed, line);
    }
  } finally {
    await writer.close();
    while (!(await reader.read()).done) { /* drain */ }
    equal((await child.status).code, 0);
  }
});
