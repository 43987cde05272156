import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import {
  downloadFile,
  dropStalePartial,
  impossibleName,
  safeLocalName,
  unfetchableName,
  uploadFile,
} from "../../lib/client/local.ts";
import { partialPaths } from "../../lib/client/resume.ts";
import { downloadTree, uploadTree } from "../../lib/client/tree_transfer.ts";
import { IntegrityError, ProtocolError, UnexpectedEofError } from "../../lib/errors.ts";
import { encodeSizeHeader } from "../../lib/framing/size_header.ts";
import { hostTree, startTestServer } from "../server/helpers.ts";
import { frame, type Script, startScriptedBftpServer } from "../e2e/fake_bftp_server.ts";
import { hashIn, sha256, tempDir } from "../helpers.ts";

const encoder = new TextEncoder();

/**
 * Connects a client to a scripted fake server and runs `fn` with it. The
 * fake answers QUIT itself; `script` answers every other request.
 */
async function fakeServer(
  script: Script,
  fn: (client: BftpClient) => Promise<void>,
): Promise<void> {
  await using fake = startScriptedBftpServer(
    (req, send) => req.op === "QUIT" ? undefined : script(req, send),
    frame({ ok: true, version: 1, server: "fake", readOnly: false }),
  );
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: fake.port });
  try {
    await fn(client);
  } finally {
    client.close();
  }
}

Deno.test("client: safeLocalName() refuses names that would leave the destination", () => {
  for (
    const bad of [
      "",
      ".",
      "..",
      "../evil",
      "a/b",
      "/etc/passwd",
      "a\\b",
      "..\\evil",
      "C:x",
      "c:",
      "a\0b",
      "a\nb",
      "\x1b[31m",
      "\x7f",
    ]
  ) {
    throws(
      () => safeLocalName(bad),
      (e) => e instanceof ProtocolError && !/[\x00-\x1f\x7f]/.test(e.message),
      JSON.stringify(bad),
    );
  }
  for (const good of ["a.txt", "...", "....", ".hidden", "%2e%2e", "ünï côdé", " x ", "ab:c"]) {
    equal(safeLocalName(good), good);
  }
});

Deno.test("client: downloadFile() leaves no DEST when the hash does not match", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/existing.txt`, "keep me");
  const sentWrong: Script = async (req, send) => {
    equal(req.op, "GET");
    await send(frame({ ok: true, size: 5, mtime: null }));
    await send(encodeSizeHeader(5, { wide: true }));
    await send(encoder.encode("hello" + sha256("HELLO")));
  };
  for (const dest of [`${dir}/new.txt`, `${dir}/existing.txt`]) {
    await fakeServer(sentWrong, async (client) => {
      await rejects(downloadFile(client, "/a.txt", dest), IntegrityError);
    });
  }
  // No new file, the existing one untouched, no temporary left beside them.
  deepEqual(await hostTree(dir), ["existing.txt"]);
  equal(await Deno.readTextFile(`${dir}/existing.txt`), "keep me");
});

Deno.test("client: downloadFile() leaves no DEST when the body is cut short", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await fakeServer(async (_req, send) => {
    await send(frame({ ok: true, size: 1000, mtime: null }));
    await send(encodeSizeHeader(1000, { wide: true }));
    await send(new Uint8Array(400));
    return "close" as const;
  }, async (client) => {
    await rejects(downloadFile(client, "/big", `${dir}/big`), UnexpectedEofError);
  });
  deepEqual(await hostTree(dir), []);
});

Deno.test("client: a listed name is impossible (no folder holds it), unfetchable (no request carries it), or fine", () => {
  const impossible = ["", ".", "..", "../evil", "a/b", "/etc/passwd", "a\0b", "x".repeat(256)];
  const unfetchable = [
    "a\\b",
    "..\\evil",
    "C:x",
    "c:",
    "a\nb",
    "Icon\r",
    "\x1b[31m",
    "\x7f",
    "a\u009bb",
    `.f.bftp-tmp-${crypto.randomUUID()}`,
    // A resumable download's partial file and state, and the server's temporary prefix.
    ".ok.txt.bftp-partial",
    ".ok.txt.bftp-partial.json",
    ".bftp-tmp-x.part",
  ];
  const fine = [
    "a.txt",
    "...",
    ".hidden",
    "%2e%2e",
    "ünï côdé",
    " x ",
    "ab:c",
    "x".repeat(255),
    "x.bftp-partial",
  ];
  for (const name of impossible) ok(impossibleName(name), JSON.stringify(name));
  for (const name of [...unfetchable, ...fine]) ok(!impossibleName(name), JSON.stringify(name));
  for (const name of unfetchable) {
    ok(
      /^a name |^the name is |^the server keeps /.test(unfetchableName(name) ?? ""),
      JSON.stringify(name),
    );
  }
  for (const name of fine) equal(unfetchableName(name), null, JSON.stringify(name));
});

Deno.test("client: downloadTree() refuses a hostile name from the server and writes nothing outside", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const dest = `${dir}/dest`;
  for (const name of ["../evil", "..", "/abs", "a/../b", "a\0b"]) {
    let gets = 0;
    await fakeServer(async (req, send) => {
      if (req.op === "LIST") {
        await send(frame({
          ok: true,
          entries: [{ name, type: "file", size: 1, mtime: null, mode: 0o644 }],
        }));
      } else {
        gets++;
        await send(frame({ ok: false, code: "NOT_FOUND", message: "no" }));
      }
    }, async (client) => {
      await rejects(downloadTree(client, "/", dest), ProtocolError, name);
    });
    equal(gets, 0, name);
  }
  // The listing is checked before anything is made: not even DEST.
  deepEqual(await hostTree(dir), []);
});

Deno.test("client: files and trees round-trip through a real server with no temporaries left", async () => {
  await using srv = await startTestServer();
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.mkdir(`${dir}/src/sub/deeper`, { recursive: true });
  await Deno.writeTextFile(`${dir}/src/a.txt`, "alpha");
  await Deno.writeFile(`${dir}/src/sub/b.bin`, new Uint8Array(100_000).fill(7));
  await Deno.writeTextFile(`${dir}/src/sub/deeper/c.txt`, "");
  using client = await srv.connect();
  const done: string[] = [];
  const up = await uploadTree(client, `${dir}/src`, "/tree", {
    onFile: (remote) => done.push(remote),
  });
  deepEqual(up, { files: 3, bytes: 100_005 });
  deepEqual(done.sort(), ["/tree/a.txt", "/tree/sub/b.bin", "/tree/sub/deeper/c.txt"]);
  const down = await downloadTree(client, "/tree", `${dir}/back`);
  deepEqual(down, up);
  deepEqual(await hostTree(`${dir}/back`), await hostTree(`${dir}/src`));
  equal(
    sha256(await Deno.readFile(`${dir}/back/sub/b.bin`)),
    sha256(new Uint8Array(100_000).fill(7)),
  );
  const one = await uploadFile(client, `${dir}/src/a.txt`, "/single.txt");
  deepEqual(one, { size: 5, checksum: "xxh3-128", hash: await hashIn("xxh3-128", "alpha") });
  const got = await downloadFile(client, "/single.txt", `${dir}/single.txt`);
  deepEqual(got, one);
  equal(await Deno.readTextFile(`${dir}/single.txt`), "alpha");
  ok(!(await hostTree(dir)).some((p) => p.includes(".bftp-tmp-")));
  ok(!(await hostTree(srv.root)).some((p) => p.includes(".bftp-tmp-")));
});

Deno.test("client: downloadFile() of a missing file creates nothing and keeps the session", async () => {
  await using srv = await startTestServer({ files: { "a.txt": "alpha" } });
  await using tmp = await tempDir();
  const dir = tmp.path;
  using client = await srv.connect();
  await rejects(downloadFile(client, "/missing", `${dir}/out`), /not found/);
  deepEqual(await hostTree(dir), []);
  await downloadFile(client, "/a.txt", `${dir}/out`);
  equal(await Deno.readTextFile(`${dir}/out`), "alpha");
  await rejects(uploadFile(client, `${dir}/nope`, "/x"), /Cannot read/);
  await rejects(uploadFile(client, dir, "/x"), /is a folder/);
});

Deno.test("client/local: a landed file's stale partial download goes when its folder's listing names it, or when no listing is given", async () => {
  await using tmp = await tempDir();
  const dest = `${tmp.path}/a.iso`;
  const { partial, state } = partialPaths(dest);
  const leave = async () => {
    await Deno.writeTextFile(partial, "part");
    await Deno.writeTextFile(state, "{}");
  };
  const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
  await leave();
  // A listing that does not name them: not looked for (they stay).
  dropStalePartial(dest, new Set(["a.iso"]));
  deepEqual([await exists(partial), await exists(state)], [true, true]);
  dropStalePartial(dest, new Set(["a.iso", ".a.iso.bftp-partial.json"]));
  deepEqual([await exists(partial), await exists(state)], [false, false]);
  await leave();
  dropStalePartial(dest, undefined);
  deepEqual([await exists(partial), await exists(state)], [false, false]);
});
