/**
 * The client's MGET (`many_downloads.ts`, `runGetMany`): many small files per
 * request, each landed atomically and verified; one file's failure, on the
 * server or on the local disk, is its own; a server whose answers are out
 * of step breaks the session, and nothing lands half-written.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { downloadMany } from "../../lib/client/many_downloads.ts";
import { MANY_BATCH } from "../../lib/client/many_transfers.ts";
import { IntegrityError, ProtocolError, RemoteError } from "../../lib/errors.ts";
import { Lander } from "../../lib/local_file/lander.ts";
import {
  frame,
  hexBytes,
  readSizedBody,
  startScriptedBftpServer,
} from "../e2e/fake_bftp_server.ts";
import { downloadTree, uploadTree } from "../../lib/client/tree_transfer.ts";
import { concat } from "../framing/helpers.ts";
import { hashIn, tempDir } from "../helpers.ts";
import { startTestServer } from "../server/helpers.ts";

const encoder = new TextEncoder();

/** `n` files `f0000`... in `dir`, each holding its own name. */
function layout(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`t/f${String(i).padStart(4, "0")}`] = `file ${i}\n`;
  return files;
}

/** The download of the layout's files into `into`. */
function wanted(n: number, into: string) {
  return Array.from({ length: n }, (_, i) => {
    const name = `f${String(i).padStart(4, "0")}`;
    return { remote: `/t/${name}`, local: `${into}/${name}`, relative: name };
  });
}

for (const threaded of [false, true]) {
  Deno.test(`client: MGET downloads 1,000 files in batches, one failing in the middle, the others landed${threaded ? " (landing thread)" : ""}`, async () => {
    await using srv = await startTestServer({ files: layout(1000) });
    await using dir = await tempDir();
    // Gone from the server after the listing: its answer is a refusal among good ones.
    await Deno.remove(`${srv.root}/t/f0500`);
    const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
    try {
      ok(client.supports("mget"));
      const failed: string[] = [];
      const landed: string[] = [];
      using lander = threaded ? new Lander() : undefined;
      await downloadMany(client, wanted(1000, dir.path), {
        lander,
        preserve: true,
        onDone: (file) => landed.push(file.relative),
        onError: (file, e) => failed.push(`${file.relative} ${e.code}`),
      });
      deepEqual(failed, ["f0500 NOT_FOUND"]);
      equal(landed.length, 999);
      const names = [...Deno.readDirSync(dir.path)].map((e) => e.name).sort();
      deepEqual(names, wanted(1000, "").map((f) => f.relative).filter((n) => n !== "f0500"));
      equal(await Deno.readTextFile(`${dir.path}/f0999`), "file 999\n");
      // -p: the server's time.
      const there = (await Deno.stat(`${srv.root}/t/f0001`)).mtime?.getTime();
      equal((await Deno.stat(`${dir.path}/f0001`)).mtime?.getTime(), there);
      // Many to a request: 1,000 files took a handful of MGETs.
      ok(client.usable);
    } finally {
      await client.quit();
    }
  });
}

Deno.test("client: MGET tells a file that cannot land locally, reads its body past, and lands the others", async () => {
  await using srv = await startTestServer({ files: layout(3) });
  await using dir = await tempDir();
  // A folder where the second file should land: its rename is refused.
  await Deno.mkdir(`${dir.path}/f0001/inside`, { recursive: true });
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
  try {
    const failed: string[] = [];
    await downloadMany(client, wanted(3, dir.path), {
      onError: (file, e) => failed.push(`${file.relative} ${e.code}`),
    });
    deepEqual(failed, ["f0001 LOCAL_IO"]);
    equal(await Deno.readTextFile(`${dir.path}/f0000`), "file 0\n");
    equal(await Deno.readTextFile(`${dir.path}/f0002`), "file 2\n");
    ok((await Deno.stat(`${dir.path}/f0001`)).isDirectory);
    // No temporary left behind, and the session is in step.
    deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), [
      "f0000",
      "f0001",
      "f0002",
    ]);
    equal(await client.pwd(), "/");
  } finally {
    await client.quit();
  }
});

/** Connects to `port` and downloads two files into `into`, which must fail as `check` says. */
async function failedDownload(
  port: number,
  into: string,
  check: (e: unknown) => boolean,
): Promise<BftpClient> {
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port });
  await rejects(downloadMany(client, wanted(2, into), { onError: () => {} }), check);
  return client;
}

/** A version 2 hello offering MGET, in SHA-256. */
const HELLO = frame({
  ok: true,
  version: 2,
  checksum: "sha256",
  features: ["mget"],
  server: "hostile 0",
});

/** One good MGET answer: a reply with its index and id, and the body. */
async function goodAnswer(text: string, index: number, id: unknown): Promise<Uint8Array> {
  const data = encoder.encode(text);
  return concat(
    frame({ ok: true, size: data.byteLength, mtime: 0, index, id }),
    hexBytes(data.byteLength, 16),
    data,
    encoder.encode(await hashIn("sha256", data)),
  );
}

Deno.test("client: MGET answers out of step (a wrong index, a duplicate) break the session; what arrived whole landed, nothing half", async () => {
  for (const spoil of ["skip", "duplicate"] as const) {
    await using fake = startScriptedBftpServer(async (req, send) => {
      if (req.op !== "MGET") return;
      await send(await goodAnswer("first", 0, req.id));
      // Then the third file's answer in place of the second's, or the first's again.
      await send(await goodAnswer("other", spoil === "skip" ? 2 : 0, req.id));
    }, HELLO);
    await using dir = await tempDir();
    const client = await BftpClient.connect({ hostname: "127.0.0.1", port: fake.port });
    try {
      const failed: string[] = [];
      const files = wanted(3, dir.path);
      await rejects(
        downloadMany(client, files, { onError: (f, e) => failed.push(`${f.relative} ${e.code}`) }),
        (e) => e instanceof ProtocolError && /answers item/.test(e.message),
      );
      deepEqual(failed, []);
      equal(client.usable, false);
      deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["f0000"]);
    } finally {
      await client.quit().catch(() => {});
    }
  }
});

Deno.test("client: an MGET refused as a whole (an error without an index) fails the download with it", async () => {
  await using fake = startScriptedBftpServer(async (req, send) => {
    if (req.op !== "MGET") return;
    await send(frame({ ok: false, code: "BAD_REQUEST", message: "No", id: req.id }));
  }, HELLO);
  await using dir = await tempDir();
  const client = await failedDownload(
    fake.port,
    dir.path,
    (e) => e instanceof RemoteError && e.code === "BAD_REQUEST",
  );
  try {
    // The stream is in step: the session goes on.
    ok(client.usable);
    deepEqual([...Deno.readDirSync(dir.path)], []);
  } finally {
    await client.quit();
  }
});

Deno.test("client: MGET batches stay within the protocol's request size and MANY_BATCH", async () => {
  const seen: number[] = [];
  await using fake = startScriptedBftpServer(async (req, send) => {
    if (req.op !== "MGET") return;
    const paths = req.paths as string[];
    seen.push(paths.length);
    for (const [i] of paths.entries()) {
      await send(frame({ ok: false, code: "NOT_FOUND", message: "No", index: i, id: req.id }));
    }
  }, HELLO);
  await using dir = await tempDir();
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: fake.port });
  try {
    // 200 short names, then 40 names of 2,000 characters (12 KiB each in the worst JSON case).
    const files = [
      ...wanted(200, dir.path),
      ...Array.from({ length: 40 }, (_, i) => ({
        remote: `/${"n".repeat(2000)}${i}`,
        local: `${dir.path}/long${i}`,
        relative: `long${i}`,
      })),
    ];
    let failures = 0;
    await downloadMany(client, files, { onError: () => failures++ });
    equal(failures, 240);
    ok(seen.every((n) => n <= MANY_BATCH), `batches of ${seen}`);
    equal(seen.reduce((a, b) => a + b, 0), 240);
    // Long names go a few to a request.
    ok(seen.slice(-1)[0]! < MANY_BATCH);
  } finally {
    await client.quit();
  }
});

Deno.test("client: a tree with a version 2 server that offers neither MGET nor MPUT goes a GET and a PUT a file, as before", async () => {
  const served: Record<string, string> = { "/t/a": "alpha", "/t/b": "beta" };
  const stored: Record<string, string> = {};
  const file = (name: string, size: number) => ({
    name,
    type: "file",
    size,
    mtime: 0,
    mode: 0o644,
  });
  await using fake = startScriptedBftpServer(async (req, send, read) => {
    const ok = (fields: Record<string, unknown>) =>
      send(frame({ ok: true, ...fields, id: req.id }));
    switch (req.op) {
      case "STAT":
        return await ok({ entry: { name: "t", type: "dir", size: 0, mtime: 0, mode: 0o755 } });
      case "LIST":
        return await ok({ entries: [file("a", 5), file("b", 4)] });
      case "GET": {
        const data = encoder.encode(served[req.path!]!);
        await ok({ size: data.byteLength, mtime: 0 });
        return await send(concat(
          hexBytes(data.byteLength, 16),
          data,
          encoder.encode(await hashIn("sha256", data)),
        ));
      }
      case "MKDIR":
        return await ok({});
      case "PUT": {
        const body = await readSizedBody(read);
        stored[req.path!] = new TextDecoder().decode(body!.content);
        return await ok({ size: body!.content.byteLength, sha256: body!.trailer });
      }
      default:
        await send(
          frame({ ok: false, code: "BAD_REQUEST", message: "Unknown request", id: req.id }),
        );
    }
  }, frame({ ok: true, version: 2, checksum: "sha256", server: "older 2" }));
  await using dir = await tempDir();
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: fake.port });
  try {
    ok(!client.supports("mget") && !client.supports("mput"));
    deepEqual(await downloadTree(client, "/t", `${dir.path}/down`), { files: 2, bytes: 9 });
    equal(await Deno.readTextFile(`${dir.path}/down/b`), "beta");
    deepEqual(await uploadTree(client, `${dir.path}/down`, "/up"), { files: 2, bytes: 9 });
    deepEqual(stored, { "/up/a": "alpha", "/up/b": "beta" });
    const ops = new Set(fake.requests.map((r) => r.split(" ")[0]));
    ok(ops.has("GET") && ops.has("PUT") && !ops.has("MGET") && !ops.has("MPUT"), [...ops].join());
  } finally {
    await client.quit();
  }
});

Deno.test("client: an MGET body whose checksum does not match lands nothing and breaks the session", async () => {
  await using fake = startScriptedBftpServer(async (req, send) => {
    if (req.op !== "MGET") return;
    const data = encoder.encode("first");
    await send(concat(
      frame({ ok: true, size: data.byteLength, mtime: 0, index: 0, id: req.id }),
      hexBytes(data.byteLength, 16),
      data,
      encoder.encode(await hashIn("sha256", "other")),
    ));
  }, HELLO);
  await using dir = await tempDir();
  const client = await failedDownload(
    fake.port,
    dir.path,
    (e) => e instanceof IntegrityError && /Checksum mismatch/.test(e.message),
  );
  try {
    equal(client.usable, false);
    deepEqual([...Deno.readDirSync(dir.path)], []);
  } finally {
    await client.quit().catch(() => {});
  }
});

for (const threaded of [false, true]) {
  Deno.test(`client: MGET lands 700 files of random sizes and bytes intact while their slabs are used again${threaded ? " (landing thread)" : ""}`, async () => {
    // About 22 MiB in 1 MiB slabs: each slab serves several batches, as its bodies land.
    const contents = Array.from({ length: 700 }, (_, i) => {
      const data = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 65536)));
      return { name: `f${String(i).padStart(4, "0")}`, data };
    });
    await using srv = await startTestServer({ files: { "t/": "" } });
    for (const { name, data } of contents) Deno.writeFileSync(`${srv.root}/t/${name}`, data);
    await using dir = await tempDir();
    const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
    try {
      const failed: string[] = [];
      using lander = threaded ? new Lander() : undefined;
      await downloadMany(client, wanted(700, dir.path), {
        lander,
        onError: (file, e) => failed.push(`${file.relative} ${e.code}`),
      });
      deepEqual(failed, []);
      for (const { name, data } of contents) {
        deepEqual(Deno.readFileSync(`${dir.path}/${name}`), data, name);
      }
    } finally {
      await client.quit();
    }
  });
}
