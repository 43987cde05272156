/**
 * The client's TLS failures in words a user can act on, for both of its TLS
 * stacks (Deno's own, and `node:tls`: `connect.ts`, `node_tls_connect.ts`).
 *
 * @module
 */

import { systemReason, TlsError } from "../errors.ts";

/** What to tell a user whose server is not trusted. */
export const UNTRUSTED_HINT = "give --cacert FILE, or pin the certificate with --fingerprint HEX " +
  "(bftp serve prints it when it starts)";

/**
 * The error for a TLS failure that is not about trust: most often, the
 * peer does not speak TLS.
 *
 * @param where The server, as `host:port`.
 * @param e What the TLS stack threw.
 * @returns The error.
 *
 * @example
 * ```ts
 * import { handshakeError } from "./tls_errors.ts";
 * import { match } from "node:assert/strict";
 *
 * match(handshakeError("h:1", new Error("bad record")).message, /^TLS handshake with "h:1" failed/);
 * ```
 */
export function handshakeError(where: string, e: unknown): TlsError {
  return new TlsError(
    `TLS handshake with "${where}" failed: ${systemReason(e)} (does it speak TLS? ` +
      `a bftps server is started with --tls-cert)`,
    { cause: e },
  );
}

/** The words for a host name the certificate does not hold. */
const WRONG_NAME = "it is not valid for this host name";
/** The words for a certificate past its end. */
const EXPIRED = "it has expired";
/** The words for a certificate before its start. */
const NOT_YET_VALID = "it is not valid yet";

/**
 * Puts the TLS libraries' certificate errors in words: their codes, and
 * rustls's own sentences ("certificate expired: verification time ...",
 * "certificate not valid for name ...") in any case.
 */
function certificateProblem(e: unknown): string {
  const reason = systemReason(e);
  const text = reason + String((e as { code?: unknown }).code ?? "");
  // The certificate's dates first: an expired one from a trusted authority also fails to verify.
  if (/expired|CERT_HAS_EXPIRED/i.test(text)) return EXPIRED;
  if (/NotValidYet|not valid yet|CERT_NOT_YET_VALID/i.test(text)) return NOT_YET_VALID;
  if (/NotValidForName|not valid for name|ALTNAME/i.test(text)) return WRONG_NAME;
  if (
    /UnknownIssuer|unknown issuer|BadSignature|UNABLE_TO_(GET_ISSUER|VERIFY)|CERT_SIGNATURE/i.test(
      text,
    )
  ) {
    return "it is not signed by a trusted authority";
  }
  if (/CaUsedAsEndEntity|SELF_SIGNED/i.test(text)) return "it is self-signed";
  return reason;
}

/**
 * The error for a server certificate that is not trusted, with why and
 * what to do.
 *
 * @param where The server, as `host:port`.
 * @param e What the TLS stack threw.
 * @param hint What to tell the user.
 * @param pin Whether the command takes `--fingerprint` (http-get does not):
 * offered for a certificate of another name or out of its dates.
 * @returns The error.
 *
 * @example
 * ```ts
 * import { untrusted } from "./tls_errors.ts";
 * import { match } from "node:assert/strict";
 *
 * const e = untrusted("h:1", Object.assign(new Error("x"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }));
 * match(e.message, /it is self-signed; give --cacert FILE/);
 * ```
 */
export function untrusted(
  where: string,
  e: unknown,
  hint: string = UNTRUSTED_HINT,
  pin = true,
): TlsError {
  const problem = certificateProblem(e);
  // A certificate for another name, or out of its dates: more trust would not help.
  const what = problem === WRONG_NAME
    ? "reach the server by a name the certificate holds" +
      (pin
        ? ", or pin the certificate with --fingerprint HEX (bftp serve prints it when it starts)"
        : "")
    : problem === EXPIRED || problem === NOT_YET_VALID
    ? "the server needs a certificate valid today" +
      (pin ? ", or pin this one with --fingerprint HEX" : "")
    : hint;
  return new TlsError(`Cannot verify the certificate of "${where}": ${problem}; ${what}`, {
    cause: e,
  });
}
