import { equal } from "node:assert/strict";
import nodePath from "node:path";
import fc from "fast-check";
import { basename, dirname, join, normalize, posix, sep } from "../lib/local_path.ts";

/** Paths of separators, dots and short names: where the rules' corners are. */
const paths = fc.array(fc.constantFrom("/", "//", ".", "..", "a", "b.c", "..."), { maxLength: 8 })
  .map((parts) => parts.join(""));

Deno.test("local_path: posix gives what node:path's posix gives, for any path", () => {
  fc.assert(
    fc.property(paths, (p) => {
      equal(posix.normalize(p), nodePath.posix.normalize(p), `normalize ${JSON.stringify(p)}`);
      equal(posix.dirname(p), nodePath.posix.dirname(p), `dirname ${JSON.stringify(p)}`);
      equal(posix.basename(p), nodePath.posix.basename(p), `basename ${JSON.stringify(p)}`);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.array(paths, { maxLength: 4 }), (parts) => {
      equal(posix.join(...parts), nodePath.posix.join(...parts), JSON.stringify(parts));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("local_path: the system's rules are node:path's own", () => {
  for (const p of ["/a/b/", "a\\b\\c", "C:\\x\\..\\y", "//srv/share/f", "", "."]) {
    equal(normalize(p), nodePath.normalize(p));
    equal(dirname(p), nodePath.dirname(p));
    equal(basename(p), nodePath.basename(p));
    equal(join(p, "x", "..", "y"), nodePath.join(p, "x", "..", "y"));
  }
  equal(sep, nodePath.sep);
});
