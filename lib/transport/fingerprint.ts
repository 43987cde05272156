/**
 * Certificate fingerprints, as SSH host keys are pinned: the SHA-256 of a
 * certificate's DER bytes, shown as `AB:CD:...` (the form
 * `openssl x509 -fingerprint -sha256` prints), and accepted from a user with
 * or without the colons, in either case.
 *
 * @module
 */

import { sha256Hex } from "../checksum.ts";
import { UsageError } from "../errors.ts";

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

/**
 * The DER bytes of the first certificate in a PEM text (a chain starts with
 * the server's own certificate).
 *
 * @param pem The PEM text.
 * @returns The DER bytes.
 * @throws {TypeError} When the text holds no PEM certificate.
 *
 * @example
 * ```ts
 * import { firstCertificateDer } from "./fingerprint.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const pem = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
 * deepEqual([...firstCertificateDer(pem)], [1, 2, 3]);
 * ```
 */
export function firstCertificateDer(pem: string): Uint8Array {
  const m = PEM_CERT.exec(pem);
  if (!m) throw new TypeError("No PEM certificate found");
  const bin = atob(m[1]!.replace(/\s+/g, ""));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * Formats a SHA-256 digest the way openssl shows fingerprints: uppercase hex
 * pairs joined by colons.
 *
 * @param hex 64 hex digits, any case.
 * @returns `AB:CD:...`, 95 characters.
 *
 * @example
 * ```ts
 * import { formatFingerprint } from "./fingerprint.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(formatFingerprint("ab".repeat(32)).slice(0, 8), "AB:AB:AB");
 * ```
 */
export function formatFingerprint(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(":");
}

/**
 * The SHA-256 fingerprint of a certificate.
 *
 * @param cert The certificate: PEM text (its first certificate is used) or DER bytes.
 * @returns The fingerprint as `AB:CD:...`.
 *
 * @example
 * ```ts
 * import { certificateFingerprint } from "./fingerprint.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const fp = certificateFingerprint(new Uint8Array([1, 2, 3]));
 * deepEqual(fp.length, 95);
 * deepEqual(fp.slice(0, 5), "03:90");
 * ```
 */
export function certificateFingerprint(cert: string | Uint8Array): string {
  const der = typeof cert === "string" ? firstCertificateDer(cert) : cert;
  return formatFingerprint(sha256Hex(der));
}

/**
 * Reads a fingerprint a user typed: 64 hex digits, with or without colons
 * between the pairs, in either case; an optional `sha256:` or
 * `SHA256 Fingerprint=` prefix, as openssl prints it, is accepted too.
 *
 * @param text What the user gave.
 * @returns The fingerprint as `AB:CD:...`.
 * @throws {UsageError} When it is not a SHA-256 fingerprint.
 *
 * @example
 * ```ts
 * import { parseFingerprint } from "./fingerprint.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const hex = "0a".repeat(32);
 * deepEqual(parseFingerprint(hex), parseFingerprint(hex.toUpperCase().match(/../g)!.join(":")));
 * throws(() => parseFingerprint("0a:0b"));
 * ```
 */
export function parseFingerprint(text: string): string {
  const bare = text.trim().replace(/^(sha256 fingerprint=|sha256:?\s*)/i, "");
  const hex = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/.test(bare) ? bare.replace(/:/g, "") : bare;
  if (!/^[0-9A-Fa-f]{64}$/.test(hex)) {
    throw new UsageError(
      `Invalid fingerprint "${text.slice(0, 120)}": expected the 64 hex digits of a SHA-256, ` +
        `with or without colons`,
    );
  }
  return formatFingerprint(hex);
}
