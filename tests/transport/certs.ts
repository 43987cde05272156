/**
 * Test certificates, made by the real `openssl` for each test run: a
 * self-signed certificate as `openssl req -x509` makes it (marked as a CA),
 * one marked as not a CA, and a leaf signed by a test CA. Each comes with
 * the fingerprint openssl itself prints, so bftp's own computation is
 * checked against it.
 *
 * @module
 */

import { join } from "node:path";
import { requirePeers } from "../peers.ts";

/** A certificate and its key on disk. */
export interface TestCert {
  /** The certificate (PEM). */
  certPath: string;
  /** The private key (PEM). */
  keyPath: string;
  /** The certificate's text. */
  certPem: string;
  /** The key's text. */
  keyPem: string;
  /** What `openssl x509 -fingerprint -sha256` prints after the `=`: `AB:CD:...`. */
  fingerprint: string;
}

async function openssl(args: string[]): Promise<string> {
  requirePeers("openssl");
  const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function opensslFingerprint(certPath: string): Promise<string> {
  const text = await openssl(["x509", "-in", certPath, "-noout", "-fingerprint", "-sha256"]);
  const m = /Fingerprint=([0-9A-F:]+)/i.exec(text);
  if (!m) throw new Error(`No fingerprint in "${text}"`);
  return m[1]!;
}

async function finish(certPath: string, keyPath: string): Promise<TestCert> {
  return {
    certPath,
    keyPath,
    certPem: await Deno.readTextFile(certPath),
    keyPem: await Deno.readTextFile(keyPath),
    fingerprint: await opensslFingerprint(certPath),
  };
}

const SAN = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1";

/**
 * Makes a self-signed certificate for localhost, 127.0.0.1 and ::1.
 *
 * @param dir Where the files go.
 * @param name The files' base name.
 * @param options `ca: false` marks it as not a CA (plain `openssl req -x509` marks it as one).
 * @returns The certificate.
 */
export async function selfSigned(
  dir: string,
  name = "server",
  options: { ca?: boolean } = {},
): Promise<TestCert> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    SAN,
    ...(options.ca === false ? ["-addext", "basicConstraints=critical,CA:FALSE"] : []),
  ]);
  return await finish(certPath, keyPath);
}

/**
 * Makes a test CA and a leaf certificate it signs for localhost and 127.0.0.1.
 *
 * @param dir Where the files go.
 * @returns The CA's certificate and the leaf.
 */
export async function caSigned(dir: string): Promise<{ ca: TestCert; leaf: TestCert }> {
  const ca = await selfSigned(dir, "ca");
  const keyPath = join(dir, "leaf.key");
  const csrPath = join(dir, "leaf.csr");
  const certPath = join(dir, "leaf.crt");
  const extPath = join(dir, "leaf.ext");
  await openssl([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    csrPath,
    "-subj",
    "/CN=localhost",
  ]);
  await Deno.writeTextFile(extPath, `${SAN}\nbasicConstraints=critical,CA:FALSE\n`);
  await openssl([
    "x509",
    "-req",
    "-in",
    csrPath,
    "-CA",
    ca.certPath,
    "-CAkey",
    ca.keyPath,
    "-CAcreateserial",
    "-out",
    certPath,
    "-days",
    "2",
    "-extfile",
    extPath,
  ]);
  return { ca, leaf: await finish(certPath, keyPath) };
}
