// A sync's push of one file (lib/sync/apply_one.ts, pushFile): a file its walk listed as a plain
// file is sent only as one. A symbolic link put in its place since, or a FIFO, is refused, whole
// or by changed blocks, large or not; one the walk reached through a link is followed.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { LocalIoError } from "../../lib/errors.ts";
import { pushFile } from "../../lib/sync/apply_one.ts";
import { DELTA_MIN } from "../../lib/sync/delta.ts";
import { startTestServer } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

const SIZE = DELTA_MIN + 4096;

Deno.test({
  name:
    "sync: pushFile refuses a link or a FIFO put in a listed file's place, new or changed (by blocks); follows one listed as a link",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using server = await startTestServer({ files: { "t/": "" } });
    await using tmp = await tempDir();
    const secret = `${tmp.path}/secret`;
    await Deno.writeFile(secret, new Uint8Array(SIZE).fill(7));
    const body = new Uint8Array(SIZE).fill(1);
    // On the server already (a changed file goes by blocks), and not.
    await Deno.writeFile(`${server.root}/t/changed.bin`, body.subarray(0, SIZE - 10));
    using client = await server.connect();
    const cases = [
      { name: "new.bin", kind: "new" as const, swap: "link" },
      { name: "changed.bin", kind: "changed" as const, swap: "link" },
      { name: "fifo.bin", kind: "new" as const, swap: "fifo" },
    ];
    for (const { name, kind, swap } of cases) {
      const local = `${tmp.path}/${name}`;
      await Deno.writeFile(local, body);
      const file = { local, remote: `/t/${name}`, relative: name, size: SIZE, mtime: null };
      // After the walk: a link to a file the user did not list, or a FIFO with no writer.
      await Deno.remove(local);
      if (swap === "link") await Deno.symlink(secret, local);
      else equal((await new Deno.Command("mkfifo", { args: [local] }).output()).code, 0);
      await rejects(
        pushFile(client, { kind, file }, {}, true, true),
        (e) =>
          e instanceof LocalIoError && /(symbolic link|not a regular file) now$/.test(e.message),
        name,
      );
    }
    ok(client.usable);
    deepEqual(
      [...Deno.readDirSync(`${server.root}/t`)].map((e) => e.name),
      ["changed.bin"],
    );
    equal((await Deno.readFile(`${server.root}/t/changed.bin`)).byteLength, SIZE - 10);
    // Listed as a link (the walk followed it): followed.
    const via = `${tmp.path}/via.bin`;
    await Deno.symlink(secret, via);
    const linked = {
      local: via,
      remote: "/t/via.bin",
      relative: "via.bin",
      size: SIZE,
      link: true,
    };
    equal(await pushFile(client, { kind: "new", file: linked }, {}, true, true), SIZE);
    // ... but never into a FIFO put there since.
    await Deno.remove(via);
    equal((await new Deno.Command("mkfifo", { args: [via] }).output()).code, 0);
    await rejects(
      pushFile(client, { kind: "new", file: { ...linked, remote: "/t/via2.bin" } }, {}, true, true),
      (e) => e instanceof LocalIoError && /not a regular file now$/.test(e.message),
    );
  },
});
