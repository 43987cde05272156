/**
 * End-to-end: `bftp echo-server --tls-cert/--tls-key` on two workers, and
 * `bftp echo` over TLS in message and load mode, pinning the fingerprint
 * the server printed or trusting its certificate.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { selfSigned } from "../transport/certs.ts";
import { assertFailure, BFTP_BIN, runBftp, tempDir, waitFor } from "./helpers.ts";

Deno.test("e2e: echo over TLS, pinned or trusted, in message and load mode; plain clients are not answered", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  const server = new Deno.Command(BFTP_BIN, {
    args: [
      "echo-server",
      "--port",
      "0",
      "--workers",
      "2",
      "--tls-cert",
      cert.certPath,
      "--tls-key",
      cert.keyPath,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const reading = Promise.all([
    (async () => {
      for await (const t of server.stdout.pipeThrough(new TextDecoderStream())) stdout += t;
    })(),
    (async () => {
      for await (const t of server.stderr.pipeThrough(new TextDecoderStream())) stderr += t;
    })(),
  ]);
  try {
    await waitFor(() => /listening on tls:\/\/\S+\n/.test(stdout), "the listening line");
    const addr = /listening on tls:\/\/(\S+)\n/.exec(stdout)![1]!;
    await waitFor(
      () => stderr.includes(`fingerprint sha256 ${cert.fingerprint}`),
      "the fingerprint",
    );
    const pinned = await runBftp([
      "echo",
      addr,
      "hello",
      "world",
      "--fingerprint",
      cert.fingerprint,
    ]);
    equal(pinned.code, 0, pinned.stderr);
    equal(pinned.stdout, "hello\nworld\n");
    const load = await runBftp([
      "echo",
      addr,
      "--connections",
      "8",
      "--count",
      "50",
      "--json",
      "--cacert",
      cert.certPath,
    ]);
    equal(load.code, 0, load.stderr);
    equal(JSON.parse(load.stdout).roundTrips, 400);
    // A plain client gets no echo; a client trusting only the root CAs refuses the server.
    assertFailure(await runBftp(["echo", addr, "hi", "--timeout", "5"]), 4);
    assertFailure(await runBftp(["echo", addr, "hi", "--tls"]), 8, /self-signed/);
    const other = await selfSigned(dir.path, "other");
    assertFailure(
      await runBftp(["echo", addr, "hi", "--fingerprint", other.fingerprint]),
      8,
      /fingerprint/,
    );
  } finally {
    server.kill("SIGINT");
    const status = await server.status;
    await reading;
    equal(status.code, 0, stderr);
  }
  // The stats printed at exit count the TLS connections too (1 + 8 + 3 refused).
  const total = Number(/total: (\d+) connections/.exec(stderr)?.[1]);
  ok(total >= 9, stderr);
});
