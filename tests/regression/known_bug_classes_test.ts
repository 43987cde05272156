// Regression tests, one per known bug class of comparable tools. Each test is
// named after the class and the public reports that define it, and plays the
// attack against bftp's real client (the bftp program) or server:
//
// - scp, CVE-2019-6111: the server chose the names (and so the places) of the
//   files the client wrote, beyond the one requested.
// - scp, CVE-2018-20685: an empty or "." name from the server changed the
//   permissions of the client's target folder.
// - croc, CVE-2023-43619 and CVE-2023-43616: a sender's "../" and absolute paths
//   placed new files (such as .ssh/authorized_keys) outside the receiver's
//   folder, or overwrote files there on extraction.
// - croc, CVE-2023-43620, and scp, CVE-2019-6109: names carrying ANSI/CSI escape
//   sequences reached the receiver's terminal.
// - symbolic links in file servers and sync tools (Samba "wide links",
//   CVE-2010-0926; rsync, CVE-2024-12087 and CVE-2024-12088): a link inside the
//   shared folder, or in the destination, led reads or writes outside it.

import { deepEqual, equal, ok } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import { frame, hexBytes, type Script, startScriptedBftpServer } from "../e2e/fake_bftp_server.ts";
import { assertFailure, readTree, runBftp, startServe, tempDir } from "../e2e/helpers.ts";
import { concat, MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { startTestServer } from "../server/helpers.ts";
import { sha256 } from "../helpers.ts";

const encoder = new TextEncoder();
const CONTENT = encoder.encode("the requested file\n");
/** Bytes a terminal would act on: C0 controls but the newline, DEL, C1 controls. */
const TERMINAL_CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/;

interface FakeEntry {
  name: string;
  type: string;
}

/**
 * A server whose folders and files are given by `tree` (path -> listing or
 * content); `statName` lets it lie about a file's name.
 */
function treeServer(
  tree: Record<string, FakeEntry[] | Uint8Array>,
  statName?: (path: string) => string,
): Script {
  const entry = (name: string, node: FakeEntry[] | Uint8Array | undefined, type?: string) => ({
    name,
    type: type ?? (node instanceof Uint8Array ? "file" : "dir"),
    size: node instanceof Uint8Array ? node.byteLength : 0,
    mtime: 0,
    mode: 0o644,
  });
  return async (req, send) => {
    const path = req.path ?? "";
    const node = tree[path];
    if (node === undefined && req.op !== "QUIT") {
      await send(frame({ ok: false, code: "NOT_FOUND", message: "not found" }));
    } else if (req.op === "STAT") {
      const name = statName?.(path) ?? path.split("/").pop()!;
      await send(frame({ ok: true, entry: entry(name, node) }));
    } else if (req.op === "LIST" && Array.isArray(node)) {
      const entries = node.map((e) => entry(e.name, tree[`${path}/${e.name}`], e.type));
      await send(frame({ ok: true, entries }));
    } else if (req.op === "GET" && node instanceof Uint8Array) {
      await send(
        concat(
          frame({ ok: true, size: node.byteLength, mtime: 0 }),
          hexBytes(node.byteLength, 16),
          node,
          encoder.encode(sha256(node)),
        ),
      );
    } else if (req.op !== "QUIT") {
      await send(frame({ ok: false, code: "DENIED", message: "no" }));
    }
  };
}

Deno.test("regression (scp CVE-2019-6111, server-chosen names): the server cannot name or place a downloaded file", async () => {
  await using local = await tempDir();
  await Deno.mkdir(local.join("work"));
  await Deno.mkdir(local.join("into"));
  for (const lie of ["../../.bashrc", ".bashrc", "/etc/cron.d/evil", "other.txt"]) {
    await using server = startScriptedBftpServer(
      treeServer({ "/report.txt": CONTENT }, () => lie),
    );
    // Into the current folder (DEST from the URL), into a folder, and to a named file.
    for (
      const args of [
        [`${server.url}/report.txt`],
        [`${server.url}/report.txt`, local.join("into")],
        [`${server.url}/report.txt`, local.join("named.txt")],
      ]
    ) {
      const result = await runBftp(["get", "-q", ...args], { cwd: local.join("work") });
      equal(result.code, 0, result.stderr);
    }
    // Only GET of what was asked: the server's answers name nothing the client acts on.
    ok(
      server.requests.every((r) => r === "QUIT" || r.endsWith(" /report.txt")),
      server.requests.join(", "),
    );
  }
  deepEqual([...(await readTree(local.path)).keys()], [
    "into",
    "into/report.txt",
    "named.txt",
    "work",
    "work/report.txt",
  ]);
});

Deno.test('regression (scp CVE-2018-20685, "" and "." names): the server cannot touch the target folder itself', async () => {
  await using local = await tempDir();
  const dest = local.join("dest");
  await Deno.mkdir(dest, { mode: 0o700 });
  await Deno.chmod(dest, 0o700);
  for (const name of ["", ".", ".."]) {
    await using server = startScriptedBftpServer(
      treeServer({ "/d": [{ name, type: "dir" }, { name: "f", type: "file" }], "/d/f": CONTENT }),
    );
    assertFailure(await runBftp(["get", "-r", "-q", `${server.url}/d`, dest]), 5, /Refused a name/);
    equal((await Deno.stat(dest)).mode! & 0o777, 0o700, JSON.stringify(name));
    deepEqual([...(await readTree(local.path)).keys()], ["dest"], JSON.stringify(name));
  }
});

Deno.test("regression (croc CVE-2023-43619 and CVE-2023-43616, sender-chosen paths): ../ and absolute names place nothing outside DEST", async () => {
  await using local = await tempDir();
  const dest = local.join("dest");
  const attacks = [
    "../../.ssh/authorized_keys",
    "/root/.ssh/authorized_keys",
    "..\\..\\.ssh\\authorized_keys",
    ".ssh/authorized_keys",
    "C:\\Users\\x\\.ssh\\authorized_keys",
  ];
  for (const name of attacks) {
    // The hostile name deep in the tree, after fair folders and files.
    await using server = startScriptedBftpServer(
      treeServer({
        "/d": [{ name: "fair.txt", type: "file" }, { name: "sub", type: "dir" }],
        "/d/fair.txt": CONTENT,
        "/d/sub": [{ name, type: "file" }],
      }),
    );
    // A path-like name: the listing is refused (exit 5). One with backslashes is a name on the
    // server's side that no request can carry: that one file fails (exit 12), never created.
    const result = await runBftp(["get", "-r", "-q", `${server.url}/d`, dest]);
    if (name.includes("\\")) {
      equal(result.code, 12, result.stderr);
      ok(/^bftp: Cannot fetch "\/d\/sub\/[^"]+": a name with a backslash/.test(result.stderr));
      deepEqual(await Deno.readFile(`${dest}/fair.txt`), CONTENT);
    } else assertFailure(result, 5, /Refused a name/);
    // Whatever was fair arrived under DEST; nothing else, anywhere.
    for (const path of (await readTree(local.path)).keys()) {
      ok(path === "dest" || path.startsWith("dest/"), path);
      ok(!path.includes(".ssh") && !path.includes("authorized_keys"), path);
    }
    await Deno.remove(dest, { recursive: true }).catch(() => {});
  }
  // The other direction: bftp serve receiving an upload with such a path refuses it (exit 12).
  await using root = await tempDir();
  await Deno.mkdir(root.join("served"));
  await using serve = await startServe(root.join("served"));
  for (const path of ["../.ssh/authorized_keys", "../../etc/cron.d/x", "a/../../x"]) {
    assertFailure(await runBftp(["put", "-q", "-", `${serve.url}/${path}`], { stdin: "key" }), 12);
  }
  deepEqual([...(await readTree(root.path)).keys()], ["served"]);
});

Deno.test("regression (croc CVE-2023-43620 and scp CVE-2019-6109, escape codes in names): no server name reaches the terminal raw", async () => {
  const evil = ["\x1b]0;owned\x07", "\x1b[2J\x1b[Hclear", "\x9b31mred", "\x1b[1A\x1b[2Kup"];
  await using local = await tempDir();
  await using server = startScriptedBftpServer(
    treeServer(
      {
        "/d": evil.map((name) => ({ name, type: "file" })),
        ...Object.fromEntries(evil.map((name) => [`/d/${name}`, CONTENT])),
        "/f": CONTENT,
      },
      () => evil[0]!,
    ),
  );
  const runs = [
    await runBftp(["ls", `${server.url}/d`]),
    await runBftp(["ls", "-l", `${server.url}/d`]),
    await runBftp(["ls", "--json", `${server.url}/d`]),
    await runBftp(["stat", `${server.url}/f`]),
    await runBftp(["stat", "--json", `${server.url}/f`]),
    await runBftp(["get", "-r", `${server.url}/d`, local.join("dest")]),
  ];
  for (const r of runs) {
    ok(!TERMINAL_CONTROL.test(r.stdout), JSON.stringify(r.stdout));
    ok(!TERMINAL_CONTROL.test(r.stderr), JSON.stringify(r.stderr));
  }
  // Each such name is a failure of the download (a request cannot carry it): none is created.
  equal(runs[5]!.code, 12, "a download fetches no such name");
  equal(runs[5]!.stderr.match(/^bftp: Cannot fetch "\/d\/\\x(1b|9b)/gm)?.length, evil.length);
  deepEqual([...(await readTree(local.path)).keys()], ["dest"]);
  // The server side: a client's escape codes are shown escaped in the server's log.
  await using srv = await startTestServer();
  using client = await srv.connect();
  for (const name of evil) {
    await client.stat(name).catch((e) => ok(e instanceof RemoteError, String(e)));
  }
  await client.quit();
  ok(srv.log.length >= evil.length);
  for (const line of srv.log) ok(!TERMINAL_CONTROL.test(line), JSON.stringify(line));
});

/** Bidirectional marks and overrides, and the characters that show nothing. */
const BIDI_OR_INVISIBLE = /[\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

Deno.test("regression (Trojan Source, CVE-2021-42574: bidirectional and invisible characters): no server name or message reaches the terminal raw", async () => {
  const names = ["ok\u202etxt.exe", "wide\u200bzero", "bom\ufeffname", "iso\u2066late"];
  const tree = treeServer({
    "/d": names.map((name) => ({ name, type: "file" })),
    ...Object.fromEntries(names.map((name) => [`/d/${name}`, CONTENT])),
  });
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.path !== "/gone") return await tree(req, send);
    await send(frame({ ok: false, code: "NOT_FOUND", message: "gone: \u202eexe.txt\u200b!" }));
  });
  await using local = await tempDir();
  const runs = [
    await runBftp(["ls", `${server.url}/d`]),
    await runBftp(["ls", "-l", `${server.url}/d`]),
    await runBftp(["ls", "--json", `${server.url}/d`]),
    await runBftp(["get", "-r", "-v", `${server.url}/d`, local.join("dest")]),
    await runBftp(["stat", `${server.url}/gone`]),
  ];
  for (const r of runs) {
    ok(!BIDI_OR_INVISIBLE.test(r.stdout), JSON.stringify(r.stdout));
    ok(!BIDI_OR_INVISIBLE.test(r.stderr), JSON.stringify(r.stderr));
  }
  // Shown escaped, each name told apart from its look-alike without the character.
  ok(runs[0]!.stdout.includes("ok\\u{202e}txt.exe"), runs[0]!.stdout);
  ok(runs[0]!.stdout.includes("wide\\u{200b}zero"), runs[0]!.stdout);
  deepEqual(
    names.map((n) => JSON.parse(runs[2]!.stdout).some((e: { name: string }) => e.name === n)),
    [true, true, true, true],
  );
  // Such names are files like any other: they land under their own names.
  equal(runs[3]!.code, 0, runs[3]!.stderr);
  deepEqual([...(await readTree(local.join("dest"))).keys()].sort(), [...names].sort());
  // The server's error message, each such character made a space as it arrives.
  assertFailure(runs[4]!, 10, /gone: {2}exe\.txt !/);
});

Deno.test("regression (symlink escapes: Samba CVE-2010-0926, rsync CVE-2024-12087 and CVE-2024-12088): links never lead outside the served folder or DEST", async () => {
  const secret = `SECRET-${crypto.randomUUID()}`;
  // The server: links from the served folder to outside, used by every kind of request.
  await using srv = await startTestServer({ files: { "inside.txt": "inside" } });
  await Deno.writeTextFile(`${srv.base}/secret.txt`, secret);
  await Deno.mkdir(`${srv.base}/outside`);
  await Deno.symlink(`${srv.base}/secret.txt`, `${srv.root}/link-file`);
  await Deno.symlink(`${srv.base}/outside`, `${srv.root}/link-dir`);
  await Deno.symlink("../outside", `${srv.root}/rel-dir`);
  using client = await srv.connect();
  const refused = async (what: string, action: () => Promise<unknown>) => {
    try {
      const got = await action();
      throw new Error(`${what} succeeded: ${JSON.stringify(got)}`);
    } catch (e) {
      ok(e instanceof RemoteError && e.code === "BAD_PATH", `${what}: ${String(e)}`);
      ok(!e.message.includes(secret) && !e.message.includes(srv.base), e.message);
    }
  };
  await refused("GET through a file link", () => client.get("link-file", new MemoryWriter()));
  await refused("HASH through a file link", () => client.hash("link-file"));
  await refused("LIST through a folder link", () => client.list("link-dir"));
  await refused("CD through a relative link", () => client.cd("rel-dir"));
  await refused(
    "PUT through a folder link",
    () => client.put("link-dir/planted.txt", new MemoryReader(encoder.encode("x")), { size: 1 }),
  );
  await refused("MKDIR -p through a folder link", () => client.mkdir("link-dir/a/b", true));
  await refused("RENAME into a folder link", () => client.rename("inside.txt", "rel-dir/stolen"));
  // ".." after a link is taken by name ("link-dir/.." is the root), not by following the link.
  await client.get("link-dir/../secret.txt", new MemoryWriter()).then(
    () => {
      throw new Error("read the secret");
    },
    (e) => ok(e instanceof RemoteError && e.code === "NOT_FOUND", String(e)),
  );
  // DELETE removes the link itself; what it points to stays.
  await client.delete("link-file");
  equal(await Deno.readTextFile(`${srv.base}/secret.txt`), secret);
  deepEqual([...Deno.readDirSync(`${srv.base}/outside`)], []);

  // The client: a link already at DEST is replaced, never written through; a link in DEST under
  // a remote folder's name is refused; a link on the server is never created locally.
  await using local = await tempDir();
  await Deno.writeTextFile(local.join("victim.txt"), "victim");
  await Deno.mkdir(local.join("dest"));
  await Deno.symlink(local.join("victim.txt"), local.join("dest", "f"));
  await Deno.mkdir(local.join("elsewhere"));
  await Deno.mkdir(local.join("dest", "d"));
  await Deno.symlink(local.join("elsewhere"), local.join("dest", "d", "sub"));
  await using server = startScriptedBftpServer(
    treeServer({
      "/f": CONTENT,
      "/d": [{ name: "sub", type: "dir" }, { name: "a-link", type: "link" }],
      "/d/sub": [{ name: "planted.txt", type: "file" }],
      "/d/sub/planted.txt": CONTENT,
    }),
  );
  const get = await runBftp(["get", "-q", `${server.url}/f`, local.join("dest", "f")]);
  equal(get.code, 0, get.stderr);
  equal(await Deno.readTextFile(local.join("victim.txt")), "victim");
  ok((await Deno.lstat(local.join("dest", "f"))).isFile);
  const tree = await runBftp(["get", "-r", "-q", `${server.url}/d`, local.join("dest")]);
  // The listing pass tells what it leaves out (the link on the server), then the refused local
  // link, that folder's own failure, and the count.
  equal(tree.code, 3, tree.stderr);
  deepEqual(tree.stderr.trimEnd().split("\n"), [
    'bftp: Skipping "/d/a-link": a symbolic link',
    `bftp: Cannot write into "${local.join("dest", "d", "sub")}": it is a symbolic link`,
    "bftp: Not everything was downloaded: 1 failure (see above)",
  ]);
  deepEqual([...Deno.readDirSync(local.join("elsewhere"))], []);
  ok(!(await readTree(local.path)).has("dest/d/a-link"));
});
