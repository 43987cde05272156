/**
 * The client's MPUT (`many_uploads.ts`, `runPutMany`): many small files per
 * request, each stored atomically and verified; a file that cannot be read,
 * or that the server refuses, is its own failure; a server that confirms a
 * hash other than the one sent breaks the session.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { uploadMany } from "../../lib/client/many_uploads.ts";
import { MANY_FILE_MAX } from "../../lib/client/many_transfers.ts";
import { ProtocolError } from "../../lib/errors.ts";
import { frame, startScriptedBftpServer } from "../e2e/fake_bftp_server.ts";
import { tempDir } from "../helpers.ts";
import { startTestServer } from "../server/helpers.ts";

/** `n` local files `f0000`... in `dir`, each holding its own number, and their uploads to `/t`. */
async function localFiles(dir: string, n: number) {
  const files = [];
  for (let i = 0; i < n; i++) {
    const name = `f${String(i).padStart(4, "0")}`;
    await Deno.writeTextFile(`${dir}/${name}`, `file ${i}\n`);
    files.push({ local: `${dir}/${name}`, remote: `/t/${name}`, relative: name });
  }
  return files;
}

Deno.test("client: MPUT uploads 1,000 files in batches, one unreadable in the middle, the others stored with their times", async () => {
  await using srv = await startTestServer({ files: { "t/": "" } });
  await using dir = await tempDir();
  const files = await localFiles(dir.path, 1000);
  await Deno.utime(`${dir.path}/f0001`, 1_000_000, 1_000_000);
  // Gone after the listing: it fails alone.
  await Deno.remove(`${dir.path}/f0500`);
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
  try {
    ok(client.supports("mput"));
    const failed: string[] = [];
    let stored = 0;
    await uploadMany(client, files, {
      preserve: true,
      onDone: () => stored++,
      onError: (file, e) => failed.push(`${file.relative} ${e.code}`),
    });
    deepEqual(failed, ["f0500 LOCAL_IO"]);
    equal(stored, 999);
    equal([...Deno.readDirSync(`${srv.root}/t`)].length, 999);
    equal(await Deno.readTextFile(`${srv.root}/t/f0999`), "file 999\n");
    equal((await Deno.stat(`${srv.root}/t/f0001`)).mtime?.getTime(), 1_000_000_000);
    ok(client.usable);
  } finally {
    await client.quit();
  }
});

/** Uploads files holding `contents` by MPUT into /t, and checks that each arrived as it was. */
async function uploadsIntact(contents: Uint8Array[]): Promise<void> {
  await using srv = await startTestServer({ files: { "t/": "" } });
  await using dir = await tempDir();
  const files = contents.map((data, i) => {
    Deno.writeFileSync(`${dir.path}/f${i}`, data);
    return { local: `${dir.path}/f${i}`, remote: `/t/f${i}`, relative: `f${i}`, data };
  });
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
  try {
    const failed: string[] = [];
    await uploadMany(client, files, {
      onError: (file, e) => failed.push(`${file.relative} ${e.code}`),
    });
    deepEqual(failed, []);
    for (const f of files) {
      deepEqual(Deno.readFileSync(`${srv.root}${f.remote}`), f.data, f.relative);
    }
    ok(client.usable);
  } finally {
    await client.quit();
  }
}

Deno.test("client: MPUT sends files of every size up to the largest it takes, across its write blocks, intact", async () => {
  // Sizes that fill the 256 KiB blocks unevenly, an empty file, and files as large as a batch
  // takes, whose frame is larger than a block and goes out on its own.
  const sizes = [
    0,
    1,
    MANY_FILE_MAX,
    100_000,
    100_000,
    70_000,
    MANY_FILE_MAX - 1,
    5,
    MANY_FILE_MAX,
  ];
  await uploadsIntact(
    sizes.map((size, i) => new Uint8Array(size).map((_, j) => (i * 31 + j * 7) & 0xff)),
  );
});

Deno.test("client: MPUT tells a file the server refuses, and stores the others", async () => {
  await using srv = await startTestServer({ files: { "t/": "", "t/f0001/": "" } });
  await using dir = await tempDir();
  const files = await localFiles(dir.path, 3);
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
  try {
    const failed: string[] = [];
    await uploadMany(client, files, {
      onError: (file, e) => failed.push(`${file.relative} ${e.code}`),
    });
    deepEqual(failed, ["f0001 IS_DIR"]);
    equal(await Deno.readTextFile(`${srv.root}/t/f0000`), "file 0\n");
    equal(await Deno.readTextFile(`${srv.root}/t/f0002`), "file 2\n");
    equal(await client.pwd(), "/");
  } finally {
    await client.quit();
  }
});

Deno.test("client: an MPUT answer that confirms another hash breaks the session", async () => {
  await using fake = startScriptedBftpServer(
    async (req, send, read) => {
      if (req.op !== "MPUT") return;
      // Reads the one body (16 + 7 + 64 bytes), then confirms a hash of zeros.
      await read!.exactly(16 + 7 + 64);
      await send(frame({ ok: true, size: 7, sha256: "0".repeat(64), index: 0, id: req.id }));
    },
    frame({ ok: true, version: 2, checksum: "sha256", features: ["mput"], server: "hostile 0" }),
  );
  await using dir = await tempDir();
  const files = await localFiles(dir.path, 1);
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: fake.port });
  try {
    await rejects(
      uploadMany(client, files, { onError: () => {} }),
      (e) => e instanceof ProtocolError && /confirmed hash/.test(e.message),
    );
    equal(client.usable, false);
  } finally {
    await client.quit().catch(() => {});
  }
});

Deno.test("client: MPUT stores 700 files of random sizes and bytes intact while their slabs are used again", async () => {
  // About 22 MiB read into 1 MiB slabs, each used again once its batches are sent.
  await uploadsIntact(Array.from({ length: 700 }, () => {
    return crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 65536)));
  }));
});

Deno.test({
  name:
    "client: MPUT refuses a listed file replaced by a FIFO or a folder, sends one that grew whole",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using srv = await startTestServer({ files: { "t/": "" } });
    await using dir = await tempDir();
    const files = await localFiles(dir.path, 4);
    // After the listing: f0001 becomes a FIFO (with no writer: reading it must not wait),
    // f0002 a folder, and f0003 grows.
    await Deno.remove(files[1]!.local);
    const mkfifo = new Deno.Command("mkfifo", { args: [files[1]!.local] });
    equal((await mkfifo.output()).code, 0);
    await Deno.remove(files[2]!.local);
    await Deno.mkdir(files[2]!.local);
    await Deno.writeTextFile(files[3]!.local, "grown\n", { append: true });
    const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
    try {
      const failed: string[] = [];
      await uploadMany(client, files, {
        onError: (file, e) => failed.push(`${file.relative} ${e.code}`),
      });
      deepEqual(failed, ["f0001 LOCAL_IO", "f0002 LOCAL_IO"]);
      equal(await Deno.readTextFile(`${srv.root}/t/f0000`), "file 0\n");
      equal(await Deno.readTextFile(`${srv.root}/t/f0003`), "file 3\ngrown\n");
      deepEqual([...Deno.readDirSync(`${srv.root}/t`)].map((e) => e.name).sort(), [
        "f0000",
        "f0003",
      ]);
      ok(client.usable);
    } finally {
      await client.quit();
    }
  },
});

Deno.test("client: MPUT hands a file too large for a batch to sendAlone, unread: an unsized one over 64 KiB, one grown since listed", async () => {
  await using srv = await startTestServer({ files: { "t/": "" } });
  await using dir = await tempDir();
  const file = (name: string, size: number, listed: { size: number; unsized?: true }) => {
    Deno.writeFileSync(`${dir.path}/${name}`, new Uint8Array(size).fill(name.length));
    return { local: `${dir.path}/${name}`, remote: `/t/${name}`, relative: name, ...listed };
  };
  const files = [
    file("small", 4096, { size: 0, unsized: true }),
    file("unsized-big", 70_000, { size: 0, unsized: true }),
    file("grown", MANY_FILE_MAX + 1, { size: 10 }),
    file("listed", 5, { size: 5 }),
  ];
  const client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
  try {
    const alone: string[] = [];
    const stored: string[] = [];
    await uploadMany(client, files, {
      onDone: (f) => stored.push(f.relative),
      onError: (f, e) => stored.push(`${f.relative} ${e.code}`),
      sendAlone: (f) => alone.push(f.relative),
    });
    deepEqual(alone, ["unsized-big", "grown"]);
    deepEqual(stored, ["small", "listed"]);
    deepEqual([...Deno.readDirSync(`${srv.root}/t`)].map((e) => e.name).sort(), [
      "listed",
      "small",
    ]);
    // Without sendAlone, every file is read whole and sent here, whatever its size.
    await uploadMany(client, files, { onDone: (f) => stored.push(f.relative), onError: () => {} });
    equal(stored.length, 6);
    equal(Deno.statSync(`${srv.root}/t/grown`).size, MANY_FILE_MAX + 1);
  } finally {
    await client.quit();
  }
});
