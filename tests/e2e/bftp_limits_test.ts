/**
 * End-to-end: the connection limits of `bftp serve`: per client address
 * (BUSY, exit 16) and the handshake timeout.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { assertFailure, runBftp, startServe, tempDir, waitFor } from "./helpers.ts";
import { requirePeers } from "../peers.ts";

const portOf = (url: string) => Number(/:(\d+)$/.exec(url)![1]);

Deno.test("e2e: --max-per-client: one address over the limit gets BUSY (exit 16)", async () => {
  await using dir = await tempDir();
  await using server = await startServe(dir.path, ["--max-per-client", "2"]);
  const port = portOf(server.url);
  // Two sessions held open by hand (hello done) from 127.0.0.1.
  const held: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      held.push(conn);
      await writeAll(conn, encodeDelimited("BFTP/1"));
      ok((await conn.read(new Uint8Array(256)))! > 0);
    }
    const third = await runBftp(["ls", `${server.url}/`]);
    assertFailure(third, 16, /from one address/);
    await server.waitForLog(/refused: BUSY \(limit of 2 per client address\)/);
  } finally {
    for (const c of held) c.close();
  }
  // Places given back: the next client gets in.
  let after = await runBftp(["ls", `${server.url}/`]);
  for (let i = 0; i < 50 && after.code === 16; i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = await runBftp(["ls", `${server.url}/`]);
  }
  equal(after.code, 0, after.stderr);
});

Deno.test("e2e: --handshake-timeout drops a client that never sends the hello", async () => {
  await using dir = await tempDir();
  await using server = await startServe(dir.path, ["--handshake-timeout", "0.5"]);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
  const started = performance.now();
  equal(await conn.read(new Uint8Array(16)), null);
  const waited = performance.now() - started;
  ok(waited >= 400 && waited < 5000, `dropped after ${waited.toFixed(0)} ms`);
  await server.waitForLog(/dropped: no complete handshake within 0.5s/);
  // A real client, which says hello at once, is served.
  const ls = await runBftp(["ls", `${server.url}/`]);
  equal(ls.code, 0, ls.stderr);
});

Deno.test("e2e: limit flags are checked", async () => {
  await using dir = await tempDir();
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--max-per-client", "-1"]),
    2,
    /--max-per-client/,
  );
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--handshake-timeout", "soon"]),
    2,
    /--handshake-timeout/,
  );
});

Deno.test("e2e: a server out of file descriptors keeps serving: it waits, then accepts again", async () => {
  // Found by an audit: about 680 idle connections under a limit of 1024 descriptors ended the
  // server ("Too many open files", exit 1), no token needed.
  requirePeers("prlimit");
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("a.txt"), "a");
  await using server = await startServe(root.path, ["--max-per-client", "0"]);
  const limited = await new Deno.Command("prlimit", {
    args: ["--pid", String(server.process.pid), "--nofile=64:64"],
  }).output();
  equal(limited.code, 0, new TextDecoder().decode(limited.stderr));
  const conns: Deno.Conn[] = [];
  try {
    // More than 64 descriptors' worth: the kernel queues what the server cannot accept.
    for (let i = 0; i < 80; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) }));
    }
    await waitFor(() => /no file descriptor left/.test(server.stderrText()), "the server's note");
  } finally {
    for (const conn of conns) conn.close();
  }
  // Those sessions end, their descriptors come back, and the server serves again.
  const get = await runBftp(["get", `${server.url}/a.txt`, "-"]);
  equal(get.code, 0, `${get.stderr}\n${server.stderrText()}`);
  equal(get.stdout, "a");
  await waitFor(() => /accepting again/.test(server.stderrText()), "accepting again");
});
