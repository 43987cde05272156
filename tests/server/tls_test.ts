import { equal, ok, rejects } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { ConnectionError, TlsError } from "../../lib/errors.ts";
import { TokenSet } from "../../lib/server/auth.ts";
import { startServerPool } from "../../lib/server/pool.ts";
import { parseFingerprint } from "../../lib/transport/fingerprint.ts";
import { MemoryReader, MemoryWriter, randomBytes, seededRandom } from "../framing/helpers.ts";
import { selfSigned } from "../transport/certs.ts";
import { startTestServer } from "./helpers.ts";
import { hashIn, sha256, tempDir, waitFor } from "../helpers.ts";

Deno.test("server: a TLS server moves files both ways for pinned and CA-trusting clients", async () => {
  await using certTmp = await tempDir();
  const cert = await selfSigned(certTmp.path);
  await using srv = await startTestServer({
    server: { tls: { cert: cert.certPem, key: cert.keyPem } },
  });
  const data = randomBytes(seededRandom(7), 3_000_000);
  for (
    const tls of [
      { fingerprint: parseFingerprint(cert.fingerprint) },
      { caCerts: [cert.certPem] },
    ]
  ) {
    using client = await srv.connect({ tls });
    const result = await client.put("up.bin", new MemoryReader(data, [65536]), {
      size: data.byteLength,
    });
    equal(result.hash, await hashIn("xxh3-128", data));
    const sink = new MemoryWriter();
    const got = await client.get("up.bin", sink);
    equal(got.hash, await hashIn("xxh3-128", data));
    equal(sha256(sink.bytes), sha256(data));
    await client.quit();
  }
});

Deno.test("server: a plain client and a TLS server fail clearly, each way round", async () => {
  await using certTmp = await tempDir();
  const cert = await selfSigned(certTmp.path);
  await using tlsServer = await startTestServer({
    server: { tls: { cert: cert.certPem, key: cert.keyPem } },
  });
  await rejects(
    tlsServer.connect(),
    (e) =>
      e instanceof ConnectionError &&
      /may be full, speak TLS \(a bftps:\/\/ URL\), or not be a BFTP server/.test(e.message),
  );
  await tlsServer.waitForConnections(0);
  ok(tlsServer.log.some((l) => /TLS handshake failed/.test(l)), tlsServer.log.join("\n"));
  await using plainServer = await startTestServer();
  await rejects(
    plainServer.connect({ tls: { fingerprint: parseFingerprint(cert.fingerprint) } }),
    (e) => e instanceof TlsError && /TLS handshake/.test(e.message),
  );
  // The plain server never saw a BFTP hello: only a wrong hello (the TLS ClientHello).
  ok(!plainServer.log.some((l) => / PWD | GET /.test(l)));
});

Deno.test("server: a TLS client that stalls its handshake is dropped by the handshake timeout", async () => {
  await using certTmp = await tempDir();
  const cert = await selfSigned(certTmp.path);
  await using srv = await startTestServer({
    server: { tls: { cert: cert.certPem, key: cert.keyPem }, handshakeTimeout: 0.3 },
  });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
  const started = performance.now();
  equal(await conn.read(new Uint8Array(16)), null);
  ok(performance.now() - started < 3000);
  await srv.waitForConnections(0);
});

Deno.test("server: a TLS connection closed before its handshake frees its place at once, not at the handshake timeout", async () => {
  await using certTmp = await tempDir();
  const cert = await selfSigned(certTmp.path);
  await using srv = await startTestServer({
    server: {
      tls: { cert: cert.certPem, key: cert.keyPem },
      handshakeTimeout: 30,
      maxPerClient: 1,
    },
  });
  // A probe (nc -z): connects, and closes without a byte.
  const probe = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
  probe.close();
  // Long enough for the server to take the probe and see it closed; far from the 30 s timeout.
  await waitFor(() => srv.log.some((l) => /TLS handshake failed/.test(l)), "the probe's end");
  using client = await srv.connect({ tls: { fingerprint: parseFingerprint(cert.fingerprint) } });
  equal(await client.pwd(), "/");
  ok(srv.log.some((l) => /TLS handshake failed: Connection closed/.test(l)), srv.log.join("\n"));
  ok(!srv.log.some((l) => /no complete handshake/.test(l)), srv.log.join("\n"));
});

Deno.test("server: a pool of 2 TLS workers with tokens serves pinned clients on one port", async () => {
  await using tmp = await tempDir();
  await using certTmp = await tempDir();
  const cert = await selfSigned(certTmp.path);
  const tokens = new TokenSet();
  tokens.add("pool-token", "rw");
  const workersSeen = new Set<number>();
  const pool = await startServerPool({
    rootPath: tmp.path,
    workers: 2,
    port: 0,
    tls: { cert: cert.certPem, key: cert.keyPem },
    tokens,
    log: (line, worker) => {
      if (worker !== undefined && / AUTH ok/.test(line)) workersSeen.add(worker);
    },
  });
  try {
    const tls = { fingerprint: parseFingerprint(cert.fingerprint) };
    const hashes = await Promise.all(Array.from({ length: 16 }, async (_, i) => {
      const data = randomBytes(seededRandom(100 + i), 50_000 + i);
      const client = await BftpClient.connect({
        hostname: "127.0.0.1",
        port: pool.addr.port,
        tls,
        token: "pool-token",
      });
      try {
        await client.put(`f${i}.bin`, new MemoryReader(data), { size: data.byteLength });
        const sink = new MemoryWriter();
        await client.get(`f${i}.bin`, sink);
        return sha256(sink.bytes) === sha256(data);
      } finally {
        await client.quit();
      }
    }));
    ok(hashes.every(Boolean));
    // The kernel spreads connections over both TLS listeners (SO_REUSEPORT).
    equal(workersSeen.size, 2, `workers that served: ${[...workersSeen]}`);
    await rejects(
      BftpClient.connect({ hostname: "127.0.0.1", port: pool.addr.port, tls }),
      (e) => e instanceof Error && /token/.test(e.message),
    );
  } finally {
    await pool.close();
  }
});
