import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../../lib/errors.ts";
import { parseSize } from "../../lib/bytes.ts";
import { parseSizeList, sizeName } from "../../lib/check/sizes.ts";

Deno.test("check/sizes: parseSize() reads binary and decimal units, any case", () => {
  deepEqual(
    ["0", "512", "512B", "1k", "1KiB", "1kib", "64MiB", "1G", "1GiB", "1KB", "1MB", "1.5MiB"].map(
      parseSize,
    ),
    [0, 512, 512, 1024, 1024, 1024, 64 << 20, 1 << 30, 1 << 30, 1000, 1e6, 1.5 * 1048576],
  );
});

Deno.test("check/sizes: parseSize() refuses what is not a whole number of bytes", () => {
  for (const bad of ["", "x", "1.5", "-1KiB", "1TiB", "1 Ki B", "0.1KiB"]) {
    throws(() => parseSize(bad), UsageError, bad);
  }
});

Deno.test("check/sizes: parseSizeList() and sizeName() round-trip the defaults", () => {
  const sizes = parseSizeList("1KiB,1MiB,64MiB");
  deepEqual(sizes, [1024, 1048576, 67108864]);
  deepEqual(sizes.map(sizeName), ["1KiB", "1MiB", "64MiB"]);
  deepEqual(parseSizeList("none"), []);
  equal(sizeName(1000), "1000B");
});
