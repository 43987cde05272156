import { equal, ok, throws } from "node:assert/strict";
import { Libc } from "../../lib/libc/libc.ts";
import { removeBeneath } from "../../lib/local_file/remove_beneath.ts";
import { tempDir } from "../helpers.ts";

Deno.test({
  name:
    "local_file: removeBeneath() follows no link on the way, removes a link itself, a folder once empty",
  ignore: Libc.load() === null,
  fn: async () => {
    await using tmp = await tempDir();
    const top = `${tmp.path}/top`;
    await Deno.mkdir(`${top}/a/b`, { recursive: true });
    await Deno.mkdir(`${tmp.path}/outside/b`, { recursive: true });
    await Deno.writeTextFile(`${tmp.path}/outside/f`, "keep");
    await Deno.writeTextFile(`${tmp.path}/outside/b/g`, "keep");
    await Deno.symlink(`${tmp.path}/outside`, `${top}/a/link`);
    await Deno.symlink(`${tmp.path}/outside`, `${top}/link`);
    // A link on the way, at the top's level or deeper: refused, nothing removed where it leads.
    for (
      const [relative, folder] of [["link/f", false], ["a/link/f", false], [
        "link/b",
        true,
      ]] as const
    ) {
      throws(
        () => removeBeneath(top, relative, folder),
        (e) => e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.FilesystemLoop,
        relative,
      );
    }
    equal(await Deno.readTextFile(`${tmp.path}/outside/f`), "keep");
    equal(await Deno.readTextFile(`${tmp.path}/outside/b/g`), "keep");
    // A link as the entry is removed itself.
    removeBeneath(top, "a/link", false);
    ok((await Deno.stat(`${tmp.path}/outside/f`)).isFile);
    throws(() => Deno.lstatSync(`${top}/a/link`), Deno.errors.NotFound);
    // A folder only once empty; then it goes.
    throws(() => removeBeneath(top, "a", true));
    removeBeneath(top, "a/b", true);
    removeBeneath(top, "a", true);
    throws(() => Deno.statSync(`${top}/a`), Deno.errors.NotFound);
    throws(() => removeBeneath(top, "missing", false), Deno.errors.NotFound);
  },
});
