// Progress for folder trees on a real terminal (tmux): get -r and put -r show
// one line for the whole tree (files and bytes of the listing pass's totals,
// the current file's path below the tree, escaped), never a line per file,
// and leave one summary line (files, bytes, time, rate) at the end.

import { deepEqual, equal, ok } from "node:assert/strict";
import { frame, hexBytes, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { startServe, tempDir, writeRandomFile } from "./helpers.ts";
import { sha256 } from "../helpers.ts";
import { runInTerminal, startTerminal } from "./terminal.ts";

/** Fills `dir` with 3 folders of 10 files of 64 KiB each, and one empty file. */
async function makeTree(dir: string): Promise<void> {
  for (let d = 0; d < 3; d++) {
    await Deno.mkdir(`${dir}/folder-${d}`, { recursive: true });
    for (let f = 0; f < 10; f++) {
      await writeRandomFile(`${dir}/folder-${d}/file-${f}.bin`, 64 << 10);
    }
  }
  await Deno.writeTextFile(`${dir}/empty.txt`, "");
}

const SUMMARY = /^(Downloaded|Uploaded) 31 files, 1\.9 MiB in \d+\.\d s \([\d.]+ [KMG]?i?B\/s\)$/;

Deno.test("e2e terminal: get -r and put -r leave one summary line and no line per file", async () => {
  await using dir = await tempDir();
  await makeTree(dir.join("root", "tree"));
  await makeTree(dir.join("up"));
  await using server = await startServe(dir.join("root"));
  await Deno.mkdir(dir.join("out"));
  const get = await runInTerminal(["get", "-r", `${server.url}/tree`, "copy"], {
    cwd: dir.join("out"),
  });
  deepEqual(get.code, 0, get.lines.join("\n"));
  const got = get.lines.filter((l) => l !== "");
  deepEqual(got.length, 1, got.join("\n"));
  ok(SUMMARY.test(got[0]!) && got[0]!.startsWith("Downloaded"), got[0]);
  deepEqual(
    (await Deno.stat(dir.join("out", "copy", "folder-2", "file-9.bin"))).size,
    64 << 10,
  );

  const put = await runInTerminal(["put", "-r", dir.join("up"), `${server.url}/up`]);
  deepEqual(put.code, 0, put.lines.join("\n"));
  const sent = put.lines.filter((l) => l !== "");
  deepEqual(sent.length, 1, sent.join("\n"));
  ok(SUMMARY.test(sent[0]!) && sent[0]!.startsWith("Uploaded"), sent[0]);

  // -q: nothing at all.
  const quiet = await runInTerminal(["get", "-q", "-r", `${server.url}/tree`, "again"], {
    cwd: dir.join("out"),
  });
  deepEqual([quiet.code, quiet.lines.filter((l) => l !== "")], [0, []]);
});

/** A LIST or STAT entry, as a scripted server sends it. */
function entry(name: string, type: string, size: number) {
  return { name, type, size, mtime: 0, mode: 0o644 };
}

/** A name with a right-to-left override, which must reach the terminal escaped. */
const NAME = "evil\u202etxt.exe-with-a-long-name.bin";

Deno.test("e2e terminal: get -r shows files and bytes of the whole tree and the current path, escaped", async () => {
  // /t holds an empty a.txt and sub/, which holds NAME, whose body stalls after 10 bytes (the one
  // request in flight then: with two, either could be the first to fail).
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "STAT") {
      await send(frame({ ok: true, entry: entry("t", "dir", 0) }));
    } else if (req.op === "LIST" && req.path === "/t") {
      await send(frame({ ok: true, entries: [entry("a.txt", "file", 0), entry("sub", "dir", 0)] }));
    } else if (req.op === "LIST") {
      await send(frame({ ok: true, entries: [entry(NAME, "file", 1000)] }));
    } else if (req.op === "GET" && req.path === "/t/a.txt") {
      await send(frame({ ok: true, size: 0, mtime: 0 }));
      await send(hexBytes(0, 16));
      await send(new TextEncoder().encode(sha256(new Uint8Array())));
    } else if (req.op === "GET") {
      await send(frame({ ok: true, size: 1000, mtime: 0 }));
      await send(hexBytes(1000, 16));
      await send(new Uint8Array(10));
      return "stall";
    }
    return undefined;
  });
  await using dir = await tempDir();
  await using terminal = await startTerminal(
    ["get", "--timeout", "4", "-r", `${server.url}/t`, "dest"],
    { width: 100, cwd: dir.path },
  );
  const screen = await terminal.waitForScreen(/stalled/);
  const lines = screen.split("\n").filter((l) => l !== "");
  equal(lines.length, 1, screen);
  ok(lines[0]!.startsWith("sub/evil\\u{202e}txt.exe"), lines[0]);
  ok(lines[0]!.includes("1/2 files  10 B / 1000 B (1%)"), lines[0]);
  ok(!screen.includes("\u202e"), screen);
  // The stall times out: the error starts a line of its own, below the tree's line; no summary.
  const code = await terminal.exitCode();
  const end = (await terminal.screen()).split("\n").filter((l) => l !== "");
  equal(code, 7, end.join("\n"));
  equal(end.length, 2, end.join("\n"));
  ok(end[0]!.includes("1/2 files"), end[0]);
  ok(end[1]!.startsWith("bftp: The server sent nothing"), end[1]);
});

Deno.test("e2e terminal: get -r shows its listing pass, and an error there starts a line of its own", async () => {
  // /t lists a file and sub/; the LIST of sub/ is never answered.
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "STAT") {
      await send(frame({ ok: true, entry: entry("t", "dir", 0) }));
    } else if (req.op === "LIST" && req.path === "/t") {
      await send(
        frame({ ok: true, entries: [entry("a.bin", "file", 2048), entry("sub", "dir", 0)] }),
      );
    } else if (req.op === "LIST") {
      return "stall";
    }
    return undefined;
  });
  await using dir = await tempDir();
  const r = await runInTerminal(["get", "--timeout", "3", "-r", `${server.url}/t`, "dest"], {
    cwd: dir.path,
  });
  equal(r.code, 7, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  deepEqual(shown[0], "Listing: 1 folder, 1 file, 2.0 KiB");
  ok(shown[1]!.startsWith("bftp: The server sent nothing"), shown[1]);
  // Nothing was created: the listing comes first.
  deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("e2e terminal: put -r tells what it leaves out on lines of their own, then sums up", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  await Deno.mkdir(dir.join("src", "a"), { recursive: true });
  await writeRandomFile(dir.join("src", "a", "f.bin"), 4096);
  const fifo = await new Deno.Command("mkfifo", { args: [dir.join("src", "fifo")] }).output();
  ok(fifo.success);
  await using server = await startServe(dir.join("root"));
  const r = await runInTerminal(["put", "-r", "src", `${server.url}/up`], {
    columns: 120,
    cwd: dir.path,
  });
  equal(r.code, 0, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  deepEqual(shown.length, 2, shown.join("\n"));
  deepEqual(shown[0], 'bftp: Skipping "src/fifo": not a regular file');
  ok(/^Uploaded 1 file, 4\.0 KiB in \d+\.\d s \(/.test(shown[1]!), shown[1]);
});
