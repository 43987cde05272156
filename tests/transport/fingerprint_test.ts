import { equal, throws } from "node:assert/strict";
import {
  certificateFingerprint,
  firstCertificateDer,
  formatFingerprint,
  parseFingerprint,
} from "../../lib/transport/fingerprint.ts";
import { UsageError } from "../../lib/errors.ts";
import { selfSigned } from "./certs.ts";
import { tempDir } from "../helpers.ts";

Deno.test("transport: certificateFingerprint() agrees with openssl x509 -fingerprint -sha256", async () => {
  await using tmp = await tempDir();
  for (const [i, ca] of [true, false].entries()) {
    const cert = await selfSigned(tmp.path, `c${i}`, { ca });
    equal(certificateFingerprint(cert.certPem), cert.fingerprint);
    equal(certificateFingerprint(firstCertificateDer(cert.certPem)), cert.fingerprint);
    // A chain: the first certificate is the server's own.
    equal(certificateFingerprint(cert.certPem + "\n" + cert.certPem), cert.fingerprint);
  }
});

Deno.test("transport: parseFingerprint() takes it with or without colons, in either case", () => {
  const hex = "1ff1299321f6f8bade3978e86211d2f6d74b4555ba27e4df8039d1b3baa29b10";
  const canonical = formatFingerprint(hex);
  equal(canonical.length, 95);
  equal(canonical, canonical.toUpperCase());
  for (
    const form of [
      hex,
      hex.toUpperCase(),
      canonical,
      canonical.toLowerCase(),
      `sha256 Fingerprint=${canonical}`,
      `SHA256 Fingerprint=${canonical}`,
      `sha256:${hex}`,
      `  ${canonical}\n`,
    ]
  ) {
    equal(parseFingerprint(form), canonical, form);
  }
});

Deno.test("transport: parseFingerprint() refuses what is not a SHA-256", () => {
  const hex = "ab".repeat(32);
  for (
    const bad of [
      "",
      hex.slice(2),
      hex + "ab",
      "zz" + hex.slice(2),
      formatFingerprint(hex).replace(/:/, ""), // colons in some places only
      formatFingerprint(hex).replace(/:/g, "-"),
      "ab".repeat(20), // a SHA-1
    ]
  ) {
    throws(() => parseFingerprint(bad), UsageError, bad);
  }
});

Deno.test("transport: firstCertificateDer() needs a PEM certificate", () => {
  throws(() => firstCertificateDer("-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----"));
});
