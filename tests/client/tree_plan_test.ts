// The listing pass of a tree transfer (lib/client/tree_plan.ts, remote_plan.ts and
// local_plan.ts): what a plan
// holds (files with sizes, folders parents first, totals, what is left out),
// and that a hostile listing anywhere in the tree, or one too deep, is
// refused before anything is created or fetched.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { planUpload } from "../../lib/client/local_plan.ts";
import { planDownload } from "../../lib/client/remote_plan.ts";
import { downloadTree, uploadPlan } from "../../lib/client/tree_transfer.ts";
import { MAX_TREE_DEPTH } from "../../lib/client/tree_depth.ts";
import { ProtocolError } from "../../lib/errors.ts";
import { frame, type Script, startScriptedBftpServer } from "../e2e/fake_bftp_server.ts";
import { hostTree, startTestServer, writeLayout } from "../server/helpers.ts";
import { tempDir } from "../helpers.ts";

const LAYOUT = {
  "t/a.txt": "alpha",
  "t/b/c.bin": new Uint8Array(1000),
  "t/b/d/e.txt": "",
  "t/empty/": "",
  "t/z.txt": "zz",
};

Deno.test("tree plan: a download plan lists every file with its size, folders parents first, and totals", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  const fifo = await new Deno.Command("mkfifo", { args: [`${srv.root}/t/fifo`] }).output();
  ok(fifo.success);
  using client = await srv.connect();
  const listed: number[][] = [];
  const plan = await planDownload(client, "/t", "out", {
    window: 2,
    onListed: (c) => listed.push([c.folders, c.files, c.bytes]),
  });
  // Level by level: /t, then /t/b and /t/empty, then /t/b/d.
  deepEqual(listed, [[1, 2, 7], [2, 3, 1007], [3, 3, 1007], [4, 4, 1007]]);
  // Each file's time and mode come with it (what sync compares).
  ok(plan.files.every((f) => typeof f.mtime === "number" && f.mode === 0o644));
  deepEqual(plan.files.map(({ mtime: _t, mode: _m, ...f }) => f), [
    { remote: "/t/a.txt", local: "out/a.txt", relative: "a.txt", size: 5 },
    { remote: "/t/b/c.bin", local: "out/b/c.bin", relative: "b/c.bin", size: 1000 },
    { remote: "/t/b/d/e.txt", local: "out/b/d/e.txt", relative: "b/d/e.txt", size: 0 },
    { remote: "/t/z.txt", local: "out/z.txt", relative: "z.txt", size: 2 },
  ]);
  deepEqual(plan.folders.map((f) => [f.remote, f.local, f.relative]), [
    ["/t", "out", ""],
    ["/t/b", "out/b", "b"],
    ["/t/b/d", "out/b/d", "b/d"],
    ["/t/empty", "out/empty", "empty"],
  ]);
  equal(plan.totalBytes, 1007);
  deepEqual(plan.skipped, [
    { path: "/t/fifo", why: "not a regular file or folder", relative: "fifo" },
  ]);
});

Deno.test("tree plan: an upload plan follows links to files, leaves out the rest, and uploads as planned", async () => {
  await using srv = await startTestServer();
  await using tmp = await tempDir();
  const src = `${tmp.path}/src`;
  await writeLayout(
    tmp.path,
    Object.fromEntries(
      Object.entries(LAYOUT).map(([k, v]) => [k.replace(/^t\//, "src/"), v]),
    ),
  );
  await Deno.symlink(`${src}/a.txt`, `${src}/to-file`);
  await Deno.symlink(`${src}/b`, `${src}/to-folder`);
  await Deno.symlink(`${src}/nothing`, `${src}/to-nothing`);
  const fifo = await new Deno.Command("mkfifo", { args: [`${src}/fifo`] }).output();
  ok(fifo.success);
  await Deno.symlink(`${src}/fifo`, `${src}/to-fifo`);
  const plan = await planUpload(src, "/up");
  deepEqual(plan.files.map((f) => [f.relative, f.remote, f.size]), [
    ["a.txt", "/up/a.txt", 5],
    ["b/c.bin", "/up/b/c.bin", 1000],
    ["b/d/e.txt", "/up/b/d/e.txt", 0],
    ["to-file", "/up/to-file", 5],
    ["z.txt", "/up/z.txt", 2],
  ]);
  deepEqual(plan.folders.map((f) => f.remote), ["/up", "/up/b", "/up/b/d", "/up/empty"]);
  equal(plan.totalBytes, 1012);
  deepEqual(plan.skipped, [
    { path: `${src}/fifo`, why: "not a regular file", relative: "fifo" },
    {
      path: `${src}/to-fifo`,
      why: "a symbolic link to something not a regular file",
      relative: "to-fifo",
    },
    { path: `${src}/to-folder`, why: "a symbolic link to a folder", relative: "to-folder" },
    { path: `${src}/to-nothing`, why: "a symbolic link to nothing", relative: "to-nothing" },
  ]);
  // Carried out, the plan makes exactly its folders and files, and tells its skips first.
  using client = await srv.connect();
  const told: string[] = [];
  const totals = await uploadPlan(client, plan, {
    onSkip: (path) => told.push(`skip ${path.slice(src.length + 1)}`),
    onPlan: (p) => told.push(`plan ${p.files.length}`),
    onFile: (remote) => told.push(remote),
  });
  deepEqual(totals, { files: 5, bytes: 1012 });
  deepEqual(told.slice(0, 5), [
    "skip fifo",
    "skip to-fifo",
    "skip to-folder",
    "skip to-nothing",
    "plan 5",
  ]);
  deepEqual(await hostTree(`${srv.root}/up`), [
    "a.txt",
    "b/",
    "b/c.bin",
    "b/d/",
    "b/d/e.txt",
    "empty/",
    "to-file",
    "z.txt",
  ]);
});

/** A server whose /t holds folders a/ and b/; b/ lists `hostile` beside a fair file. */
function nestedScript(hostile: string): Script {
  const entry = (name: string, type: string) => ({ name, type, size: 1, mtime: 0, mode: 0o644 });
  return async (req, send) => {
    if (req.op === "LIST" && req.path === "/t") {
      await send(frame({ ok: true, entries: [entry("a", "dir"), entry("b", "dir")] }));
    } else if (req.op === "LIST" && req.path === "/t/a") {
      await send(frame({ ok: true, entries: [entry("fair.txt", "file")] }));
    } else if (req.op === "LIST") {
      await send(frame({ ok: true, entries: [entry("fair.txt", "file"), entry(hostile, "file")] }));
    } else if (req.op !== "QUIT") {
      await send(frame({ ok: false, code: "DENIED", message: "no" }));
    }
  };
}

Deno.test("tree plan: a hostile name deep in the tree is refused before anything is created or fetched", async () => {
  await using tmp = await tempDir();
  for (
    const name of [
      "../evil",
      "..",
      "a/b",
      "a\0b",
      // Longer than a name may be (256 bytes), found by an audit to fail only once DEST was made.
      "x".repeat(256),
      "\u00e9".repeat(128),
      // The fair name twice in one listing.
      "fair.txt",
    ]
  ) {
    await using server = startScriptedBftpServer(nestedScript(name));
    using client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.port });
    await rejects(planDownload(client, "/t", `${tmp.path}/dest`), ProtocolError, name);
    await rejects(downloadTree(client, "/t", `${tmp.path}/dest`), (e) => {
      ok(
        e instanceof ProtocolError && /Refused a (name from the server|listing)/.test(e.message),
        String(e),
      );
      ok(!/[\x00-\x1f]/.test(e.message), JSON.stringify(e.message));
      return true;
    });
    // Not DEST, not a/ (whose listing was fair), no GET of a fair file.
    deepEqual(await hostTree(tmp.path), [], JSON.stringify(name));
    ok(!server.requests.some((r) => r.startsWith("GET")), server.requests.join(", "));
  }
});

Deno.test("tree plan: a name deep in the tree that no request can carry is left out as a failure, not listed nor fetched", async () => {
  await using tmp = await tempDir();
  for (const name of ["C:evil", "x\x1b[2J", `.f.bftp-tmp-${crypto.randomUUID()}`]) {
    await using server = startScriptedBftpServer(nestedScript(name));
    using client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.port });
    const plan = await planDownload(client, "/t", `${tmp.path}/dest`);
    const failed = plan.skipped.filter((s) => s.error !== undefined);
    deepEqual(failed.map((s) => [s.relative, s.error!.code]), [[`b/${name}`, "BAD_PATH"]]);
    ok(!plan.files.some((f) => f.relative.endsWith(name)), JSON.stringify(name));
    ok(!server.requests.some((r) => r.includes(name)), server.requests.join(", "));
  }
});

Deno.test("tree plan: a folder the server will not list is that folder's failure, and the rest of the tree is planned", async () => {
  const entry = (name: string, type: string) => ({ name, type, size: 1, mtime: 0, mode: 0o755 });
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "LIST" && req.path === "/t") {
      await send(frame({ ok: true, entries: [entry("closed", "dir"), entry("open", "dir")] }));
    } else if (req.op === "LIST" && req.path === "/t/closed") {
      await send(frame({ ok: false, code: "DENIED", message: '"/t/closed": permission denied' }));
    } else if (req.op === "LIST") {
      await send(frame({ ok: true, entries: [entry("fair.txt", "file")] }));
    } else if (req.op !== "QUIT") {
      await send(frame({ ok: false, code: "DENIED", message: "no" }));
    }
  });
  using client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.port });
  const plan = await planDownload(client, "/t", "dest");
  deepEqual(plan.files.map((f) => f.relative), ["open/fair.txt"]);
  deepEqual(plan.folders.map((f) => f.relative), ["", "open"]);
  deepEqual(
    plan.skipped.map((s) => [s.relative, s.error?.code, s.error?.message]),
    [["closed", "DENIED", '"/t/closed": permission denied']],
  );
  // The top itself refused stops the plan, as before.
  await rejects(planDownload(client, "/t/closed", "dest"), /permission denied/);
});

Deno.test("tree plan: a local folder that cannot be read (a path too long) is that folder's failure, the rest planned", async () => {
  await using tmp = await tempDir();
  // 17 names of 250 bytes: the deepest folder's path passes 4,096 bytes, so it cannot be read.
  const made = await new Deno.Command("python3", {
    args: [
      "-c",
      "import os,sys; os.chdir(sys.argv[1]); open('ok','w').write('ok')\n" +
      "for i in range(17):\n  n='%02d'%i+'L'*248; os.mkdir(n); os.chdir(n)\nopen('leaf','w')",
      tmp.path,
    ],
  }).output();
  ok(made.success, new TextDecoder().decode(made.stderr));
  const plan = await planUpload(tmp.path, "/up");
  deepEqual(plan.files.map((f) => f.relative), ["ok"]);
  const failed = plan.skipped.filter((s) => s.error !== undefined);
  equal(failed.length, 1);
  equal(failed[0]!.error!.code, "LOCAL_IO");
  ok(/^Cannot read folder ".*": file name too long$/.test(failed[0]!.error!.message));
  // The folders above it are planned, it is not.
  equal(plan.folders.length, 17);
  ok(!plan.folders.some((f) => f.relative === failed[0]!.relative));
  // rm descends folder by folder: the whole path is too long for one call.
  const top = `${tmp.path}/00${"L".repeat(248)}`;
  ok((await new Deno.Command("rm", { args: ["-rf", "--", top] }).output()).success);
});

Deno.test("tree plan: a tree deeper than the limit is refused before anything is created", async () => {
  await using tmp = await tempDir();
  // Every folder holds one more folder, for ever.
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "LIST") {
      await send(frame({
        ok: true,
        entries: [{ name: "d", type: "dir", size: 0, mtime: 0, mode: 0o755 }],
      }));
    }
  });
  using client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.port });
  await rejects(
    downloadTree(client, "/t", `${tmp.path}/dest`),
    new RegExp(`deeper than ${MAX_TREE_DEPTH} levels`),
  );
  equal(server.requests.filter((r) => r.startsWith("LIST")).length, MAX_TREE_DEPTH + 1);
  deepEqual(await hostTree(tmp.path), []);
});

Deno.test("tree plan: a tree with more entries than the limit is refused before anything is created", async () => {
  await using tmp = await tempDir();
  // Every folder holds ten more folders, for ever: a plan that would never end.
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "LIST") {
      const entries = Array.from(
        { length: 10 },
        (_, i) => ({ name: `d${i}`, type: "dir", size: 0, mtime: 0, mode: 0o755 }),
      );
      await send(frame({ ok: true, entries }));
    }
  });
  using client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.port });
  await rejects(
    planDownload(client, "/t", `${tmp.path}/dest`, { maxEntries: 500 }),
    (e) => e instanceof ProtocolError && /more than 500 entries/.test(e.message),
  );
  // The top, its ten folders, and no more than the window's worth of the next level beyond 500.
  ok(
    server.requests.filter((r) => r.startsWith("LIST")).length <= 51 + 32,
    String(server.requests.length),
  );
  deepEqual(await hostTree(tmp.path), []);
});

Deno.test("tree plan: a local symbolic link where a remote folder goes is refused, and the folders made are removed", async () => {
  await using srv = await startTestServer({ files: LAYOUT });
  await using tmp = await tempDir();
  await Deno.mkdir(`${tmp.path}/dest`);
  await Deno.mkdir(`${tmp.path}/elsewhere`);
  await Deno.symlink(`${tmp.path}/elsewhere`, `${tmp.path}/dest/empty`);
  using client = await srv.connect();
  await rejects(downloadTree(client, "/t", `${tmp.path}/dest`), /it is a symbolic link/);
  // Nothing written through the link, no file fetched, b/ and b/d/ made and removed again.
  deepEqual(await hostTree(tmp.path), ["dest/", "dest/empty", "elsewhere/"]);
});

Deno.test("tree plan: a long local walk lets the event loop run (a sync lists the other side meanwhile)", async () => {
  await using tmp = await tempDir();
  const layout: Record<string, string> = {};
  for (let d = 0; d < 60; d++) for (let f = 0; f < 10; f++) layout[`t/d${d}/f${f}`] = "";
  await writeLayout(tmp.path, layout);
  // A timer due at once: it fires during the walk when the walk pauses, only after it otherwise.
  let firedAt = -1;
  let listed = 0;
  setTimeout(() => firedAt = listed, 0);
  // A walk of at least 120 ms whatever the machine: 600 files, each held 0.2 ms by the filter.
  const plan = await planUpload(tmp.join("t"), "/t", {
    onListed: (p) => listed = p.folders,
    filter: holdFor(0.2),
  });
  equal(plan.files.length, 600);
  ok(firedAt >= 0 && firedAt < 61, `the timer fired after ${firedAt} folders`);
});

Deno.test("tree plan: a local walk beside a listing lets the listing's replies in as it goes", async () => {
  await using tmp = await tempDir();
  // The listing's answer is sent before the walk starts: only the client's read of it is left,
  // which the loop does only when the walk pauses for it.
  let answered!: () => void;
  const sent = new Promise<void>((resolve) => answered = resolve);
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op !== "LIST") return;
    await send(frame({ ok: true, entries: [] }));
    answered();
  });
  // A walk of at least 100 ms whatever the machine: 500 files, each held 0.2 ms by the filter.
  const layout: Record<string, string> = {};
  for (let d = 0; d < 5; d++) for (let f = 0; f < 100; f++) layout[`src/d${d}/f${f}`] = "";
  await writeLayout(tmp.path, layout);
  using client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.port });
  const order: string[] = [];
  const listing = client.list("/t").then(() => void order.push("listing"));
  await sent;
  order.push("walk starts");
  const plan = await planUpload(tmp.join("src"), "/up", {
    besideListing: true,
    filter: holdFor(0.2),
  });
  order.push("walk ends");
  await listing;
  equal(plan.files.length, 500);
  deepEqual(order, ["walk starts", "listing", "walk ends"]);
});

/** A filter that keeps every entry and holds the walk `ms` on each: a walk of known length. */
function holdFor(ms: number): () => boolean {
  return () => {
    const until = performance.now() + ms;
    while (performance.now() < until) { /* a slow walk's work */ }
    return true;
  };
}
