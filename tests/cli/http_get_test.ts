import { deepEqual, ok, rejects } from "node:assert/strict";
import { ConnectionError } from "../../lib/errors.ts";
import { httpGetCommand } from "../../lib/cli/http_get.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { ScriptedServer } from "../http/scripted_server.ts";
import { tempDir } from "../helpers.ts";

/** A console with captured streams. */
function fakeIo(stderrIsTerminal: boolean, signal = new AbortController().signal) {
  const decoder = new TextDecoder();
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    stdin: { read: () => Promise.resolve(null) },
    stdout: { write: (p) => (out.stdout += decoder.decode(p), Promise.resolve(p.byteLength)) },
    stderr: { write: (p) => (out.stderr += decoder.decode(p), Promise.resolve(p.byteLength)) },
    stdinIsTerminal: false,
    stderrIsTerminal,
    env: () => undefined,
    signal,
  };
  return { io, out };
}

const MiB = 1048576;

Deno.test("cli: http-get shows progress on a terminal stderr, not with -q", async () => {
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.send(`HTTP/1.0 200 OK\r\nContent-Length: ${MiB}\r\n\r\n`);
    await ctx.send(new Uint8Array(MiB));
  });
  await using tmp = await tempDir();
  const dir = tmp.path;
  const shown = fakeIo(true);
  deepEqual(
    await httpGetCommand.run([server.url("/big.bin"), "-o", `${dir}/big.bin`], shown.io),
    0,
  );
  ok(shown.out.stderr.includes("big.bin  1.0 MiB / 1.0 MiB (100%)"), shown.out.stderr);
  ok(shown.out.stderr.endsWith("\n"));
  deepEqual((await Deno.stat(`${dir}/big.bin`)).size, MiB);

  const quiet = fakeIo(true);
  deepEqual(
    await httpGetCommand.run(["-q", server.url("/big.bin"), "-o", `${dir}/q`], quiet.io),
    0,
  );
  deepEqual(quiet.out.stderr, "");
  const piped = fakeIo(false);
  deepEqual(await httpGetCommand.run([server.url("/big.bin")], piped.io), 0);
  deepEqual([piped.out.stderr, piped.out.stdout.length], ["", MiB]);
});

Deno.test("cli: http-get -o - writes to stdout, -H headers reach the server", async () => {
  await using server = new ScriptedServer(async (req, ctx) => {
    const token = req.headers.find((h) => h.startsWith("X-Token: ")) ?? "none";
    await ctx.send(`HTTP/1.0 200 OK\r\n\r\n${token}`);
  });
  const { io, out } = fakeIo(false);
  deepEqual(await httpGetCommand.run(["-o", "-", "-H", "X-Token: abc", server.url("/")], io), 0);
  deepEqual(out.stdout, "X-Token: abc");
});

Deno.test("cli: http-get interrupted by its signal leaves no FILE", async () => {
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.send(`HTTP/1.0 200 OK\r\nContent-Length: ${MiB}\r\n\r\npartial`);
    await ctx.closing;
  });
  await using tmp = await tempDir();
  const dir = tmp.path;
  const controller = new AbortController();
  const { io } = fakeIo(false, controller.signal);
  setTimeout(() => controller.abort(), 100);
  await rejects(
    httpGetCommand.run([server.url("/"), "-o", `${dir}/f`, "--timeout", "0"], io),
    (e: unknown) => e instanceof ConnectionError && e.message.startsWith("Interrupted"),
  );
  deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
});

Deno.test("cli: http-get -i escapes what a terminal would act on in the headers, only on a terminal", async () => {
  // Found by an audit: C1 controls and bidi characters of a server's headers reached the terminal.
  await using server = new ScriptedServer(async (_req, ctx) => {
    await ctx.send(
      new TextEncoder().encode("HTTP/1.0 200 OK\r\nX-Note: a\u202eb\u009bc\r\n\r\nbody\u202e"),
    );
  });
  const terminal = fakeIo(false);
  terminal.io.stdoutIsTerminal = true;
  deepEqual(await httpGetCommand.run(["-i", "-q", server.url("/")], terminal.io), 0);
  ok(terminal.out.stdout.includes("X-Note: a\\u{202e}b\\x9bc\r\n\r\n"), terminal.out.stdout);
  // The body is the payload: as received, as curl writes it.
  ok(terminal.out.stdout.endsWith("body\u202e"), terminal.out.stdout);
  const piped = fakeIo(false);
  deepEqual(await httpGetCommand.run(["-i", "-q", server.url("/")], piped.io), 0);
  ok(piped.out.stdout.includes("X-Note: a\u202eb\u009bc\r\n"), piped.out.stdout);
});
