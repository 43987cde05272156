import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { LocalIoError, TlsError, UsageError } from "../../lib/errors.ts";
import { checkClientTlsFlags, clientTlsFromFlags } from "../../lib/transport/client_tls_flags.ts";
import { selfSigned } from "./certs.ts";
import { tempDir } from "../helpers.ts";

const HEX = "ab".repeat(32);

Deno.test("transport: the TLS flags ask for TLS with --tls, --cacert or --fingerprint, never both of the last two", () => {
  equal(checkClientTlsFlags({}), false);
  equal(checkClientTlsFlags({ tls: false }), false);
  equal(checkClientTlsFlags({ tls: true }), true);
  equal(checkClientTlsFlags({ fingerprint: HEX }), true);
  throws(() => checkClientTlsFlags({ cacert: "a.pem", fingerprint: HEX }), UsageError);
  throws(() => checkClientTlsFlags({ fingerprint: "ab:cd" }), UsageError);
});

Deno.test("transport: the --cacert file is read into caCerts; unreadable is exit 3, no certificate exit 8", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  deepEqual(await clientTlsFromFlags({ cacert: undefined }), undefined);
  const cert = await selfSigned(dir, "ca");
  const tls = await clientTlsFromFlags({ cacert: cert.certPath });
  deepEqual(tls, { caCerts: [cert.certPem], fingerprint: undefined });
  await rejects(clientTlsFromFlags({ cacert: `${dir}/none.pem` }), (e) => {
    equal(e instanceof LocalIoError && e.exitCode, 3);
    return true;
  });
  await Deno.writeTextFile(`${dir}/junk.pem`, "junk\n");
  await rejects(clientTlsFromFlags({ cacert: `${dir}/junk.pem` }), (e) => {
    equal(e instanceof TlsError && e.exitCode, 8);
    return true;
  });
});
