/**
 * Reading TLS material from files given on the command line: a server's
 * certificate and key (with the fingerprint clients can pin), and the CA
 * certificates a client trusts.
 *
 * @module
 */

import { localIoError, TlsError } from "../errors.ts";
import { nodeBuiltin } from "../node_builtin.ts";
import { certificateFingerprint } from "./fingerprint.ts";
import type { ServerTlsOptions } from "./types.ts";

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw localIoError(`read the ${what}`, path, e);
  }
}

/** A server's TLS identity, read from files. */
export interface LoadedServerTls extends ServerTlsOptions {
  /** The SHA-256 fingerprint of the server's certificate, `AB:CD:...`. */
  fingerprint: string;
}

/**
 * Reads a server's certificate chain and private key (PEM files).
 *
 * @param certPath The certificate chain, server's certificate first.
 * @param keyPath The private key.
 * @returns The PEM texts and the certificate's fingerprint.
 * @throws {LocalIoError} When a file cannot be read.
 * @throws {TlsError} When a file holds no certificate or no key, or the key
 * is not the certificate's.
 *
 * @example
 * ```ts
 * import { loadServerTls } from "./tls_files.ts";
 * import { rejects } from "node:assert/strict";
 *
 * await rejects(loadServerTls("/nonexistent/cert.pem", "/nonexistent/key.pem"), /not found/);
 * ```
 */
export async function loadServerTls(certPath: string, keyPath: string): Promise<LoadedServerTls> {
  const cert = await readPem(certPath, "TLS certificate");
  const key = await readPem(keyPath, "TLS key");
  let fingerprint: string;
  try {
    fingerprint = certificateFingerprint(cert);
  } catch (e) {
    throw new TlsError(`No PEM certificate in "${certPath}"`, { cause: e });
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new TlsError(`No PEM private key in "${keyPath}"`);
  }
  // A key that needs a passphrase would fail below with libcrypto's "interrupted or cancelled".
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(key)) {
    throw new TlsError(
      `The TLS key "${keyPath}" is encrypted (it needs a passphrase): give an unencrypted one ` +
        `(openssl pkey -in KEY -out PLAIN.pem)`,
    );
  }
  let matches: boolean;
  try {
    const spki = { type: "spki", format: "der" } as const;
    const { createPrivateKey, createPublicKey, X509Certificate } = nodeBuiltin<
      typeof import("node:crypto")
    >("node:crypto");
    const ofCert = new X509Certificate(cert).publicKey.export(spki);
    const ofKey = createPublicKey(createPrivateKey(key)).export(spki);
    matches = Buffer.compare(ofCert, ofKey) === 0;
  } catch (e) {
    throw new TlsError(
      `Cannot use the TLS certificate "${certPath}" and key "${keyPath}": ${
        e instanceof Error ? e.message : String(e)
      }`,
      { cause: e },
    );
  }
  if (!matches) {
    throw new TlsError(
      `Cannot use the TLS certificate and key: "${keyPath}" is not the key of "${certPath}"`,
    );
  }
  return { cert, key, fingerprint };
}

/**
 * Reads the certificates a client trusts (PEM; a CA, or the server's own).
 *
 * @param path The PEM file.
 * @returns The file's text, for `caCerts`.
 * @throws {LocalIoError} When it cannot be read.
 * @throws {TlsError} When it holds no certificate.
 *
 * @example
 * ```ts
 * import { loadCaCerts } from "./tls_files.ts";
 * import { rejects } from "node:assert/strict";
 *
 * await rejects(loadCaCerts("/nonexistent/ca.pem"), /not found/);
 * ```
 */
export async function loadCaCerts(path: string): Promise<string[]> {
  const pem = await readPem(path, "CA certificate");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TlsError(`No PEM certificate in "${path}"`);
  }
  return [pem];
}
