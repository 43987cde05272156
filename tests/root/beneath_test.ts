import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Beneath, OutsideRoot } from "../../lib/root/beneath.ts";
import { FdBackend } from "../../lib/root/fd_backend.ts";
import { tempDir } from "../helpers.ts";

Deno.test({
  name:
    "root/beneath: one openat2 call resolves a file or a name's folder as the walk does, and hands the rest to it",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using tmp = await tempDir();
    await Deno.mkdir(tmp.join("a", "b"), { recursive: true });
    await Deno.writeTextFile(tmp.join("a", "b", "f"), "x");
    await Deno.symlink("../a/b/f", tmp.join("a", "rel"));
    await Deno.symlink("/etc", tmp.join("out"));
    await Deno.symlink(tmp.join("a"), tmp.join("abs"));
    const fs = FdBackend.open(tmp.path)!;
    try {
      let calls = 0;
      const openBeneath = fs.openBeneath.bind(fs);
      fs.openBeneath = (path) => (calls++, openBeneath(path));
      const beneath = new Beneath(fs, tmp.path);
      {
        using file = beneath.resolve(["a", "b", "f"], true);
        deepEqual([file.target?.stat.type, file.stack.length, calls], ["file", 0, 1]);
        throws(() => file.dir, RangeError);
      }
      {
        // A relative link that stays inside is followed in the one call.
        using linked = beneath.resolve(["a", "rel"], true);
        deepEqual([linked.target?.stat.type, linked.target?.stat.size], ["file", 1]);
      }
      {
        // The folder of a name: what an upload, a rename or a remove works in.
        using at = beneath.resolve(["a", "b", "new"], false);
        equal(at.name, "new");
        equal(fs.statAt(at.dir, "f").type, "file");
      }
      {
        // A folder to open is walked name by name: its callers need every folder above it.
        using folder = beneath.resolve(["a", "b"], true);
        deepEqual([folder.target?.stat.type, folder.stack.length], ["dir", 3]);
      }
      {
        // An absolute link under the root's real path: the call refuses it, the walk allows it.
        using viaAbsolute = beneath.resolve(["abs", "b", "f"], true);
        equal(viaAbsolute.target?.stat.type, "file");
      }
      // Ways out are refused, whichever path resolves them.
      throws(() => beneath.resolve(["out", "passwd"], true), OutsideRoot);
      throws(() => beneath.resolve(["out", "passwd"], false), OutsideRoot);
      throws(() => beneath.resolve(["a", "missing", "x"], true), Deno.errors.NotFound);
      ok(calls >= 6, `${calls} calls`);
    } finally {
      fs.close();
    }
  },
});
