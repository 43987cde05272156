import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import {
  downloadFile,
  downloadTree,
  safeLocalName,
  uploadFile,
  uploadTree,
} from "../../lib/client/local.ts";
import {
  ConnectionError,
  IntegrityError,
  ProtocolError,
  UnexpectedEofError,
} from "../../lib/errors.ts";
import { encodeSizeHeader } from "../../lib/framing/size_header.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { Channel } from "../../lib/protocol/channel.ts";
import type { Request } from "../../lib/protocol/messages.ts";
import { hostTree, startTestServer } from "../server/helpers.ts";
import { sha256, tempDir } from "../helpers.ts";

const encoder = new TextEncoder();

/**
 * A tiny BFTP server that answers one connection with a script, over a real
 * socket; the script may end the connection by returning "hang up".
 */
async function fakeServer(
  answer: (channel: Channel, req: Request) => Promise<void | "hang up">,
  fn: (client: BftpClient) => Promise<void>,
): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    using conn = await listener.accept();
    const channel = new Channel(conn);
    if (!(await channel.serverReadHello())) return;
    await channel.send({ ok: true, version: 1, server: "fake", readOnly: false });
    while (true) {
      let req: Request | null;
      try {
        req = await channel.receiveRequest();
      } catch (e) {
        if (e instanceof ConnectionError) return; // the client hung up mid-frame
        throw e;
      }
      if (req === null) return;
      if (req.op === "QUIT") {
        await channel.send({ ok: true });
        return;
      }
      if ((await answer(channel, req)) === "hang up") return;
    }
  })();
  try {
    const client = await BftpClient.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    try {
      await fn(client);
    } finally {
      client.close();
    }
  } finally {
    await serving;
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
  const sentWrong = async (channel: Channel, req: Request) => {
    equal(req.op, "GET");
    await channel.send({ ok: true, size: 5, mtime: null });
    await writeAll(channel.writer, encodeSizeHeader(5, { wide: true }));
    await writeAll(channel.writer, encoder.encode("hello" + sha256("HELLO")));
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
  await fakeServer(async (channel) => {
    await channel.send({ ok: true, size: 1000, mtime: null });
    await writeAll(channel.writer, encodeSizeHeader(1000, { wide: true }));
    await writeAll(channel.writer, new Uint8Array(400));
    return "hang up";
  }, async (client) => {
    await rejects(downloadFile(client, "/big", `${dir}/big`), UnexpectedEofError);
  });
  deepEqual(await hostTree(dir), []);
});

Deno.test("client: downloadTree() refuses a hostile name from the server and writes nothing outside", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const dest = `${dir}/dest`;
  for (const name of ["../evil", "..", "/abs", "a\\..\\b", "C:evil"]) {
    let gets = 0;
    await fakeServer(async (channel, req) => {
      if (req.op === "LIST") {
        await channel.send({
          ok: true,
          entries: [{ name, type: "file", size: 1, mtime: null, mode: 0o644 }],
        });
      } else {
        gets++;
        await channel.send({ ok: false, code: "NOT_FOUND", message: "no" });
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
  deepEqual(one, { size: 5, sha256: sha256("alpha") });
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
