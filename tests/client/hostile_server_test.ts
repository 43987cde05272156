// The client against a hostile server (a real socket, a server scripted byte by
// byte in tests/client/hostile_scenarios.ts): more bytes than announced, fewer,
// a wrong hash, a negative or enormous size, a malformed trailer, oversize or
// broken replies, and listings with path-like names. The client must refuse
// each with its typed error and leave nothing under DEST (an existing DEST
// keeps its old bytes); a name a request cannot carry (an escape code) is one
// failure, and the rest of the tree arrives.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { downloadFile } from "../../lib/client/local.ts";
import { downloadTree } from "../../lib/client/tree_transfer.ts";
import { type BftpError, ProtocolError } from "../../lib/errors.ts";
import { frame, startScriptedBftpServer } from "../e2e/fake_bftp_server.ts";
import { listNames, tempDir } from "../e2e/helpers.ts";
import {
  CONTENT,
  GET_SCENARIOS,
  HOSTILE_NAMES,
  listScript,
  scriptFor,
  UNFETCHABLE_NAMES,
} from "./hostile_scenarios.ts";

function connect(url: string): Promise<BftpClient> {
  return BftpClient.connect({ hostname: "127.0.0.1", port: Number(url.split(":").pop()) });
}

for (const scenario of GET_SCENARIOS) {
  Deno.test(`client: a server that sends ${scenario.name} is refused with ${scenario.code}, nothing under DEST`, async () => {
    await using local = await tempDir();
    await using server = startScriptedBftpServer(scriptFor(scenario), scenario.hello);
    for (const existing of [false, true]) {
      const dest = local.join("file.bin");
      if (existing) await Deno.writeTextFile(dest, "old");
      let client: BftpClient | undefined;
      try {
        await rejects(
          (async () => {
            client = await connect(server.url);
            await downloadFile(client, "/file.bin", dest);
          })(),
          (e) => {
            ok(e instanceof scenario.error, `${scenario.name}: ${String(e)}`);
            equal((e as { code: string }).code, scenario.code, String(e));
            ok(!/[\x00-\x1f\x7f]/.test((e as Error).message), JSON.stringify((e as Error).message));
            return true;
          },
        );
      } finally {
        client?.close();
      }
      // Nothing under DEST: no file, no temporary; an existing one is untouched.
      deepEqual(await listNames(local.path), existing ? ["file.bin"] : []);
      if (existing) equal(await Deno.readTextFile(dest), "old");
    }
  });
}

Deno.test("client: a fair answer from the scripted server is accepted (the scenarios test what they say)", async () => {
  await using local = await tempDir();
  await using server = startScriptedBftpServer(listScript([]));
  using client = await connect(server.url);
  await downloadFile(client, "/file.bin", local.join("file.bin"));
  deepEqual(await Deno.readFile(local.join("file.bin")), CONTENT);
});

Deno.test(`client: ${HOSTILE_NAMES.length} path-like names in a LIST stop a recursive download before it creates anything`, async () => {
  await using local = await tempDir();
  for (const name of HOSTILE_NAMES) {
    await using server = startScriptedBftpServer(listScript([name]));
    using client = await connect(server.url);
    await rejects(downloadTree(client, "/d", local.join("dest")), (e) => {
      ok(e instanceof ProtocolError, `${JSON.stringify(name)}: ${String(e)}`);
      ok(/Refused a name from the server/.test(e.message), e.message);
      ok(!/[\x00-\x1f\x7f-\x9f]/.test(e.message), JSON.stringify(e.message));
      return true;
    });
    // Not even the fair file listed before it, nor DEST itself.
    deepEqual(await listNames(local.path), [], JSON.stringify(name));
    ok(!server.requests.some((r) => r.startsWith("GET")), server.requests.join(", "));
  }
});

Deno.test(`client: ${UNFETCHABLE_NAMES.length} names a request cannot carry (escape codes, backslashes) are each a failure of a recursive download, and the rest arrives`, async () => {
  await using local = await tempDir();
  for (const [i, name] of UNFETCHABLE_NAMES.entries()) {
    for (const type of ["file", "dir"]) {
      await using server = startScriptedBftpServer(listScript([name], type));
      using client = await connect(server.url);
      const dest = local.join(`dest${i}${type}`);
      const failed: [string, BftpError][] = [];
      const totals = await downloadTree(client, "/d", dest, {
        onFailure: (path, e) => failed.push([path, e]),
      });
      const what = `${type} ${JSON.stringify(name)}`;
      deepEqual(totals.files, 1, what);
      deepEqual(failed.map(([path, e]) => [path, e.code]), [[name, "BAD_PATH"]], what);
      ok(/^Cannot fetch "\/d\/.*": /.test(failed[0]![1].message), failed[0]![1].message);
      ok(
        !/[\x00-\x1f\x7f-\x9f]/.test(failed[0]![1].message),
        JSON.stringify(failed[0]![1].message),
      );
      deepEqual(await listNames(dest), ["a-fair-file"], what);
      deepEqual(await Deno.readFile(`${dest}/a-fair-file`), CONTENT);
      // Never asked for: neither fetched nor listed.
      ok(!server.requests.some((r) => r.includes(name)), `${what}: ${server.requests.join(", ")}`);
    }
    // Without `onFailure`, the first stops the tree before anything is created.
    await using server = startScriptedBftpServer(listScript([name]));
    using client = await connect(server.url);
    const dest = local.join(`stopped${i}`);
    await rejects(downloadTree(client, "/d", dest), (e: BftpError) => e.code === "BAD_PATH");
    await rejects(Deno.stat(dest), Deno.errors.NotFound);
  }
});

Deno.test("client: a LIST entry whose type, time or mode is not what the protocol says is refused", async () => {
  for (
    const entry of [
      { name: "a", type: "\x1b[2J", size: 1, mtime: 0, mode: 0 },
      { name: "a", type: "file", size: 1, mtime: "yesterday", mode: 0 },
      { name: "a", type: "file", size: 1, mtime: 1e300, mode: 0 },
      { name: "a", type: "file", size: 1, mtime: 0, mode: -1 },
      { name: "a", type: "file", size: 1, mtime: 0 },
      { name: "a", type: "file", size: -1, mtime: 0, mode: 0 },
    ]
  ) {
    await using server = startScriptedBftpServer(async (req, send) => {
      if (req.op === "LIST") await send(frame({ ok: true, entries: [entry] }));
    });
    using client = await connect(server.url);
    await rejects(client.list("/"), ProtocolError, JSON.stringify(entry));
  }
});

Deno.test("client: a symbolic link in a LIST is skipped by a recursive download, never created", async () => {
  await using local = await tempDir();
  await using server = startScriptedBftpServer(listScript(["link-to-etc"], "link"));
  using client = await connect(server.url);
  const totals = await downloadTree(client, "/d", local.join("dest"));
  deepEqual(totals, { files: 1, bytes: CONTENT.byteLength });
  deepEqual(await listNames(local.join("dest")), ["a-fair-file"]);
});
