// `bftp sync` on a real terminal (tmux): the progress line on stderr gives
// way to each change's line and to the summary, so the screen holds exactly
// those lines and no remnant of a progress line; -q leaves nothing.

import { deepEqual, ok } from "node:assert/strict";
import { startServe, tempDir, writeRandomFile } from "./helpers.ts";
import { runInTerminal } from "./terminal.ts";

Deno.test("e2e terminal: sync leaves a line per change and a summary, no progress remnant", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("src"));
  await Deno.mkdir(dir.join("root"));
  for (let f = 0; f < 8; f++) await writeRandomFile(dir.join("src", `f${f}.bin`), 256 << 10);
  await using server = await startServe(dir.join("root"));
  const run = await runInTerminal(["sync", dir.join("src"), `${server.url}/dst`], {
    columns: 100,
  });
  deepEqual(run.code, 0, run.lines.join("\n"));
  const lines = run.lines.filter((l) => l !== "");
  deepEqual(lines.slice(0, -1).sort(), [...Array(8).keys()].map((f) => `+ f${f}.bin`));
  ok(
    /^Checked 8 files: sent 8 \(8 new, 0 changed\), deleted 0; 2\.0 MiB in [\d.]+ s/.test(
      lines.at(-1)!,
    ),
    lines.join("\n"),
  );
  const quiet = await runInTerminal(["sync", "-q", dir.join("src"), `${server.url}/dst`]);
  deepEqual([quiet.code, quiet.lines.filter((l) => l !== "")], [0, []]);
});
