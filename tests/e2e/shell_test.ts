// End-to-end: `bftp shell`, scripted through stdin against a real `bftp serve`.

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  findTemporaries,
  listNames,
  randomBytes,
  readText,
  runBftp,
  sha256File,
  spawnBftp,
  startServe,
  tempDir,
  waitFor,
  writeRandomFile,
} from "./helpers.ts";
import { startFakeBftpServer } from "./fake_bftp_server.ts";

Deno.test("e2e: bftp shell runs the scripted example from a pipe", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("docs"));
  await Deno.writeTextFile(root.join("docs", "readme.txt"), "hello\n");
  await Deno.mkdir(root.join("docs", "img"));
  await using server = await startServe(root.path);

  const result = await runBftp(["shell", `${server.url}/`], { stdin: "cd docs\npwd\nls\n" });
  equal(result.code, 0, result.stderr);
  // No prompt and no greeting when stdin is not a terminal.
  equal(result.stderr, "");
  equal(result.stdout, "/docs\nimg/\nreadme.txt\n");
});

Deno.test("e2e: bftp shell runs every command on one session, and an error does not stop the script", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("docs"));
  await Deno.writeTextFile(root.join("docs", "readme.txt"), "hello\n");
  const bigHash = await writeRandomFile(local.join("big file.bin"), 3 * 1024 * 1024 + 7);
  await Deno.writeTextFile(local.join("it's here.txt"), "quoted\n");
  await using server = await startServe(root.path);

  const script = [
    "# a comment, then a blank line",
    "",
    "pwd",
    "cd docs",
    "pwd",
    "ls",
    `put "big file.bin"`,
    `put "it's here.txt" 'note "1".txt'`,
    "ls -l",
    `stat "big file.bin"`,
    `hash big\\ file.bin 'note "1".txt'`,
    `get "big file.bin" "copy of big.bin"`,
    "get readme.txt -",
    `mkdir -p "new dir/sub dir"`,
    "rm no-such-file.txt",
    `rmdir "new dir/sub dir"`,
    `mv "note \\"1\\".txt" "new dir"`,
    `ls "new dir"`,
    `mv "new dir/note \\"1\\".txt" renamed.txt`,
    "cd ..",
    "pwd",
    "ls docs",
    "rm docs/renamed.txt",
    `rmdir "docs/new dir"`,
    "ls docs",
  ].join("\n") + "\n";
  const result = await runBftp(["shell", server.url], { stdin: script, cwd: local.path });

  // The failed rm is the only failure: its exit code (10, not found) is the shell's.
  equal(result.code, 10, result.stderr);
  const errors = result.stderr.split("\n").filter((l) => l !== "");
  equal(errors.length, 1, result.stderr);
  ok(/^bftp: .*no-such-file\.txt.*not found/i.test(errors[0]!), errors[0]);

  const out = result.stdout.split("\n");
  let at = 0;
  const next = () => out[at++];
  equal(next(), "/");
  equal(next(), "/docs");
  equal(next(), "readme.txt");
  // ls -l: three files, long form.
  const long = [next()!, next()!, next()!];
  ok(long[0]!.startsWith("-rw-") && long[0]!.endsWith("  big file.bin"), long[0]);
  ok(long[0]!.includes(String(3 * 1024 * 1024 + 7)), long[0]);
  ok(long[1]!.endsWith(`  note "1".txt`), long[1]);
  ok(long[2]!.endsWith("  readme.txt"), long[2]);
  equal(next(), "path: big file.bin");
  equal(next(), "type: file");
  equal(next(), `size: ${3 * 1024 * 1024 + 7}`);
  ok(next()!.startsWith("mtime: "));
  ok(next()!.startsWith("mode: "));
  equal(next(), `${bigHash}  big file.bin`);
  const noteHash = await sha256File(local.join("it's here.txt"));
  equal(next(), `${noteHash}  note "1".txt`);
  equal(next(), "hello"); // get readme.txt -
  equal(next(), `note "1".txt`); // ls "new dir"
  equal(next(), "/"); // pwd after cd ..
  equal(next(), "big file.bin"); // ls docs
  equal(next(), "new dir/");
  equal(next(), "readme.txt");
  equal(next(), "renamed.txt");
  equal(next(), "big file.bin"); // the last ls docs
  equal(next(), "readme.txt");
  equal(next(), "");
  equal(at, out.length);

  // What the session did, seen on disk.
  equal(await sha256File(root.join("docs", "big file.bin")), bigHash);
  equal(await sha256File(local.join("copy of big.bin")), bigHash);
  deepEqual(await listNames(root.join("docs")), ["big file.bin", "readme.txt"]);
  deepEqual(await findTemporaries(root.path), []);
  deepEqual(await findTemporaries(local.path), []);
  // One session for the whole script: every request came from one client port, one QUIT.
  const clients = new Set(server.logLines().map((l) => l.split(" ")[1]));
  equal(clients.size, 1, server.stderrText());
  equal(server.logLines(/ QUIT /).length, 1, server.stderrText());
});

Deno.test("e2e: bftp shell exits with the code of the last command that failed", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);

  const notFoundThenUsage = await runBftp(["shell", server.url], {
    stdin: "stat missing\nbogus-command\npwd\n",
  });
  equal(notFoundThenUsage.code, 2, notFoundThenUsage.stderr);
  equal(notFoundThenUsage.stdout, "/\n");
  const lines = notFoundThenUsage.stderr.trimEnd().split("\n");
  equal(lines.length, 2, notFoundThenUsage.stderr);
  ok(/not found/.test(lines[0]!), lines[0]);
  ok(/Unknown command "bogus-command"/.test(lines[1]!), lines[1]);

  const usageThenNotFound = await runBftp(["shell", server.url], {
    stdin: "ls -z\nrmdir missing\nmkdir ok\n",
  });
  equal(usageThenNotFound.code, 10, usageThenNotFound.stderr);
  equal((await Deno.stat(root.join("ok"))).isDirectory, true);

  const allGood = await runBftp(["shell", server.url], { stdin: "mkdir a\nrmdir a\npwd" });
  equal(allGood.code, 0, allGood.stderr);
  // The last line needs no newline.
  equal(allGood.stdout, "/\n");
});

Deno.test("e2e: bftp shell refuses put - and quoting mistakes, and goes on", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  const result = await runBftp(["shell", server.url], {
    stdin: `put - x.txt\nls "unclosed\nmkdir "a b"\nls\n`,
  });
  equal(result.code, 2, result.stderr);
  const errors = result.stderr.trimEnd().split("\n");
  equal(errors.length, 2, result.stderr);
  ok(/^bftp: Cannot upload stdin from the shell/.test(errors[0]!), errors[0]);
  ok(/^bftp: Unclosed " quote/.test(errors[1]!), errors[1]);
  equal(result.stdout, "a b/\n");
  deepEqual(await listNames(root.path), ["a b"]);
});

Deno.test("e2e: bftp shell starts in the URL's folder, stops at quit, and helps", async () => {
  await using root = await tempDir();
  await Deno.mkdir(root.join("a"));
  await Deno.mkdir(root.join("a", "b"));
  await using server = await startServe(root.path);

  const result = await runBftp(["shell", `${server.url}/a/b`], {
    stdin: "pwd\ncd ..\npwd\nhelp get\nget --help\nquit\npwd\n",
  });
  equal(result.code, 0, result.stderr);
  const [first, second, ...rest] = result.stdout.split("\n");
  equal(first, "/a/b");
  equal(second, "/a");
  ok(rest[0]!.startsWith("Usage: get [-r] [-p] [-a] REMOTE [LOCAL|-]"), rest[0]);
  // Nothing after quit ran: only one "/a" line was printed by pwd.
  equal(result.stdout.split("\n").filter((l) => l.startsWith("/")).length, 2);

  const help = await runBftp(["shell", server.url], { stdin: "help\n" });
  for (
    const name of ["ls", "cd", "pwd", "get", "put", "rm", "mkdir", "rmdir", "mv", "stat", "hash"]
  ) {
    ok(new RegExp(`^  ${name}\\b`, "m").test(help.stdout), `${name} in ${help.stdout}`);
  }

  const missing = await runBftp(["shell", `${server.url}/nope`], { stdin: "pwd\n" });
  equal(missing.code, 10, missing.stderr);
  equal(missing.stdout, "");
  ok(/^bftp: .*not found/.test(missing.stderr), missing.stderr);

  const usage = await runBftp(["shell"], { stdin: "" });
  equal(usage.code, 2);
});

Deno.test("e2e: bftp shell stops with exit 4 when the server goes away mid-session", async () => {
  await using root = await tempDir();
  const server = await startServe(root.path);
  const child = spawnBftp(["shell", server.url], { pipeStdin: true });
  const stderr = readText(child.stderr);
  let stdout = "";
  const stdoutDone = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) stdout += text;
  })();
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode("pwd\n"));
    await waitFor(() => stdout === "/\n", "the first pwd");
    await server.crash();
    await writer.write(new TextEncoder().encode("ls\npwd\nmkdir x\n"));
    await writer.close();
  } finally {
    await writer.close().catch(() => {});
  }
  const status = await child.status;
  await stdoutDone;
  const errors = await stderr;
  equal(status.code, 4, errors);
  // The commands after the lost connection did not run.
  equal(stdout, "/\n");
  ok(/lost/i.test(errors), errors);
  equal(errors.trimEnd().split("\n").length, 2, errors);
});

Deno.test("e2e: bftp shell stops with exit 4 after a corrupted or cut download, leaving no file", async () => {
  for (const fault of ["bad-hash", "cut"] as const) {
    await using local = await tempDir();
    await using server = startFakeBftpServer(randomBytes(256 * 1024), fault);
    const result = await runBftp(["shell", server.url], {
      stdin: "get a.bin\nget a.bin again.bin\n",
      cwd: local.path,
    });
    equal(result.code, 4, `${fault}: ${result.stderr}`);
    const lines = result.stderr.trimEnd().split("\n");
    equal(lines.length, 2, result.stderr);
    ok(
      fault === "bad-hash" ? /Checksum mismatch/.test(lines[0]!) : /closed/i.test(lines[0]!),
      lines[0],
    );
    ok(/lost/.test(lines[1]!), lines[1]);
    // The second get never ran; the first left nothing behind.
    equal(server.requests.filter((r) => r.startsWith("GET")).length, 1, server.requests.join());
    deepEqual(await listNames(local.path), []);
  }
});

Deno.test("e2e: bftp shell get -p and put -p keep times and permission bits", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const when = new Date("2021-06-07T08:09:10Z");
  await Deno.writeTextFile(local.join("up.txt"), "up");
  await Deno.chmod(local.join("up.txt"), 0o600);
  await Deno.utime(local.join("up.txt"), when, when);
  await using server = await startServe(root.path);
  const run = await runBftp(["shell", server.url], {
    stdin: `put -p ${local.join("up.txt")} kept.txt\nget -p kept.txt ${local.join("back.txt")}\n`,
  });
  equal(run.code, 0, run.stderr);
  for (const path of [root.join("kept.txt"), local.join("back.txt")]) {
    const info = await Deno.stat(path);
    deepEqual([info.mtime?.getTime(), info.mode! & 0o777], [when.getTime(), 0o600], path);
  }
});

Deno.test("e2e: bftp shell get and rm take wildcards, relative to the current folder", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("logs"));
  for (const name of ["a.log", "b.log", "keep.txt"]) {
    await Deno.writeTextFile(root.join("logs", name), name);
  }
  await using server = await startServe(root.path);
  await Deno.mkdir(local.join("in"));
  const run = await runBftp(["shell", server.url], {
    stdin: `cd logs\nget *.log ${local.join("in")}\nrm *.log\nls\n`,
  });
  equal(run.code, 0, run.stderr);
  equal(run.stdout, "keep.txt\n");
  deepEqual(await listNames(local.join("in")), ["a.log", "b.log"]);
  // One match goes where it is asked, even to a file; several into a file are refused.
  await Deno.writeTextFile(root.join("logs", "c.log"), "c");
  await Deno.writeTextFile(root.join("logs", "d.log"), "d");
  const more = await runBftp(["shell", server.url], {
    stdin: `get logs/*.txt ${local.join("one.txt")}\nget logs/*.log ${local.join("one.txt")}\n`,
  });
  equal(more.code, 2, more.stderr);
  ok(/is not a folder: "logs\/\*\.log" names several files/.test(more.stderr), more.stderr);
  equal(await Deno.readTextFile(local.join("one.txt")), "keep.txt");
});

Deno.test("e2e: bftp shell put takes local wildcards, as sftp does, relative to the local folder", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(root.join("in"));
  await Deno.mkdir(local.join("sub"));
  for (const name of ["a.log", "b.log", "keep.txt", ".hidden.log", "sub/c.log"]) {
    await Deno.writeTextFile(local.join(name), name);
  }
  await using server = await startServe(root.path);
  // Into a remote folder, into the current one, a name that is itself a pattern, and no match.
  await Deno.writeTextFile(local.join("[x].txt"), "literal");
  const run = await runBftp(["shell", server.url], {
    stdin: [
      `lcd ${local.path}`,
      "put *.log in",
      "cd in",
      "put sub/*.log",
      "put [x].txt",
      "put *.png",
      "",
    ].join("\n"),
  });
  // The local file not found: exit 3, the others sent.
  equal(run.code, 3, run.stderr);
  ok(/"\*\.png": not found/.test(run.stderr), run.stderr);
  deepEqual(await listNames(root.join("in")), ["[x].txt", "a.log", "b.log", "c.log"]);
  equal(await Deno.readTextFile(root.join("in", "b.log")), "b.log");
  equal(await Deno.readTextFile(root.join("in", "[x].txt")), "literal");
  // Several files into a remote file: refused before anything is sent.
  await Deno.writeTextFile(root.join("file.txt"), "old");
  const into = await runBftp(["shell", server.url], {
    stdin: `lcd ${local.path}\nput *.log file.txt\n`,
  });
  equal(into.code, 2, into.stderr);
  ok(/"file\.txt" is not a folder on the server: "\*\.log" names several files/.test(into.stderr));
  equal(await Deno.readTextFile(root.join("file.txt")), "old");
  // A FIFO among the matches is left out with a line, as sftp skips a non-regular file (it would
  // wait for a writer for ever; found by an audit).
  const fifo = await new Deno.Command("mkfifo", { args: [local.join("pipe.log")] }).output();
  equal(fifo.code, 0, "mkfifo");
  await Deno.mkdir(root.join("in2"));
  const skipping = await runBftp(["shell", server.url], {
    stdin: `lcd ${local.path}\nput *.log in2\n`,
  });
  equal(skipping.code, 0, skipping.stderr);
  ok(
    skipping.stderr.includes('Skipping "pipe.log": not a regular file or folder'),
    skipping.stderr,
  );
  deepEqual(await listNames(root.join("in2")), ["a.log", "b.log"]);
});

Deno.test("e2e: bftp shell lcd, lpwd, lls and !COMMAND work on this machine", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await Deno.mkdir(local.join("out"));
  await Deno.writeTextFile(local.join("out", "mine.txt"), "mine");
  await Deno.writeTextFile(root.join("theirs.txt"), "theirs");
  await using server = await startServe(root.path);
  const result = await runBftp(["shell", server.url], {
    stdin: "lcd out\nlpwd\nlls\nget theirs.txt\nlls -l\n!echo from sh; ls\n!\nlcd nope\n",
    cwd: local.path,
  });
  const lines = result.stdout.split("\n");
  equal(lines[0], await Deno.realPath(local.join("out")), result.stdout);
  equal(lines[1], "mine.txt");
  ok(/^-rw.* 4 .* mine\.txt$/.test(lines[2]!), lines[2]);
  ok(/^-rw.* 6 .* theirs\.txt$/.test(lines[3]!), lines[3]);
  deepEqual(lines.slice(4), ["from sh", "mine.txt", "theirs.txt", ""]);
  // "!" alone is refused; a missing folder is a local error (3), the last one.
  const errors = result.stderr.trimEnd().split("\n");
  equal(errors.length, 2, result.stderr);
  ok(/^bftp: Give a command after "!"/.test(errors[0]!), errors[0]);
  ok(/^bftp: Cannot change to "nope": not found$/.test(errors[1]!), errors[1]);
  equal(result.code, 3, result.stderr);
});

Deno.test("e2e: bftp shell --help lists what help lists in the shell", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  const inside = await runBftp(["shell", server.url], { stdin: "help\n" });
  const outside = await runBftp(["shell", "--help"]);
  equal(outside.code, 0);
  ok(outside.stdout.includes(inside.stdout), `${outside.stdout}\n---\n${inside.stdout}`);
  for (const name of ["lcd", "lls", "lpwd", "!COMMAND", "quit"]) {
    ok(new RegExp(`^  ${name.replace("!", "\\!")}\\b`, "m").test(inside.stdout), name);
  }
});

Deno.test("e2e: bftp shell pipelines commands of several paths, in order, and a failing path does not stop the others", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const names = Array.from({ length: 12 }, (_, i) => `f${i}.bin`);
  const contents = names.map(() => randomBytes(3000));
  for (const [i, name] of names.entries()) await Deno.writeFile(root.join(name), contents[i]!);
  await using server = await startServe(root.path);
  const run = await runBftp(["shell", server.url], {
    stdin: [
      `get f*.bin ${local.path}`,
      "hash f1.bin missing f0.bin",
      "mkdir x x/y x/y/z",
      "rm f2.bin nothing-here f3.bin",
      "pwd",
      "",
    ].join("\n"),
  });
  // The last failure's code: not found (10); every other path did its work.
  equal(run.code, 10, run.stderr);
  for (const [i, name] of names.entries()) {
    deepEqual(await Deno.readFile(local.join(name)), contents[i]);
  }
  const [h1, h0] = [await sha256File(root.join("f1.bin")), await sha256File(root.join("f0.bin"))];
  equal(run.stdout, `${h1}  f1.bin\n${h0}  f0.bin\n/\n`);
  const errors = run.stderr.trimEnd().split("\n");
  equal(errors.length, 2, run.stderr);
  ok(/"missing"|missing/.test(errors[0]!) && /not found/.test(errors[0]!), errors[0]);
  ok(/nothing-here/.test(errors[1]!), errors[1]);
  equal((await Deno.stat(root.join("x", "y", "z"))).isDirectory, true);
  const left = await listNames(root.path);
  deepEqual([left.includes("f2.bin"), left.includes("f3.bin"), left.includes("f4.bin")], [
    false,
    false,
    true,
  ]);
  // One at a time, the log would go STAT f0, GET f0, STAT f1...; pipelined, several
  // requests arrive before the first GET is answered.
  await server.waitForLog(/ GET "f11\.bin" ok /);
  const ops = server.logLines(/ (STAT|GET) "f\d+\.bin"/).map((l) => / (STAT|GET) /.exec(l)![1]);
  ok(ops.indexOf("GET") >= 2, ops.join(" "));
});

Deno.test('e2e: bftp shell takes an empty path for the current folder: get -r and sync act there, rm -r refuses it, and "." and ".."', async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  // The same names in the root and in the current folder: what is done must be the folder's.
  for (const dir of ["", "w/"]) {
    await Deno.mkdir(root.join(`${dir}keep`), { recursive: true });
    await Deno.writeTextFile(root.join(`${dir}keep/data`), `${dir}data`);
    await Deno.writeTextFile(root.join(`${dir}a.txt`), `${dir}a`);
  }
  await Deno.mkdir(local.join("s"));
  await Deno.writeTextFile(local.join("s/pushed.txt"), "p");
  await using server = await startServe(root.path);
  const before = await listNames(root.path);
  const run = await runBftp(["shell", server.url], {
    stdin: `cd w\nrm -r ""\nrm -r .\nrm -r keep/..\nget -r "" ${local.join("out")}\nsync ${
      local.join("s")
    } ""\n`,
  });
  equal(run.code, 2, run.stderr);
  const refusals = run.stderr.trimEnd().split("\n");
  deepEqual(
    refusals.map((line) =>
      /^bftp: Refusing to remove "([^"]*)": name the folder itself/.exec(line)?.[1]
    ),
    ["", ".", "keep/.."],
    run.stderr,
  );
  deepEqual(await listNames(root.path), before);
  equal(await Deno.readTextFile(local.join("out/a.txt")), "w/a");
  equal(await Deno.readTextFile(local.join("out/keep/data")), "w/data");
  // The push landed in the current folder, not in the root.
  equal(await Deno.readTextFile(root.join("w/pushed.txt")), "p");
  deepEqual(await listNames(root.path), ["a.txt", "keep", "w"]);
});

Deno.test("e2e: bftp shell refuses a line over 64 KiB alone and goes on", async () => {
  await using root = await tempDir();
  await using server = await startServe(root.path);
  const long = `# ${"a".repeat(70_000)}`;
  const run = await runBftp(["shell", server.url], {
    stdin: `mkdir before\n${long}\nmkdir ${"b".repeat(140_000)}\nmkdir after\n`,
  });
  equal(run.code, 2, run.stderr);
  deepEqual(run.stderr.trimEnd().split("\n"), [
    "bftp: A command line is longer than 65536 bytes",
    "bftp: A command line is longer than 65536 bytes",
  ]);
  deepEqual(await listNames(root.path), ["after", "before"]);
});
