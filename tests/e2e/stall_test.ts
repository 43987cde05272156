import { deepEqual, ok } from "node:assert/strict";
import { stallMidBody, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { runBftp, tempDir } from "./helpers.ts";

Deno.test("e2e: bftp get --timeout gives up on a server that stalls mid-body, with exit 7", async () => {
  await using server = startScriptedBftpServer(stallMidBody);
  await using local = await tempDir();
  const started = performance.now();
  const r = await runBftp(
    ["get", "--timeout", "1", `${server.url}/a.bin`, "-"],
    { cwd: local.path },
  );
  const waited = performance.now() - started;
  deepEqual(r.code, 7, r.stderr);
  ok(/^bftp: The server sent nothing for 1 s/.test(r.stderr), r.stderr);
  ok(waited < 8000, `gave up after ${waited.toFixed(0)} ms`);
  // The 10 bytes that came before the stall reached stdout; nothing else was written.
  deepEqual(r.stdout.length, 10);
  deepEqual(Array.from(Deno.readDirSync(local.path)).map((e) => e.name), []);
});
