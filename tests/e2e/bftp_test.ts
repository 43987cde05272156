// End-to-end: the bftp command line itself (help, version, usage errors).

import { equal, ok } from "node:assert/strict";
import { COMMANDS } from "../../lib/cli/mod.ts";
import { VERSION } from "../../lib/version.ts";
import { assertFailure, BFTP_BIN, runBftp, startServe, tempDir } from "./helpers.ts";

const BFTP_COMMANDS = ["serve", "get", "put", "ls", "stat", "hash", "rm", "mkdir", "rmdir", "mv"];

Deno.test("e2e: bftp --help lists every subcommand", async () => {
  const names = COMMANDS.map((c) => c.name);
  for (const name of BFTP_COMMANDS) ok(names.includes(name), `"${name}" is registered`);
  const result = await runBftp(["--help"]);
  equal(result.code, 0, result.stderr);
  equal(result.stderr, "");
  ok(/^Usage: bftp COMMAND/m.test(result.stdout), result.stdout);
  for (const command of COMMANDS) {
    const line = new RegExp(`^  ${command.name} +\\S`, "m");
    ok(line.test(result.stdout), `"${command.name}" is listed in:\n${result.stdout}`);
  }
});

Deno.test("e2e: bftp with no command prints the help on stderr and exits 2", async () => {
  const result = await runBftp([]);
  equal(result.code, 2);
  equal(result.stdout, "");
  ok(result.stderr.includes("Usage: bftp COMMAND"), result.stderr);
});

Deno.test("e2e: every subcommand's --help exits 0 with a Usage line", async () => {
  for (const { name } of COMMANDS) {
    for (const flag of ["--help", "-h"]) {
      const result = await runBftp([name, flag]);
      equal(result.code, 0, `${name} ${flag}: ${result.stderr}`);
      equal(result.stderr, "", `${name} ${flag}`);
      ok(
        new RegExp(`^Usage: bftp ${name}\\b`, "m").test(result.stdout),
        `${name} ${flag}:\n${result.stdout}`,
      );
    }
  }
  const viaHelp = await runBftp(["help", "get"]);
  equal(viaHelp.code, 0);
  ok(viaHelp.stdout.startsWith("Usage: bftp get"), viaHelp.stdout);
});

Deno.test("e2e: bftp --version prints the version", async () => {
  for (const flag of ["--version", "-V"]) {
    const result = await runBftp([flag]);
    equal(result.code, 0);
    equal(result.stderr, "");
    ok(result.stdout.startsWith(`bftp ${VERSION} (deno `), result.stdout);
    equal(result.stdout.split("\n").length, 2, result.stdout);
  }
});

Deno.test("e2e: an unknown command exits 2 with one line on stderr", async () => {
  assertFailure(await runBftp(["fetch", "x"]), 2, /^bftp: Unknown command "fetch"/);
});

Deno.test("e2e: an unknown or incomplete flag exits 2 with one line on stderr", async () => {
  assertFailure(await runBftp(["ls", "--bogus", "bftp://127.0.0.1:1/"]), 2, /"--bogus"/);
  assertFailure(await runBftp(["get", "-z", "bftp://127.0.0.1:1/a"]), 2, /"-z"/);
  assertFailure(await runBftp(["serve", "--port"]), 2, /--port/);
  assertFailure(await runBftp(["serve", "--port", "70000"]), 2, /"70000"/);
  assertFailure(await runBftp(["get"]), 2, /Missing URL/);
  assertFailure(await runBftp(["mv", "bftp://127.0.0.1:1/a"]), 2);
  assertFailure(await runBftp(["rmdir"]), 2, /Missing URL/);
});

Deno.test("e2e: bftp runs through a symbolic link to it (one in ~/bin, say)", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.symlink(BFTP_BIN, `${dir}/bftp`);
  const out = await new Deno.Command(`${dir}/bftp`, { args: ["--version"] }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  ok(new TextDecoder().decode(out.stdout).startsWith(`bftp ${VERSION}`));
});

Deno.test({
  name: "e2e: scripts/bftp runs Deno without its update check (no call to dl.deno.land)",
  // The script's own environment; a compiled binary (BFTP_BIN) has no update check to turn off.
  ignore: Deno.build.os !== "linux" || Deno.env.has("BFTP_BIN"),
  fn: async () => {
    await using dir = await tempDir();
    await using server = await startServe(dir.path);
    // scripts/bftp ends in `exec`: the server's process is Deno itself.
    const environ = await Deno.readTextFile(`/proc/${server.process.pid}/environ`);
    ok(environ.split("\0").includes("DENO_NO_UPDATE_CHECK=1"), "DENO_NO_UPDATE_CHECK=1 is set");
    ok((await Deno.readLink(`/proc/${server.process.pid}/exe`)).endsWith("deno"));
  },
});
