import { equal, ok, rejects } from "node:assert/strict";
import { ConnectionError, TimeoutError, TlsError } from "../../lib/errors.ts";
import { readFull } from "../../lib/framing/read_exact.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { connectTransport } from "../../lib/transport/connect.ts";
import { parseFingerprint } from "../../lib/transport/fingerprint.ts";
import { listenTransport } from "../../lib/transport/listen.ts";
import type { ClientTlsOptions, TransportConn } from "../../lib/transport/types.ts";
import { caSigned, selfSigned, type TestCert } from "./certs.ts";
import { tempDir } from "../helpers.ts";

/** A TLS (or plain) server that echoes one message of up to 64 KiB per connection. */
function echoServer(cert?: TestCert) {
  const listener = listenTransport({
    hostname: "127.0.0.1",
    port: 0,
    tls: cert && { cert: cert.certPem, key: cert.keyPem },
  });
  const served = (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          const buf = new Uint8Array(65536);
          const n = await conn.read(buf);
          if (n) await writeAll(conn, buf.subarray(0, n));
        } catch {
          // A client that refused our certificate: nothing to echo.
        } finally {
          conn.close();
        }
      })();
    }
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

async function roundTrip(conn: TransportConn): Promise<string> {
  try {
    await writeAll(conn, new TextEncoder().encode("ping"));
    return new TextDecoder().decode(await readFull(conn, new Uint8Array(4), "echo"));
  } finally {
    conn.close();
  }
}

const connect = (port: number, tls: ClientTlsOptions, hostname = "127.0.0.1") =>
  connectTransport({ hostname, port, tls, timeout: 5 });

async function withCerts(fn: (dir: string) => Promise<void>): Promise<void> {
  await using tmp = await tempDir();
  await fn(tmp.path);
}

Deno.test("transport: TLS with --cacert trusts a self-signed certificate, as openssl req -x509 makes it or not", async () => {
  await withCerts(async (dir) => {
    for (const ca of [true, false]) {
      const cert = await selfSigned(dir, `s${ca}`, { ca });
      await using server = echoServer(cert);
      equal(await roundTrip(await connect(server.port, { caCerts: [cert.certPem] })), "ping");
      equal(
        await roundTrip(await connect(server.port, { caCerts: [cert.certPem] }, "localhost")),
        "ping",
      );
    }
  });
});

Deno.test("transport: TLS with --cacert trusts a leaf its CA signed, and nothing else", async () => {
  await withCerts(async (dir) => {
    const { ca, leaf } = await caSigned(dir);
    const other = await selfSigned(dir, "other");
    await using server = echoServer(leaf);
    equal(await roundTrip(await connect(server.port, { caCerts: [ca.certPem] })), "ping");
    await rejects(
      connect(server.port, { caCerts: [other.certPem] }),
      (e) => e instanceof TlsError && /not signed by a trusted authority/.test(e.message),
    );
  });
});

Deno.test("transport: a pinned fingerprint is accepted with or without colons, in any case", async () => {
  await withCerts(async (dir) => {
    const cert = await selfSigned(dir);
    await using server = echoServer(cert);
    const forms = [
      cert.fingerprint,
      cert.fingerprint.toLowerCase(),
      cert.fingerprint.replace(/:/g, ""),
      cert.fingerprint.replace(/:/g, "").toLowerCase(),
    ];
    for (const form of forms) {
      const conn = await connect(server.port, { fingerprint: parseFingerprint(form) });
      equal(await roundTrip(conn), "ping", form);
    }
  });
});

Deno.test("transport: a pinned fingerprint refuses any other certificate, before a byte is sent", async () => {
  await withCerts(async (dir) => {
    const cert = await selfSigned(dir, "a");
    const other = await selfSigned(dir, "b");
    await using server = echoServer(cert);
    await rejects(
      connect(server.port, { fingerprint: parseFingerprint(other.fingerprint) }),
      (e) =>
        e instanceof TlsError && e.message.includes(cert.fingerprint) &&
        e.message.includes(other.fingerprint),
    );
  });
});

Deno.test("transport: without --cacert or --fingerprint a self-signed server is refused, with the way out", async () => {
  await withCerts(async (dir) => {
    const cert = await selfSigned(dir);
    await using server = echoServer(cert);
    await rejects(
      connect(server.port, {}),
      (e) =>
        e instanceof TlsError && /self-signed/.test(e.message) &&
        /--fingerprint/.test(e.message) && /--cacert/.test(e.message),
    );
  });
});

Deno.test("transport: a TLS client never falls back to plain TCP with a plain server", async () => {
  // A plain server that records what it receives and answers like a BFTP server would.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: number[] = [];
  const serving = (async () => {
    for (let i = 0; i < 2; i++) {
      const conn = await listener.accept();
      try {
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf);
        if (n) received.push(buf[0]!);
        await writeAll(conn, new TextEncoder().encode('0000000b{"ok":true}'));
      } catch {
        // The client hung up first.
      } finally {
        conn.close();
      }
    }
  })();
  const port = listener.addr.port;
  await rejects(connect(port, {}), (e) => e instanceof TlsError && /TLS handshake/.test(e.message));
  await rejects(
    connect(port, { fingerprint: parseFingerprint("ab".repeat(32)) }),
    (e) => e instanceof TlsError,
  );
  await serving;
  // Both clients opened with a TLS handshake record (0x16), never with plain text.
  equal(received.length, 2);
  ok(received.every((b) => b === 0x16), `first bytes ${received}`);
});

Deno.test("transport: a TLS server that never answers the handshake times out", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for (let i = 0; i < 2; i++) held.push(await listener.accept());
  })();
  try {
    for (const tls of [{}, { fingerprint: parseFingerprint("ab".repeat(32)) }]) {
      const started = performance.now();
      await rejects(
        connectTransport({ hostname: "127.0.0.1", port: listener.addr.port, tls, timeout: 0.3 }),
        TimeoutError,
      );
      ok(performance.now() - started < 3000);
    }
  } finally {
    await accepting;
    for (const c of held) c.close();
  }
});

Deno.test("transport: a refused connection is a connection error, over TLS too", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  for (const tls of [undefined, {}, { fingerprint: parseFingerprint("ab".repeat(32)) }]) {
    await rejects(
      connectTransport({ hostname: "127.0.0.1", port, tls }),
      (e) => e instanceof ConnectionError && /refused/.test(e.message),
    );
  }
});

Deno.test("transport: a pinned connection carries a large body both ways", async () => {
  await withCerts(async (dir) => {
    const cert = await selfSigned(dir);
    const listener = listenTransport({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: cert.certPem, key: cert.keyPem },
    });
    const SIZE = 8 << 20;
    const server = (async () => {
      const conn = await listener.accept();
      try {
        // Echo everything back, as it comes.
        const buf = new Uint8Array(1 << 16);
        let total = 0;
        while (total < SIZE) {
          const n = await conn.read(buf);
          if (n === null) break;
          await writeAll(conn, buf.subarray(0, n));
          total += n;
        }
        return total;
      } finally {
        conn.close();
      }
    })();
    try {
      const conn = await connect(listener.addr.port, {
        fingerprint: parseFingerprint(cert.fingerprint),
      });
      try {
        const data = crypto.getRandomValues(new Uint8Array(65536));
        const sending = (async () => {
          for (let sent = 0; sent < SIZE; sent += data.byteLength) await writeAll(conn, data);
        })();
        const back = await readFull(conn, new Uint8Array(SIZE), "echo");
        await sending;
        equal(back.subarray(SIZE - 65536).toString(), data.toString());
        equal(await conn.read(new Uint8Array(1)), null);
      } finally {
        conn.close();
      }
      equal(await server, SIZE);
    } finally {
      listener.close();
    }
  });
});
