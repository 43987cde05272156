import { equal, ok, rejects } from "node:assert/strict";
import { generateFile } from "../../lib/check/files.ts";
import { runCheck } from "../../lib/check/run.ts";
import { remoteTarget } from "../../lib/check/target.ts";
import { checkCommand } from "../../lib/cli/check.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { IntegrityError } from "../../lib/errors.ts";
import {
  type FakeBftpServer,
  frame,
  readSizedBody,
  type Script,
  type ScriptAfter,
  sendSizedBody,
  startScriptedBftpServer,
} from "../e2e/fake_bftp_server.ts";
import { sha256, tempDir } from "../helpers.ts";

/** How the chosen GET goes wrong. */
type GetFault =
  /** One byte in the middle is flipped; the trailer hashes the flipped bytes. */
  | "flip"
  /** The last byte is missing; the reply's size and the trailer agree with that. */
  | "short"
  /** The connection is closed halfway through the body. */
  | "cut";

/**
 * Answers a GET of `content`, the `fault` done to it: a spoiled body is
 * self-consistent (its announced size and SHA-256 trailer match the bytes
 * sent), so the client's own checks pass and only an end-to-end comparison
 * with the source can catch it; or the connection is cut in the body.
 */
async function sendGet(
  send: (bytes: Uint8Array) => Promise<void>,
  content: Uint8Array,
  fault: GetFault | null,
): Promise<ScriptAfter> {
  let body = content;
  if (fault === "flip") {
    body = content.slice();
    body[body.byteLength >> 1]! ^= 0x01;
  } else if (fault === "short") {
    body = content.subarray(0, content.byteLength - 1);
  }
  return await sendSizedBody(send, body, sha256(body), fault === "cut");
}

/**
 * A script for the shared fake server, a test double for `bftp check`: it
 * keeps uploaded files in memory and answers MKDIR, PUT, HASH, LIST, DELETE
 * and RMDIR correctly, but spoils the body of one chosen GET (counted from 1
 * over the server's life) as `fault` says.
 */
function spoilingScript(fault: GetFault, spoilGet: number): Script {
  const files = new Map<string, Uint8Array>();
  let gets = 0;
  return async (req, send, read) => {
    const path = req.path ?? "";
    const content = files.get(path);
    const notFound = frame({ ok: false, code: "NOT_FOUND", message: `"${path}" not found` });
    switch (req.op) {
      case "MKDIR":
      case "RMDIR":
        return await send(frame({ ok: true }));
      case "PUT": {
        await send(frame({ ok: true, ready: true }));
        const body = await readSizedBody(read);
        if (body === null) return "close";
        files.set(path, body.content);
        const reply = { ok: true, size: body.content.byteLength, sha256: sha256(body.content) };
        return await send(frame(reply));
      }
      case "HASH":
        return await send(
          content
            ? frame({ ok: true, size: content.byteLength, sha256: sha256(content) })
            : notFound,
        );
      case "GET":
        if (!content) return await send(notFound);
        return await sendGet(send, content, ++gets === spoilGet ? fault : null);
      case "LIST": {
        const prefix = path.endsWith("/") ? path : `${path}/`;
        const entries = [...files].filter(([p]) => p.startsWith(prefix)).map(([p, c]) => ({
          name: p.slice(prefix.length),
          type: "file",
          size: c.byteLength,
          mtime: 0,
          mode: 420,
        }));
        return await send(frame({ ok: true, entries }));
      }
      case "DELETE":
        files.delete(path);
        return await send(frame({ ok: true }));
      case "QUIT":
        return; // The fake answers it and hangs up.
      default:
        return await send(frame({ ok: false, code: "BAD_REQUEST", message: "Not in this double" }));
    }
  };
}

/** The shared fake server, run by {@linkcode spoilingScript}. */
function startFaultyServer(options: { fault: GetFault; spoilGet: number }): FakeBftpServer {
  return startScriptedBftpServer(spoilingScript(options.fault, options.spoilGet));
}

/** How many GETs the server answered. */
const getsOf = (server: FakeBftpServer) =>
  server.requests.filter((r) => r.startsWith("GET ")).length;

function captureIo(): { io: CliIo; stdout: () => string } {
  let out = "";
  const decoder = new TextDecoder();
  const sink = (p: Uint8Array) => Promise.resolve(p.byteLength);
  return {
    io: {
      stdin: { read: () => Promise.resolve(null) },
      stdout: { write: (p) => (out += decoder.decode(p), Promise.resolve(p.byteLength)) },
      stderr: { write: sink },
      stdinIsTerminal: false,
      stderrIsTerminal: false,
      env: () => undefined,
      signal: new AbortController().signal,
    },
    stdout: () => out,
  };
}

Deno.test("check/faults: a GET body with one byte flipped (and a matching trailer) is a mismatch", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await using server = startFaultyServer({ fault: "flip", spoilGet: 2 });
  const file = await generateFile(dir, 64 * 1024);
  const report = await runCheck({
    target: remoteTarget(`bftp://127.0.0.1:${server.port}/`),
    files: [file],
    workDir: dir,
    iterations: 3,
  });
  equal(report.passed, false);
  equal(report.failures.length, 1, JSON.stringify(report.failures));
  const f = report.failures[0]!;
  equal(`${f.file} ${f.direction} ${f.iteration} ${f.outcome}`, "64KiB.bin get 2 mismatch");
  equal(f.expectedSha256, file.sha256);
  const flipped = await Deno.readFile(file.path);
  flipped[flipped.byteLength >> 1]! ^= 0x01;
  equal(f.actualSha256, sha256(flipped));
  ok(f.message.includes(file.sha256) && f.message.includes(f.actualSha256!), f.message);
  const gets = report.summaries.find((s) => s.direction === "get")!;
  equal(gets.mismatches, 1);
  equal(gets.verdicts.identity.status, "fail");
  equal(report.summaries.find((s) => s.direction === "put")!.passed, true);
});

Deno.test("check/faults: bftp check exits 6 and names the file, iteration and both hashes", async () => {
  await using server = startFaultyServer({ fault: "flip", spoilGet: 3 });
  const { io, stdout } = captureIo();
  const run = checkCommand.run([
    `bftp://127.0.0.1:${server.port}/`,
    "--sizes",
    "4KiB",
    "--iterations",
    "3",
  ], io);
  await rejects(run, (e: unknown) => {
    ok(e instanceof IntegrityError, String(e));
    equal(e.exitCode, 6);
    ok(
      /"4KiB\.bin" GET iteration 3 arrived different: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/
        .test(e.message),
      e.message,
    );
    return true;
  });
  ok(/"4KiB\.bin" GET iteration 3: mismatch/.test(stdout()), stdout());
  ok(/Verdict: FAIL/.test(stdout()));
});

Deno.test("check/faults: a GET body one byte short (size and trailer agreeing) is a mismatch", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await using server = startFaultyServer({ fault: "short", spoilGet: 1 });
  const file = await generateFile(dir, 8 * 1024);
  const report = await runCheck({
    target: remoteTarget(`bftp://127.0.0.1:${server.port}/`),
    files: [file],
    workDir: dir,
    iterations: 2,
  });
  equal(report.failures.length, 1, JSON.stringify(report.failures));
  const f = report.failures[0]!;
  equal(`${f.file} ${f.direction} ${f.iteration} ${f.outcome}`, "8KiB.bin get 1 mismatch");
  ok(f.message.startsWith(`${8 * 1024 - 1} bytes arrived`), f.message);
  equal(report.iterations.find((r) => r.direction === "get" && r.iteration === 1)!.bytes, 8191);
  equal(report.passed, false);
});

Deno.test("check/faults: a GET cut halfway is an error, and the run goes on over a new session", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await using server = startFaultyServer({ fault: "cut", spoilGet: 1 });
  const file = await generateFile(dir, 256 * 1024);
  const report = await runCheck({
    target: remoteTarget(`bftp://127.0.0.1:${server.port}/`),
    files: [file],
    workDir: dir,
    iterations: 3,
    // The GETs of the iterations only: no request probe after them.
    probeRequests: 0,
  });
  equal(report.failures.length, 1, JSON.stringify(report.failures));
  const f = report.failures[0]!;
  equal(`${f.file} ${f.direction} ${f.iteration} ${f.outcome}`, "256KiB.bin get 1 error");
  ok(/closed/i.test(f.message), f.message);
  equal(getsOf(server), 3, "iterations 2 and 3 ran after the cut");
  ok(
    report.iterations.filter((r) => r.iteration > 1).every((r) => r.outcome === "ok"),
    "later iterations pass",
  );
});
