import { deepEqual, ok } from "node:assert/strict";
import { stallMidBody, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { BFTP_BIN, startServe, tempDir, writeRandomFile } from "./helpers.ts";
import { requirePeers } from "../peers.ts";
import { runInTerminal } from "./terminal.ts";

const LONG = "a-rather-long-file-name-that-does-not-fit-in-fifty-columns-at-all.bin";

Deno.test("e2e terminal: at 50 columns a long-named download leaves exactly one progress line", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  await writeRandomFile(dir.join("root", LONG), 64 << 20);
  await using server = await startServe(dir.join("root"));
  await Deno.mkdir(dir.join("out"));
  const r = await runInTerminal(["get", `${server.url}/${LONG}`], {
    columns: 50,
    cwd: dir.join("out"),
  });
  deepEqual(r.code, 0, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  deepEqual(shown.length, 1, shown.join("\n"));
  ok(shown[0]!.includes("…") && shown[0]!.includes("64.0 MiB / 64.0 MiB (100%)"), shown[0]);
});

Deno.test("e2e terminal: get URL - shows progress on stderr, marks a stall, and the error starts a line of its own", async () => {
  await using server = startScriptedBftpServer(stallMidBody);
  await using dir = await tempDir();
  const r = await runInTerminal(
    ["get", "--timeout", "3", `${server.url}/${LONG}`, "-"],
    { columns: 50, stdoutFile: dir.join("out.bin") },
  );
  deepEqual(r.code, 7, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  // The error line may wrap at 50 columns; the progress line is the first line, alone.
  ok(shown.length >= 2, shown.join("\n"));
  ok(shown[0]!.includes("- stalled -"), shown[0]);
  ok(shown[1]!.startsWith("bftp: The server sent nothing"), shown[1]);
  deepEqual((await Deno.stat(dir.join("out.bin"))).size, 10);
});

Deno.test("e2e terminal: Ctrl-C ends the progress line before 'Interrupted'", async () => {
  await using server = startScriptedBftpServer(stallMidBody);
  await using dir = await tempDir();
  const r = await runInTerminal(
    ["get", "--timeout", "30", `${server.url}/${LONG}`, "-"],
    {
      columns: 50,
      stdoutFile: dir.join("out.bin"),
      type: { when: /0 B \/ 1000 B/, afterMs: 300, keys: "C-c" },
    },
  );
  deepEqual(r.code, 130, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  deepEqual(shown.length, 2, shown.join("\n"));
  ok(shown[0]!.includes("0 B / 1000 B"), shown[0]);
  deepEqual(shown[1], "bftp: Interrupted");
});

Deno.test("e2e terminal: put - of a size nothing knew ends its progress line before the shell goes on", async () => {
  // Found by an audit: the line was left open, and the shell's next output ran onto it.
  requirePeers("script");
  await using root = await tempDir();
  await using server = await startServe(root.path);
  const put =
    `stty cols 100; head -c 3000000 /dev/zero | '${BFTP_BIN}' put - ${server.url}/st.bin; echo AFTER`;
  const out = await new Deno.Command("script", {
    args: ["-qec", put, "/dev/null"],
    env: { NO_COLOR: "1", COLUMNS: "100" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  deepEqual(out.code, 0, text);
  ok(text.includes("stdin"), text);
  ok(/\nAFTER/.test(text) && !/[^\n]AFTER/.test(text), JSON.stringify(text));
  deepEqual((await Deno.stat(root.join("st.bin"))).size, 3_000_000);
});
