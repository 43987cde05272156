// libc's statx in plain numbers (lib/libc/libc.ts) against its bigint form and Deno's own stat:
// sizes, bits and times to the nanosecond, before 1970 and after 2038 too.

import { deepEqual, equal, throws } from "node:assert/strict";
import { Libc } from "../../lib/libc/libc.ts";
import { tempDir } from "../helpers.ts";

const libc = Libc.load();

Deno.test({
  name: "libc: statxNumbers() gives statx()'s facts without bigints, any time",
  ignore: libc === null,
  fn: async () => {
    await using tmp = await tempDir();
    const path = `${tmp.path}/a.bin`;
    await Deno.writeFile(path, new Uint8Array(5000));
    await Deno.chmod(path, 0o640);
    // Before 1970 (negative seconds, positive nanoseconds), after 2038, and now.
    for (const ms of [-1_234_567_891, 2_500_000_000_123, 1_600_000_000_456]) {
      await Deno.utime(path, new Date(), new Date(ms));
      const big = libc!.statx(-100, path, 0);
      const numbers = libc!.statxNumbers(-100, path, 0);
      deepEqual(
        { type: numbers.type, size: numbers.size, mode: numbers.mode },
        { type: "file", size: 5000, mode: 0o640 },
      );
      equal(BigInt(numbers.mtimeSec) * 1_000_000_000n + BigInt(numbers.mtimeNsec), big.mtimeNs);
      equal(BigInt(numbers.ctimeSec) * 1_000_000_000n + BigInt(numbers.ctimeNsec), big.ctimeNs);
      equal(numbers.mtimeSec * 1000 + Math.floor(numbers.mtimeNsec / 1e6), ms);
      equal(
        numbers.mtimeSec * 1000 + Math.floor(numbers.mtimeNsec / 1e6),
        Deno.statSync(path).mtime!.getTime(),
      );
    }
    equal(libc!.statxNumbers(-100, tmp.path, 0).type, "dir");
    throws(() => libc!.statxNumbers(-100, `${tmp.path}/none`, 0), Deno.errors.NotFound);
  },
});
