/**
 * A client's TLS trust from its command line, the same for every command
 * that connects (`get`/`put`/… to a `bftps://` URL, `send`/`recv`, `echo`,
 * `http-get`): `--cacert FILE` (the certificates to trust, read once),
 * `--fingerprint HEX` (the one certificate to accept), or `--tls` alone
 * (the default roots). One rule for the exit codes: a bad combination or
 * fingerprint is a usage error (2), a CA file that cannot be read a local
 * file error (3), a CA file that holds no certificate a TLS failure (8).
 *
 * @module
 */

import { importLater } from "../import_later.ts";
import { UsageError } from "../errors.ts";
import { parseFingerprint } from "./fingerprint.ts";
import type { ClientTlsOptions } from "./types.ts";

/** The TLS flags of a connecting command, as given. */
export interface ClientTlsFlags {
  /** `--cacert FILE`: the PEM certificates to trust (a CA, or the server's own). */
  cacert?: string | undefined;
  /** `--fingerprint HEX`: the server certificate's SHA-256, as the user typed it. */
  fingerprint?: string | undefined;
  /**
   * `--tls`, or a `bftps://`/`https://` URL: speak TLS even without
   * `--cacert` or `--fingerprint` (trusting the default roots).
   *
   * @default {false}
   */
  tls?: boolean | undefined;
}

/**
 * Checks the TLS flags without reading any file: `--cacert` and
 * `--fingerprint` exclude each other, and the fingerprint must be one.
 *
 * @param flags The flags as given.
 * @returns Whether TLS is asked for (`--tls`, `--cacert` or `--fingerprint`).
 * @throws {UsageError} When both are given, or the fingerprint is malformed.
 *
 * @example
 * ```ts
 * import { checkClientTlsFlags } from "./client_tls_flags.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(checkClientTlsFlags({}), false);
 * equal(checkClientTlsFlags({ cacert: "ca.pem" }), true);
 * throws(() => checkClientTlsFlags({ cacert: "ca.pem", fingerprint: "ab".repeat(32) }), /not both/);
 * ```
 */
export function checkClientTlsFlags(flags: ClientTlsFlags): boolean {
  if (flags.cacert !== undefined && flags.fingerprint !== undefined) {
    throw new UsageError("Give --cacert or --fingerprint, not both");
  }
  if (flags.fingerprint !== undefined) parseFingerprint(flags.fingerprint);
  return flags.tls === true || flags.cacert !== undefined || flags.fingerprint !== undefined;
}

/**
 * Builds a client's TLS options from its flags, reading the `--cacert`
 * file (once).
 *
 * @param flags The flags as given.
 * @returns How to trust the server, or `undefined` when TLS is not asked for.
 * @throws {UsageError} When both `--cacert` and `--fingerprint` are given,
 * or the fingerprint is malformed.
 * @throws {LocalIoError} When the CA file cannot be read.
 * @throws {TlsError} When the CA file holds no PEM certificate.
 *
 * @example
 * ```ts
 * import { clientTlsFromFlags } from "./client_tls_flags.ts";
 * import { deepEqual, rejects } from "node:assert/strict";
 *
 * deepEqual(await clientTlsFromFlags({}), undefined);
 * deepEqual(await clientTlsFromFlags({ tls: true }), { caCerts: undefined, fingerprint: undefined });
 * const pinned = await clientTlsFromFlags({ fingerprint: "ab".repeat(32) });
 * deepEqual(pinned?.fingerprint?.slice(0, 5), "AB:AB");
 * await rejects(clientTlsFromFlags({ cacert: "/nonexistent/ca.pem" }), /not found/);
 * ```
 */
export async function clientTlsFromFlags(
  flags: ClientTlsFlags,
): Promise<ClientTlsOptions | undefined> {
  if (!checkClientTlsFlags(flags)) return undefined;
  return {
    // Loaded only then: tls_files.ts brings node:crypto, about 35 ms of start-up.
    caCerts: flags.cacert === undefined
      ? undefined
      : await (await importLater<typeof import("./tls_files.ts")>(
        "./tls_files.ts",
        import.meta.url,
      ))
        .loadCaCerts(flags.cacert),
    fingerprint: flags.fingerprint === undefined ? undefined : parseFingerprint(flags.fingerprint),
  };
}
