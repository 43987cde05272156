// An upload's sink (lib/root/upload_sink.ts): its bytes written in order,
// the disk's write-back started every 8 MiB only for an upload that will be
// flushed, a failed write reported as the path's error; and through a real
// temporary on Linux, the bytes intact.

import { deepEqual, equal, rejects } from "node:assert/strict";
import { uploadSink, WRITE_BACK_EVERY } from "../../lib/root/upload_sink.ts";
import { FdFile } from "../../lib/libc/fd_file.ts";
import { O } from "../../lib/libc/flags.ts";
import { Libc } from "../../lib/libc/libc.ts";
import { RemoteError } from "../../lib/errors.ts";
import { tempDir } from "../helpers.ts";

/** A temporary file that records what is done to it. */
function recorder() {
  const calls: string[] = [];
  let bytes = 0;
  return {
    calls,
    file: {
      writeSync: (p: Uint8Array) => (bytes += p.byteLength, p.byteLength),
      startWriteBack: () => void calls.push(`write-back after ${bytes}`),
    },
  };
}

Deno.test("upload sink: an upload to be flushed starts the write-back every 8 MiB of bytes", async () => {
  const { calls, file } = recorder();
  const sink = uploadSink(file, "/big.bin", { writeBack: true });
  const chunk = new Uint8Array(3 << 20);
  for (let i = 0; i < 6; i++) equal(await sink.write(chunk), chunk.byteLength);
  // 18 MiB in 3 MiB writes: started after 9 MiB and after 18 (the count starts again each time).
  deepEqual(calls, [`write-back after ${9 << 20}`, `write-back after ${18 << 20}`]);
  equal(WRITE_BACK_EVERY, 8 << 20);
});

Deno.test("upload sink: an upload not to be flushed, or a file without the call, never starts it", async () => {
  const { calls, file } = recorder();
  const sink = uploadSink(file, "/big.bin");
  for (let i = 0; i < 4; i++) await sink.write(new Uint8Array(4 << 20));
  deepEqual(calls, []);
  const plain = uploadSink({ writeSync: (p: Uint8Array) => p.byteLength }, "/b", {
    writeBack: true,
  });
  equal(await plain.write(new Uint8Array(16 << 20)), 16 << 20);
});

Deno.test("upload sink: a failed write is the upload path's file-system error", async () => {
  const sink = uploadSink({
    writeSync: () => {
      throw Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
    },
  }, "/full.bin");
  await rejects(
    sink.write(new Uint8Array(1)),
    (e) => e instanceof RemoteError && e.code === "NO_SPACE" && /full\.bin/.test(e.message),
  );
});

const libc = Libc.load();

Deno.test({
  name: "upload sink: through a real temporary, 20 MiB with the write-back started land intact",
  ignore: libc === null,
  fn: async () => {
    await using tmp = await tempDir();
    const fd = libc!.openat(
      -100,
      tmp.join("t"),
      O.O_RDWR | O.O_CREAT | O.O_EXCL | O.O_CLOEXEC,
      0o600,
    );
    const file = new FdFile(fd, true);
    const chunk = new Uint8Array(1 << 20);
    try {
      const sink = uploadSink(file, "/t", { writeBack: true });
      for (let i = 0; i < 20; i++) {
        chunk.fill(i);
        await sink.write(chunk);
      }
      await file.syncData();
    } finally {
      file.close();
    }
    const back = await Deno.readFile(tmp.join("t"));
    equal(back.byteLength, 20 << 20);
    for (let i = 0; i < 20; i++) equal(back[i << 20], i);
  },
});
