// The client's certificate failures in words (lib/transport/tls_errors.ts): the codes of
// node:tls and the sentences of rustls (Deno's own TLS, used without --cacert), and what to do.

import { match } from "node:assert/strict";
import { untrusted } from "../../lib/transport/tls_errors.ts";

const fail = (message: string, code?: string) => Object.assign(new Error(message), { code });

Deno.test("transport/tls_errors: rustls's sentences are put in words, not shown raw", () => {
  match(
    untrusted(
      "h:1",
      fail(
        "invalid peer certificate: certificate expired: verification time 1796652344 (UNIX), " +
          "but certificate is not valid after 1580515200 (216137144 seconds ago)",
      ),
    ).message,
    /^Cannot verify the certificate of "h:1": it has expired; the server needs a certificate valid today, or pin this one with --fingerprint HEX$/,
  );
  match(
    untrusted("h:1", fail("invalid peer certificate: UnknownIssuer")).message,
    /: it is not signed by a trusted authority; give --cacert FILE/,
  );
});

Deno.test("transport/tls_errors: a certificate for another name says to use its name, not --cacert", () => {
  for (
    const e of [
      fail(
        'invalid peer certificate: certificate not valid for name "localhost"; certificate is ' +
          'only valid for DnsName("wrong.example")',
      ),
      fail("Hostname/IP does not match certificate's altnames", "ERR_TLS_CERT_ALTNAME_INVALID"),
    ]
  ) {
    match(
      untrusted("127.0.0.1:1", e).message,
      /^Cannot verify the certificate of "127\.0\.0\.1:1": it is not valid for this host name; reach the server by a name the certificate holds, or pin the certificate with --fingerprint HEX/,
    );
  }
});
