/**
 * End-to-end: `bftp send` and `bftp recv` over TLS. The listening end is
 * the TLS server (--tls-cert/--tls-key, and it prints its fingerprint); the
 * connecting end trusts it with --cacert or --fingerprint (or --tls and the
 * root CAs). Neither end ever falls back to plain TCP.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { selfSigned, type TestCert } from "../transport/certs.ts";
import {
  assertFailure,
  BFTP_BIN,
  runBftp,
  sha256File,
  tempDir,
  waitFor,
  writeRandomFile,
} from "./helpers.ts";
import { silentListener } from "../helpers.ts";

/** The flags that make a listening end serve TLS with `cert`. */
function tlsFlags(cert: TestCert): string[] {
  return ["--tls-cert", cert.certPath, "--tls-key", cert.keyPath];
}

/** Starts the listening end and waits for its address and fingerprint. */
async function listening(args: string[], cwd: string) {
  const child = new Deno.Command(BFTP_BIN, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  const stdout = new Response(child.stdout).arrayBuffer();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  await waitFor(() => {
    if (exited && !/listening on/.test(stderr)) throw new Error(`exited: ${stderr}`);
    return /listening on (tcp|tls):\/\/\S+:\d+\n/.test(stderr);
  }, "the listening line");
  const m = /listening on (tcp|tls):\/\/\S+:(\d+)\n/.exec(stderr)!;
  return {
    scheme: m[1]!,
    address: `127.0.0.1:${m[2]}`,
    fingerprint: /fingerprint sha256 (\S+)\n/.exec(stderr)?.[1],
    async finish() {
      const { code } = await status;
      await stderrDone;
      return { code, stdout: new Uint8Array(await stdout), stderr };
    },
    kill() {
      if (!exited) child.kill("SIGKILL");
    },
  };
}

Deno.test("e2e: recv --listen over TLS, send pinning its fingerprint or trusting its certificate", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  const hash = await writeRandomFile(dir.join("data.bin"), 4_000_000);
  for (const [i, trust] of [["--fingerprint"], ["--cacert", cert.certPath]].entries()) {
    const recv = await listening(
      [
        "recv",
        "--listen",
        "0",
        `out${i}.bin`,
        ...tlsFlags(cert),
      ],
      dir.path,
    );
    try {
      equal(recv.scheme, "tls");
      equal(recv.fingerprint, cert.fingerprint);
      const pin = trust[0] === "--fingerprint"
        ? [trust[0], cert.fingerprint.replaceAll(":", "")]
        : trust;
      const send = await runBftp(["send", dir.join("data.bin"), recv.address, ...pin]);
      equal(send.code, 0, send.stderr);
      const done = await recv.finish();
      equal(done.code, 0, done.stderr);
      equal(await sha256File(dir.join(`out${i}.bin`)), hash);
    } finally {
      recv.kill();
    }
  }
});

Deno.test("e2e: send --listen over TLS, recv connecting with a pin, to stdout", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  const hash = await writeRandomFile(dir.join("data.bin"), 1_000_000);
  const send = await listening(
    ["send", "data.bin", "--listen", "0", ...tlsFlags(cert)],
    dir.path,
  );
  try {
    const recv = await runBftp(["recv", send.address, "--fingerprint", cert.fingerprint]);
    equal(recv.code, 0, recv.stderr);
    equal(recv.stdoutBytes.byteLength, 1_000_000);
    equal((await send.finish()).code, 0);
    const copy = dir.join("copy.bin");
    await Deno.writeFile(copy, recv.stdoutBytes);
    equal(await sha256File(copy), hash);
  } finally {
    send.kill();
  }
});

Deno.test("e2e: a TLS pipe end never talks plain TCP, and a wrong pin is refused", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  const other = await selfSigned(dir.path, "other");
  await writeRandomFile(dir.join("data.bin"), 100_000);
  // A TLS sender against a plain receiver: the sender stops (exit 8), nothing is written.
  const plainRecv = await listening(
    ["recv", "--listen", "0", "--timeout", "5", "out.bin"],
    dir.path,
  );
  try {
    assertFailure(
      await runBftp(["send", dir.join("data.bin"), plainRecv.address, "--tls"]),
      8,
      /TLS handshake/,
    );
    const done = await plainRecv.finish();
    ok(done.code !== 0, "the plain receiver got no valid stream");
  } finally {
    plainRecv.kill();
  }
  // A pin that is not the receiver's certificate: refused before a byte of data moves.
  const tlsRecv = await listening(
    [
      "recv",
      "--listen",
      "0",
      "--timeout",
      "5",
      "out2.bin",
      ...tlsFlags(cert),
    ],
    dir.path,
  );
  try {
    const wrong = await runBftp([
      "send",
      dir.join("data.bin"),
      tlsRecv.address,
      "--fingerprint",
      other.fingerprint,
    ]);
    assertFailure(wrong, 8, /fingerprint/);
    // The sender hung up right after the handshake: the receiver got no stream.
    const done = await tlsRecv.finish();
    equal(done.code, 4, done.stderr);
  } finally {
    tlsRecv.kill();
  }
  // The other way round: a listening TLS sender whose receiver refuses its pin says the peer
  // closed the connection (exit 4), not node's "Cannot call write after a stream was destroyed".
  // More than the sockets' buffers can hold (a few MiB), or the sender could finish its writes
  // into them before the receiver hangs up, and exit 0 (as a plain sender may).
  await writeRandomFile(dir.join("big.bin"), 32 << 20);
  const tlsSend = await listening(
    [
      "send",
      dir.join("big.bin"),
      "--listen",
      "0",
      "-q",
      ...tlsFlags(cert),
    ],
    dir.path,
  );
  try {
    const refusing = await runBftp([
      "recv",
      tlsSend.address,
      "out3.bin",
      "--fingerprint",
      other.fingerprint,
    ]);
    assertFailure(refusing, 8, /fingerprint/);
    const done = await tlsSend.finish();
    // Cut off (exit 4), in words; or, when all its bytes fitted in the sockets' buffers before the
    // hang-up, done as far as it can tell (exit 0, as a plain sender may: PIPE.md).
    ok(done.code === 4 || done.code === 0, `exit ${done.code}: ${done.stderr}`);
    if (done.code === 4) {
      ok(/^bftp: Connection lost: the peer closed it$/m.test(done.stderr), done.stderr);
    }
    ok(!/stream was destroyed/.test(done.stderr), done.stderr);
  } finally {
    tlsSend.kill();
  }
  const names = [...Deno.readDirSync(dir.path)].map((e) => e.name);
  ok(!names.includes("out.bin") && !names.includes("out2.bin"), names.join(","));
  assertFailure(
    await runBftp(["send", "x", "--listen", "0", "--fingerprint", cert.fingerprint]),
    2,
    /connecting end/,
  );
  assertFailure(
    await runBftp(["recv", "127.0.0.1:9", ...tlsFlags(cert)]),
    2,
    /listening end/,
  );
});

Deno.test("e2e: a TLS connecting end with --timeout 0 gives up on a peer that accepts and never speaks", async () => {
  // Found by an audit: --timeout 0 left the handshake without any limit, and recv hung for ever.
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await using silent = silentListener();
  const started = performance.now();
  const result = await runBftp([
    "recv",
    `127.0.0.1:${silent.port}`,
    "--cacert",
    cert.certPath,
    "--timeout",
    "0",
  ]);
  const seconds = (performance.now() - started) / 1000;
  equal(result.code, 7, result.stderr);
  ok(seconds < 30, `gave up after ${seconds} s`);
});
