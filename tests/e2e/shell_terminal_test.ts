// End-to-end: `bftp shell` on a real terminal (tmux): line editing, history,
// Tab completion, Ctrl-C, the exit code, and a hostile server's strings.

import { deepEqual, equal, ok } from "node:assert/strict";
import { listNames, startServe, tempDir } from "./helpers.ts";
import { frame, stallMidBody, startScriptedBftpServer } from "./fake_bftp_server.ts";
import { startTerminal } from "./terminal.ts";

Deno.test("e2e: bftp shell on a terminal: Up recalls history, keys edit, quit after a typo exits 0", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("docs"));
  await using server = await startServe(root.path);
  await using term = await startTerminal(["shell", server.url]);
  await term.waitForScreen(/^bftp:\/>$/m);
  await term.type("pwdd");
  await term.press("Enter");
  await term.waitForScreen(/Unknown command "pwdd"/);
  await term.type("cd docs");
  await term.press("Enter");
  await term.waitForScreen(/^bftp:\/docs>$/m);
  // Up twice: back to the typo; Backspace fixes it.
  await term.press("Up", "Up");
  await term.waitForScreen(/bftp:\/docs> pwdd$/);
  await term.press("BSpace", "Enter");
  let screen = await term.waitForScreen(/^\/docs$/m);
  // Left, Home, Ctrl-E, Ctrl-U, Ctrl-W and Delete edit in place.
  await term.type("xx ls");
  await term.press("Home", "DC", "DC", "DC", "End", "Left", "Left", "C-k");
  screen = await term.waitForScreen(/docs>$/);
  await term.type("ls nope junk");
  await term.press("C-w", "C-w", "C-a", "C-e");
  await term.type("..");
  await term.press("Enter");
  screen = await term.waitForScreen(/^docs\/$/m);
  ok(!/\[A|\?\[/.test(screen), screen);
  await term.type("quit");
  await term.press("Enter");
  equal(await term.exitCode(), 0, await term.screen());
});

Deno.test("e2e: bftp shell on a terminal: Tab completes commands and remote names", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("docs"));
  for (const name of ["readme.txt", "report-1.txt", "report-2.txt", "my file.txt"]) {
    await Deno.writeTextFile(root.join("docs", name), name);
  }
  await using server = await startServe(root.path);
  await using term = await startTerminal(["shell", server.url]);
  await term.waitForScreen(/^bftp:\/>$/m);
  // A unique command completes with a blank after it.
  await term.type("pw");
  await term.press("Tab");
  await term.type("-h");
  await term.waitForScreen(/> pwd -h$/);
  await term.press("Enter");
  await term.waitForScreen(/^Usage: pwd$/m);
  await term.type("cd do");
  await term.press("Tab");
  await term.waitForScreen(/> cd docs\/$/);
  await term.press("Enter");
  await term.waitForScreen(/^bftp:\/docs>$/m);
  await term.type("stat rep");
  await term.press("Tab");
  await term.waitForScreen(/> stat report-$/);
  await term.press("Tab", "Tab");
  await term.waitForScreen(/^report-1\.txt {2}report-2\.txt$/m);
  await term.press("C-u");
  await term.type("stat my");
  await term.press("Tab");
  await term.waitForScreen(/> stat my\\ file\.txt$/);
  await term.press("Enter");
  const screen = await term.waitForScreen(/^size: 11$/m);
  ok(/^path: my file\.txt$/m.test(screen), screen);
  await term.press("C-d");
  equal(await term.exitCode(), 0, await term.screen());
});

Deno.test("e2e: bftp shell on a terminal: Ctrl-C clears the line, and stops a transfer but not the session", async () => {
  await using local = await tempDir();
  const hostile = "\x1b]0;pwned\x07\x1b[2J";
  let sessions = 0;
  await using server = startScriptedBftpServer(
    async (req, send) => {
      if (req.op === "STAT") {
        const entry = { name: "a.bin", type: "file", size: 1000, mtime: 0, mode: 0o644 };
        await send(frame({ ok: true, entry }));
      } else if (req.op === "CD" || req.op === "PWD") {
        await send(frame({ ok: true, cwd: `/evil${hostile}` }));
      } else if (req.op !== "QUIT") {
        return stallMidBody(req, send);
      }
    },
    frame({ ok: true, version: 1, server: `bad ${hostile}`, readOnly: false }),
  );
  const counting = server.requests;
  await using term = await startTerminal(["shell", `${server.url}/evil`], {
    cwd: local.path,
    width: 120,
  });
  // The server's strings are shown escaped: the screen was neither cleared nor retitled.
  let screen = await term.waitForScreen(/bftp:\/evil\\x1b\]0;pwned\\x07\\x1b\[2J>$/);
  ok(screen.includes("(bad \\x1b]0;pwned\\x07\\x1b[2J)"), screen);
  await term.type("half typed");
  await term.press("C-c");
  screen = await term.waitForScreen(/half typed\^C\n.*2J>$/);
  await term.type("pwd");
  await term.press("Enter");
  await term.waitForScreen(/^\/evil\\x1b\]0;pwned\\x07\\x1b\[2J$/m);
  await term.type("get a.bin");
  await term.press("Enter");
  await new Promise((resolve) => setTimeout(resolve, 300));
  equal(counting.filter((r) => r.startsWith("GET")).length, 1, counting.join());
  await term.press("C-c");
  // The progress line is drawn once more over the ^C, and the message starts a line of its own.
  screen = await term.waitForScreen(
    /2J> get a\.bin\na\.bin [^\n^]*\nbftp: Interrupted \(the session goes on\)\n.*2J>$/,
  );
  // A new session, back in the same folder.
  sessions = counting.filter((r) => r.startsWith("CD")).length;
  equal(sessions, 2, counting.join());
  await term.type("pwd");
  await term.press("Enter");
  screen = await term.waitForScreen(/bftp: Interrupted[^]*\n\/evil.*2J\n.*2J>$/);
  await term.type("quit");
  await term.press("Enter");
  equal(await term.exitCode(), 0, await term.screen());
  equal((await listNames(local.path)).length, 0);
});

Deno.test("e2e: bftp shell on a terminal exits 0 at quit or Ctrl-D after a failed command", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  for (const end of ["quit", "C-d"]) {
    await using term = await startTerminal(["shell", server.url]);
    await term.waitForScreen(/^bftp:\/>$/m);
    await term.type("bogus\n");
    await term.waitForScreen(/Unknown command "bogus"[^]*>$/);
    await term.type("stat missing\n");
    await term.waitForScreen(/not found[^]*>$/);
    if (end === "quit") await term.type("quit\n");
    else await term.press("C-d");
    equal(await term.exitCode(), 0, await term.screen());
  }
});

Deno.test("e2e: bftp shell on a narrow terminal edits a line longer than a row in place", async () => {
  await using root = await tempDir();
  const name = "a-very-long-file-name-for-wrapping.txt";
  await Deno.writeTextFile(root.join(name), "four");
  await using server = await startServe(root.path);
  await using term = await startTerminal(["shell", server.url], { width: 30 });
  await term.waitForScreen(/^bftp:\/>$/m);
  // 8 + 43 characters: two rows. Editing at the start redraws both without a second prompt.
  await term.type(`stat ${name}`);
  await term.press("Home");
  await term.type("x");
  await term.waitForScreen(/^bftp:\/> xstat a-very-long-file\n-name-for-wrapping\.txt$/m);
  await term.press("C-a", "DC", "End", "Left", "Right", "Enter");
  const screen = await term.waitForScreen(/^size: 4$/m);
  const typed = screen.slice(0, screen.indexOf("path:"));
  equal(typed.split("\n").filter((l) => l.startsWith("bftp:/>")).length, 1, screen);
  ok(screen.includes(`bftp:/> stat a-very-long-file-\nname-for-wrapping.txt\n`), screen);
  await term.press("C-d");
  equal(await term.exitCode(), 0, await term.screen());
});

Deno.test("e2e: bftp shell keeps its history in $HOME/.bftp_history, for the next session's Up", async () => {
  await using root = await tempDir();
  await using home = await tempDir();
  await using server = await startServe(root.path);
  {
    await using term = await startTerminal(["shell", server.url], { home: home.path });
    await term.waitForScreen(/^bftp:\/>$/m);
    await term.type("mkdir kept\n");
    await term.waitForScreen(/> mkdir kept\nbftp:\/>$/);
    await term.type("quit\n");
    equal(await term.exitCode(), 0, await term.screen());
  }
  equal(await Deno.readTextFile(home.join(".bftp_history")), "mkdir kept\nquit\n");
  equal((await Deno.stat(home.join(".bftp_history"))).mode! & 0o777, 0o600);
  await using term = await startTerminal(["shell", server.url], { home: home.path });
  await term.waitForScreen(/^bftp:\/>$/m);
  await term.press("Up", "Up");
  await term.waitForScreen(/^bftp:\/> mkdir kept$/m);
  await term.press("C-u");
  await term.type("ls\n");
  await term.waitForScreen(/^kept\/$/m);
  await term.press("C-d");
  equal(await term.exitCode(), 0, await term.screen());
  equal(await Deno.readTextFile(home.join(".bftp_history")), "mkdir kept\nquit\nls\n");
});

Deno.test("e2e: bftp shell on a terminal runs every line of a paste, in order", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  await using term = await startTerminal(["shell", server.url]);
  await term.waitForScreen(/^bftp:\/>$/m);
  // One write: the lines after the first arrive with it and wait for their prompt.
  await term.type("mkdir a\nmkdir b\nls\n");
  const screen = await term.waitForScreen(/^a\/\nb\/\nbftp:\/>$/m);
  ok(/> mkdir a\n.*> mkdir b\n.*> ls\n/.test(screen), screen);
  await term.press("C-d");
  equal(await term.exitCode(), 0, await term.screen());
});

Deno.test("e2e: bftp shell on a terminal: Tab gives up on a server that does not answer, and the keys work again", async () => {
  // Found by an audit: the prompt froze (Ctrl-C, Enter, Ctrl-D did nothing) until --timeout.
  await using local = await tempDir();
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "LIST") return "stall";
    if (req.op === "CD" || req.op === "PWD") await send(frame({ ok: true, cwd: "/" }));
    return undefined;
  });
  await using term = await startTerminal(["shell", "--timeout", "60", server.url], {
    cwd: local.path,
  });
  await term.waitForScreen(/^bftp:\/>$/m);
  await term.type("get ");
  await term.press("Tab");
  // After COMPLETION_WAIT_MS (2 s) the prompt reads keys again: Ctrl-C drops the line.
  await new Promise((resolve) => setTimeout(resolve, 3500));
  await term.press("C-c");
  await term.waitForScreen(/get \^C\nbftp:\/>$/);
  await term.type("lpwd");
  await term.press("Enter");
  await term.waitForScreen(new RegExp(`^${local.path}$`, "m"));
  await term.press("C-c", "C-d");
});

Deno.test("e2e: bftp shell on a terminal connects again after the server dropped an idle session", async () => {
  // Found by an audit: the next command ended the shell with exit 4 after --idle-timeout.
  await using root = await tempDir();
  await Deno.mkdir(root.join("docs"));
  await using server = await startServe(root.path, ["--idle-timeout", "1"]);
  await using term = await startTerminal(["shell", `${server.url}/docs`]);
  await term.waitForScreen(/^bftp:\/docs>$/m);
  // Well past the server's second, a loaded machine included.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await term.type("pwd");
  await term.press("Enter");
  await term.waitForScreen(
    /The connection was lost: connected again; run the command again\nbftp:\/docs>$/,
  );
  await term.type("pwd");
  await term.press("Enter");
  await term.waitForScreen(/^\/docs\nbftp:\/docs>$/m);
  await term.type("quit");
  await term.press("Enter");
  equal(await term.exitCode(), 0, await term.screen());
});

Deno.test("e2e: bftp shell on a terminal: Ctrl-C during a pasted command drops the pasted lines behind it", async () => {
  // Found by an audit: a paste of "get big" and "mkdir x" ran the mkdir after the get was
  // cancelled (bash drops them: the terminal flushes its input at Ctrl-C).
  await using local = await tempDir();
  await using server = startScriptedBftpServer(async (req, send) => {
    if (req.op === "STAT") {
      const entry = { name: "a.bin", type: "file", size: 1000, mtime: 0, mode: 0o644 };
      await send(frame({ ok: true, entry }));
    } else if (req.op === "CD" || req.op === "PWD") {
      await send(frame({ ok: true, cwd: "/" }));
    } else if (req.op === "GET") {
      return stallMidBody(req, send);
    } else if (req.op !== "QUIT") {
      await send(frame({ ok: true }));
    }
  });
  await using term = await startTerminal(["shell", server.url], { cwd: local.path });
  await term.waitForScreen(/^bftp:\/>$/m);
  await term.type("get a.bin\nmkdir after\n");
  await term.waitForScreen(/a\.bin .*0 B \/ 1000 B/);
  await term.press("C-c");
  await term.waitForScreen(/bftp: Interrupted \(the session goes on\)\nbftp:\/>$/);
  // The prompt waits with an empty line; nothing behind the cancelled command was sent.
  await new Promise((resolve) => setTimeout(resolve, 500));
  equal(server.requests.filter((r) => r.startsWith("MKDIR")).length, 0, server.requests.join());
  await term.type("quit\n");
  equal(await term.exitCode(), 0, await term.screen());
});

Deno.test("e2e: bftp shell on a terminal puts the cursor by columns: a CJK character or an emoji takes two", async () => {
  // Found by an audit: the cursor was drawn one column short for each wide character.
  // "bftp:/> " is 8 columns, "stat " 5, then three wide characters of 2.
  await cursorAfterKeys(60, "stat 日本😀", /^bftp:\/> stat 日本😀$/m, [
    { column: 19, row: 0 },
    { keys: ["Left"], column: 17, row: 0 },
    { keys: ["C-a"], column: 8, row: 0 },
  ]);
});

/** Waits (briefly) until the cursor is at `want`: the shell redraws after each key. */
async function waitForCursor(
  term: { cursor(): Promise<{ column: number; row: number }> },
  want: { column: number; row: number },
): Promise<void> {
  let at = await term.cursor();
  for (let i = 0; i < 50 && (at.column !== want.column || at.row !== want.row); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    at = await term.cursor();
  }
  deepEqual(at, want);
}

Deno.test("e2e: bftp shell on a terminal: Tab completes a word inside quotes", async () => {
  // Found by an audit: Tab did nothing after an open quote (`stat "my f`).
  await using root = await tempDir();
  await Deno.writeTextFile(root.join("my file.txt"), "four");
  await using server = await startServe(root.path);
  await using term = await startTerminal(["shell", server.url]);
  await term.waitForScreen(/^bftp:\/>$/m);
  await term.type('stat "my f');
  await term.press("Tab");
  await term.waitForScreen(/^bftp:\/> stat my\\ file\.txt$/m);
  await term.press("Enter");
  await term.waitForScreen(/^size: 4$/m);
  await term.press("C-d");
  equal(await term.exitCode(), 0, await term.screen());
});

Deno.test("e2e: bftp shell on a narrow terminal: a wide character that does not fit at a row's end goes to the next row, and the cursor with it", async () => {
  // "bftp:/> " 8 columns, "stat " 5, "日本語" 6: 19. The emoji needs 2: it starts the next row.
  await cursorAfterKeys(20, "stat 日本語😀", /^bftp:\/> stat 日本語\n😀$/m, [
    { column: 2, row: 1 },
    { keys: ["Left"], column: 0, row: 1 },
    { keys: ["Left"], column: 17, row: 0 },
  ]);
});

/**
 * Types `text` into a shell on a terminal `width` columns wide, waits for
 * `shown`, then presses each step's keys and checks where the cursor is
 * (its row counted from the prompt's); ends the shell with Ctrl-D.
 */
async function cursorAfterKeys(
  width: number,
  text: string,
  shown: RegExp,
  steps: { keys?: string[]; column: number; row: number }[],
): Promise<void> {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  await using term = await startTerminal(["shell", server.url], { width });
  await term.waitForScreen(/^bftp:\/>$/m);
  await term.type(text);
  const screen = await term.waitForScreen(shown);
  const prompt = screen.split("\n").findLastIndex((line) => line.startsWith("bftp:/> "));
  for (const { keys, column, row } of steps) {
    if (keys) await term.press(...keys);
    await waitForCursor(term, { column, row: prompt + row });
  }
  await term.press("C-e", "C-u");
  await term.press("C-d");
  equal(await term.exitCode(), 0, await term.screen());
}
