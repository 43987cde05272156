/**
 * End-to-end: `bftp serve --tls-cert/--tls-key` and bftps:// clients that
 * trust it with --cacert or a pinned --fingerprint; no downgrade either way.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { selfSigned, type TestCert } from "../transport/certs.ts";
import {
  assertFailure,
  runBftp,
  sha256File,
  startServe,
  tempDir,
  waitFor,
  writeRandomFile,
} from "./helpers.ts";

async function tlsServe(root: string, cert: TestCert, extra: string[] = []) {
  return await startServe(root, ["--tls-cert", cert.certPath, "--tls-key", cert.keyPath, ...extra]);
}

Deno.test("e2e: bftp serve over TLS prints its fingerprint, as openssl computes it", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await Deno.mkdir(dir.join("root"));
  await using server = await tlsServe(dir.join("root"), cert);
  ok(server.url.startsWith("bftps://127.0.0.1:"), server.url);
  await waitFor(
    () => server.stderrText().includes(`fingerprint sha256 ${cert.fingerprint}\n`),
    "the fingerprint line",
  );
});

Deno.test("e2e: get and put over bftps:// with --cacert, and with --fingerprint in any form", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await Deno.mkdir(dir.join("root"));
  const hash = await writeRandomFile(dir.join("root", "data.bin"), 3_000_000);
  await using server = await tlsServe(dir.join("root"), cert);
  const pins = [
    cert.fingerprint,
    cert.fingerprint.toLowerCase(),
    cert.fingerprint.replaceAll(":", ""),
    cert.fingerprint.replaceAll(":", "").toLowerCase(),
  ];
  const trusts = [["--cacert", cert.certPath], ...pins.map((p) => ["--fingerprint", p])];
  for (const [i, trust] of trusts.entries()) {
    const got = await runBftp([
      "get",
      `${server.url}/data.bin`,
      dir.join(`got${i}.bin`),
      ...trust!,
    ]);
    equal(got.code, 0, got.stderr);
    equal(await sha256File(dir.join(`got${i}.bin`)), hash);
  }
  const put = await runBftp([
    "put",
    dir.join("got0.bin"),
    `${server.url}/up.bin`,
    "--fingerprint",
    pins[2]!,
  ]);
  equal(put.code, 0, put.stderr);
  equal(await sha256File(dir.join("root", "up.bin")), hash);
  const ls = await runBftp(["ls", `${server.url}/`, "--cacert", cert.certPath]);
  equal(ls.code, 0, ls.stderr);
  equal(ls.stdout, "data.bin\nup.bin\n");
});

Deno.test("e2e: a wrong fingerprint, or no trust at all, is refused with exit 8", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path, "server");
  const other = await selfSigned(dir.path, "other");
  await Deno.mkdir(dir.join("root"));
  await Deno.writeTextFile(dir.join("root", "a.txt"), "secret");
  await using server = await tlsServe(dir.join("root"), cert);
  const wrong = await runBftp([
    "get",
    `${server.url}/a.txt`,
    "-",
    "--fingerprint",
    other.fingerprint,
  ]);
  assertFailure(wrong, 8, /fingerprint/);
  ok(wrong.stderr.includes(cert.fingerprint) && wrong.stderr.includes(other.fingerprint));
  const untrusted = await runBftp(["get", `${server.url}/a.txt`, "-"]);
  assertFailure(untrusted, 8, /self-signed.*--fingerprint/);
  const wrongCa = await runBftp(["get", `${server.url}/a.txt`, "-", "--cacert", other.certPath]);
  assertFailure(wrongCa, 8, /Cannot verify the certificate/);
  const badPin = await runBftp(["get", `${server.url}/a.txt`, "-", "--fingerprint", "12:34"]);
  assertFailure(badPin, 2, /Invalid fingerprint/);
});

Deno.test("e2e: no downgrade: bftps:// to a plain server fails, and bftp:// to a TLS server fails clearly", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await Deno.mkdir(dir.join("root"));
  await Deno.writeTextFile(dir.join("root", "a.txt"), "hello");
  await using plain = await startServe(dir.join("root"));
  const secureUrl = plain.url.replace("bftp://", "bftps://");
  for (const trust of [[], ["--fingerprint", cert.fingerprint], ["--cacert", cert.certPath]]) {
    const r = await runBftp(["get", `${secureUrl}/a.txt`, "-", ...trust]);
    assertFailure(r, 8, /TLS handshake/);
  }
  // The plain server never served a request: no GET in its log.
  equal(plain.logLines(/ GET /).length, 0);
  await using secure = await tlsServe(dir.join("root"), cert);
  const r = await runBftp(["get", `${secure.url.replace("bftps://", "bftp://")}/a.txt`, "-"]);
  assertFailure(r, 4, /may be full, speak TLS \(a bftps:\/\/ URL\), or not be a BFTP server/);
  const flags = await runBftp(["get", `${plain.url}/a.txt`, "-", "--cacert", cert.certPath]);
  assertFailure(flags, 2, /bftps:\/\//);
});

Deno.test("e2e: bftp serve --workers 2 serves TLS on every worker", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await Deno.mkdir(dir.join("root"));
  const hash = await writeRandomFile(dir.join("root", "w.bin"), 200_000);
  await using server = await tlsServe(dir.join("root"), cert, ["--workers", "2"]);
  const runs = await Promise.all(Array.from({ length: 6 }, (_, i) =>
    runBftp([
      "get",
      `${server.url}/w.bin`,
      dir.join(`w${i}.bin`),
      "--fingerprint",
      cert.fingerprint,
    ])));
  for (const [i, r] of runs.entries()) {
    equal(r.code, 0, r.stderr);
    equal(await sha256File(dir.join(`w${i}.bin`)), hash);
  }
  await waitFor(
    () => server.stderrText().includes(`fingerprint sha256 ${cert.fingerprint}`),
    "the fingerprint line",
  );
});

Deno.test("e2e: bftp serve refuses a missing or unusable certificate", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await Deno.writeTextFile(dir.join("junk.pem"), "not a certificate\n");
  const serve = (certPath: string, keyPath: string) =>
    runBftp(["serve", dir.path, "--port", "0", "--tls-cert", certPath, "--tls-key", keyPath]);
  assertFailure(
    await serve(dir.join("nope.pem"), cert.keyPath),
    3,
    /Cannot read the TLS certificate/,
  );
  assertFailure(await serve(dir.join("junk.pem"), cert.keyPath), 8, /No PEM certificate/);
  const half = await runBftp(["serve", dir.path, "--port", "0", "--tls-cert", cert.certPath]);
  assertFailure(half, 2, /--tls-cert and --tls-key go together/);
  const other = await selfSigned(dir.path, "other");
  assertFailure(
    await serve(cert.certPath, other.keyPath),
    8,
    /Cannot use the TLS certificate and key/,
  );
  // A key that needs a passphrase says so (libcrypto said "interrupted or cancelled").
  const encrypted = dir.join("encrypted.key");
  const made = await new Deno.Command("openssl", {
    args: ["pkey", "-in", cert.keyPath, "-aes256", "-passout", "pass:secret", "-out", encrypted],
    stdout: "null",
    stderr: "null",
  }).output();
  equal(made.code, 0, "openssl pkey -aes256");
  assertFailure(
    await serve(cert.certPath, encrypted),
    8,
    /is encrypted \(it needs a passphrase\)/,
  );
});

Deno.test("e2e: bftp shell over bftps:// with a pinned fingerprint and a token", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  await Deno.mkdir(dir.join("root"));
  await Deno.writeTextFile(dir.join("root", "a.txt"), "A");
  await using server = await startServe(
    dir.join("root"),
    ["--tls-cert", cert.certPath, "--tls-key", cert.keyPath],
    { env: { BFTP_TOKEN: "shell-token" } },
  );
  const r = await runBftp(["shell", `${server.url}/`, "--fingerprint", cert.fingerprint], {
    stdin: "pwd\nls\n",
    env: { BFTP_TOKEN: "shell-token" },
  });
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "/\na.txt\n");
});

/**
 * A CA (ca.pem, ca.key) and a server key with its request for `cn` (srv.key, srv.csr) in `dir`,
 * made with openssl; returns openssl run in `dir`, which fails the test with its stderr.
 */
async function caAndRequest(dir: string, cn: string) {
  const openssl = async (...args: string[]) => {
    const run = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    equal(run.code, 0, `openssl ${args.join(" ")}: ${new TextDecoder().decode(run.stderr)}`);
  };
  const key = ["-newkey", "rsa:2048", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...key,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "30",
    "-subj",
    "/CN=Test CA",
  );
  await openssl("req", ...key, "-keyout", "srv.key", "-out", "srv.csr", "-subj", `/CN=${cn}`);
  return openssl;
}

/** Serves `dir`/root (a.txt in it) over TLS with `dir`/srv.pem and srv.key, and runs `args(url)`. */
async function againstCaServer(dir: string, args: (url: string) => string[]) {
  await Deno.mkdir(`${dir}/root`);
  await Deno.writeTextFile(`${dir}/root/a.txt`, "hi");
  await using server = await startServe(`${dir}/root`, [
    "--tls-cert",
    `${dir}/srv.pem`,
    "--tls-key",
    `${dir}/srv.key`,
  ]);
  return await runBftp(args(server.url));
}

Deno.test("e2e: a certificate signed by the trusted authority but expired is told as expired (exit 8)", async () => {
  // Found by an audit: it was told as "not signed by a trusted authority".
  await using dir = await tempDir();
  const openssl = await caAndRequest(dir.path, "127.0.0.1");
  await Deno.writeTextFile(dir.join("ext"), "subjectAltName=IP:127.0.0.1\n");
  // Its validity ended a day ago.
  await openssl(
    "x509",
    "-req",
    "-in",
    "srv.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "srv.pem",
    "-days",
    "-1",
    "-extfile",
    "ext",
  );
  const r = await againstCaServer(
    dir.path,
    (url) => ["get", `${url}/a.txt`, "-", "--cacert", dir.join("ca.pem")],
  );
  assertFailure(r, 8, /it has expired/);
});

Deno.test("e2e: a certificate whose whole validity is past, from the trusted authority, is told as expired (exit 8)", async () => {
  // Found by an audit: node:tls on Deno says only UNABLE_TO_VERIFY_LEAF_SIGNATURE for it, and it
  // was told as "not signed by a trusted authority". Valid in January 2020 only (openssl ca).
  await using dir = await tempDir();
  const openssl = await caAndRequest(dir.path, "localhost");
  await Deno.mkdir(dir.join("db"));
  await Deno.writeTextFile(dir.join("db", "index.txt"), "");
  await Deno.writeTextFile(dir.join("db", "serial"), "1000\n");
  await Deno.writeTextFile(
    dir.join("ca.cnf"),
    "[ca]\ndefault_ca=c\n[c]\ndir=./db\ndatabase=$dir/index.txt\nnew_certs_dir=$dir\n" +
      "serial=$dir/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n" +
      "[ext]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await openssl(
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-cert",
    "ca.pem",
    "-keyfile",
    "ca.key",
    "-in",
    "srv.csr",
    "-out",
    "srv.pem",
    "-extensions",
    "ext",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200201000000Z",
  );
  const r = await againstCaServer(
    dir.path,
    (url) => ["ls", `${url}/`, "--cacert", dir.join("ca.pem")],
  );
  assertFailure(r, 8, /: it has expired; the server needs a certificate valid today/);
});
