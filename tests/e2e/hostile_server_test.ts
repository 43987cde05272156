// End-to-end: `bftp get`, `get -r`, `ls` and `stat` against a hostile server
// (tests/client/hostile_scenarios.ts). Each refusal must exit with the
// documented code, print one clean line on stderr (no escape codes from the
// server), and leave nothing under DEST; an existing DEST keeps its bytes.

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  CONTENT,
  GET_SCENARIOS,
  HOSTILE_NAMES,
  listScript,
  scriptFor,
  UNFETCHABLE_NAMES,
} from "../client/hostile_scenarios.ts";
import { frame, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { assertFailure, listNames, runBftp, tempDir } from "./helpers.ts";

/** Bytes a terminal would act on: C0 controls but the final newline, DEL, C1 controls. */
const TERMINAL_CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/;

Deno.test(`e2e: bftp get refuses ${GET_SCENARIOS.length} hostile answers with the documented exit codes and leaves nothing under DEST`, async () => {
  await using local = await tempDir();
  const codes: string[] = [];
  for (const scenario of GET_SCENARIOS) {
    await using server = startScriptedBftpServer(scriptFor(scenario), scenario.hello);
    const dest = local.join("file.bin");
    const fresh = await runBftp(["get", "-q", `${server.url}/file.bin`, dest]);
    assertFailure(fresh, scenario.exitCode);
    ok(!TERMINAL_CONTROL.test(fresh.stderr), `${scenario.name}: ${JSON.stringify(fresh.stderr)}`);
    deepEqual(await listNames(local.path), [], scenario.name);
    // Over an existing file: the old bytes stay.
    await Deno.writeTextFile(dest, "old");
    assertFailure(await runBftp(["get", "-q", `${server.url}/file.bin`, dest]), scenario.exitCode);
    equal(await Deno.readTextFile(dest), "old", scenario.name);
    deepEqual(await listNames(local.path), ["file.bin"], scenario.name);
    await Deno.remove(dest);
    codes.push(`${scenario.exitCode}`);
  }
  equal(codes.length, GET_SCENARIOS.length);
});

Deno.test("e2e: bftp get -r exits 5 on a path-like name in a listing and creates nothing", async () => {
  await using local = await tempDir();
  for (const name of HOSTILE_NAMES) {
    await using server = startScriptedBftpServer(listScript([name]));
    const result = await runBftp(["get", "-r", "-q", `${server.url}/d`, local.join("dest")]);
    assertFailure(result, 5, /Refused a name from the server/);
    ok(!TERMINAL_CONTROL.test(result.stderr), JSON.stringify(result.stderr));
    deepEqual(await listNames(local.path), [], JSON.stringify(name));
  }
  // The same listing without the hostile name downloads: the refusal was for the name.
  await using fair = startScriptedBftpServer(listScript([]));
  const result = await runBftp(["get", "-r", "-q", `${fair.url}/d`, local.join("dest")]);
  equal(result.code, 0, result.stderr);
  deepEqual(await Deno.readFile(local.join("dest", "a-fair-file")), CONTENT);
});

Deno.test("e2e: bftp get -r fetches the rest of a tree whose listing has a name no request can carry: that file fails, exit 12", async () => {
  await using local = await tempDir();
  for (const [i, name] of UNFETCHABLE_NAMES.entries()) {
    await using server = startScriptedBftpServer(listScript([name]));
    const dest = local.join(`dest${i}`);
    const result = await runBftp(["get", "-r", "-q", `${server.url}/d`, dest]);
    equal(result.code, 12, result.stderr);
    ok(
      /^bftp: Cannot fetch "\/d\/[^\n]+": [^\n]+\nbftp: Not everything was downloaded: 1 failure \(see above\)\n$/
        .test(result.stderr),
      JSON.stringify(result.stderr),
    );
    ok(!TERMINAL_CONTROL.test(result.stderr), JSON.stringify(result.stderr));
    deepEqual(await listNames(dest), ["a-fair-file"], JSON.stringify(name));
    ok(!server.requests.some((r) => r.includes(name)), server.requests.join(", "));
  }
});

Deno.test("e2e: bftp ls and stat show escape-code names escaped, never raw", async () => {
  const names = ["\x1b]0;evil\x07", "\x1b[2Jclear", "a\u009bb", "\u202eevil.exe", "tab\there"];
  await using server = startScriptedBftpServer(async (req, send) => {
    const entries = names.map((name) => ({ name, type: "file", size: 1, mtime: 0, mode: 0o644 }));
    if (req.op === "LIST") await send(frame({ ok: true, entries }));
    if (req.op === "STAT") await send(frame({ ok: true, entry: entries[0] }));
  });
  const plain = await runBftp(["ls", `${server.url}/`]);
  equal(plain.code, 0, plain.stderr);
  ok(!TERMINAL_CONTROL.test(plain.stdout), JSON.stringify(plain.stdout));
  ok(!plain.stdout.includes("\u202e"), JSON.stringify(plain.stdout));
  deepEqual(plain.stdout.trimEnd().split("\n"), [
    "\\x1b]0;evil\\x07",
    "\\x1b[2Jclear",
    "a\\x9bb",
    "\\u{202e}evil.exe",
    "tab\\x09here",
  ]);
  const long = await runBftp(["ls", "-l", `${server.url}/`]);
  equal(long.code, 0, long.stderr);
  ok(!TERMINAL_CONTROL.test(long.stdout), JSON.stringify(long.stdout));
  // JSON keeps the exact names, with every control character escaped.
  const json = await runBftp(["ls", "--json", `${server.url}/`]);
  equal(json.code, 0, json.stderr);
  ok(!TERMINAL_CONTROL.test(json.stdout) && !json.stdout.includes("\u202e"), json.stdout);
  deepEqual(JSON.parse(json.stdout).map((e: { name: string }) => e.name), names);
  const stat = await runBftp(["stat", `${server.url}/x`]);
  equal(stat.code, 0, stat.stderr);
  ok(!TERMINAL_CONTROL.test(stat.stdout), JSON.stringify(stat.stdout));
});

Deno.test("e2e: bftp ls exits 5 on an entry whose time or type would break the output", async () => {
  for (
    const entry of [
      { name: "a", type: "file", size: 1, mtime: 1e300, mode: 0 },
      { name: "a", type: "\x1b[2J", size: 1, mtime: 0, mode: 0 },
      { name: "a", type: "file", size: 1, mtime: "now", mode: 0 },
    ]
  ) {
    await using server = startScriptedBftpServer(async (req, send) => {
      if (req.op === "LIST") await send(frame({ ok: true, entries: [entry] }));
    });
    assertFailure(await runBftp(["ls", "-l", `${server.url}/`]), 5, /Malformed reply/);
  }
});

Deno.test("e2e: a wildcard get exits 5 on a path-like name from the server and creates nothing", async () => {
  await using local = await tempDir();
  for (const name of ["sub/../../x", "/etc/x", "a/b", "a\0b"]) {
    const list = listScript([name]);
    await using server = startScriptedBftpServer(async (req, send) => {
      if (req.op === "STAT" && String(req.path).includes("*")) {
        await send(frame({ ok: false, code: "NOT_FOUND", message: "No such file" }));
      } else await list(req, send);
    });
    const result = await runBftp(["get", "-q", `${server.url}/*`, local.path]);
    assertFailure(result, 5, /Refused a name from the server/);
    deepEqual(await listNames(local.path), [], JSON.stringify(name));
  }
});

Deno.test("e2e: get -r stops an endlessly nested folder at 1024 levels, short line, nothing left", async () => {
  await using local = await tempDir();
  await using server = startScriptedBftpServer(async (req, send) => {
    const d = { name: "d", type: "dir", size: 0, mtime: 0, mode: 0o755 };
    if (req.op === "STAT") await send(frame({ ok: true, entry: d }));
    else if (req.op === "LIST") await send(frame({ ok: true, entries: [d] }));
  });
  const result = await runBftp(["get", "-r", "-q", `${server.url}/d`, local.join("dest")]);
  assertFailure(result, 5, /deeper than 1024 levels/);
  ok(result.stderr.length < 200, result.stderr);
  deepEqual(await listNames(local.path), []);
});

Deno.test("e2e: rm -r stops an endlessly nested folder at 1024 levels and refuses path-like names", async () => {
  {
    let lists = 0;
    await using server = startScriptedBftpServer(async (req, send) => {
      const d = { name: "d", type: "dir", size: 0, mtime: 0, mode: 0o755 };
      if (req.op === "STAT") await send(frame({ ok: true, entry: d }));
      else if (req.op === "LIST") lists++, await send(frame({ ok: true, entries: [d] }));
    });
    const result = await runBftp(["rm", "-r", `${server.url}/d`]);
    assertFailure(result, 5, /deeper than 1024 levels/);
    ok(result.stderr.length < 200, result.stderr);
    equal(lists, 1025);
  }
  for (const name of ["..", "../x", "a/b"]) {
    const removed: string[] = [];
    await using server = startScriptedBftpServer(async (req, send) => {
      const entry = { name, type: "file", size: 0, mtime: 0, mode: 0o644 };
      if (req.op === "STAT") {
        await send(frame({ ok: true, entry: { ...entry, name: "d", type: "dir" } }));
      } else if (req.op === "LIST") await send(frame({ ok: true, entries: [entry] }));
      else if (req.op === "DELETE" || req.op === "RMDIR") {
        removed.push(String(req.path));
        await send(frame({ ok: true }));
      }
    });
    assertFailure(await runBftp(["rm", "-r", `${server.url}/d`]), 5, /Refused a name/);
    deepEqual(removed, [], name);
  }
});
