/**
 * README.md's claims about what `bftp serve` prints, checked against the
 * real entry point: the listening line, plain and over TLS.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { startServe, tempDir } from "../e2e/helpers.ts";
import { selfSigned } from "../transport/certs.ts";

const README = new URL("../../README.md", import.meta.url);

/** The schemes README says the listening line uses: [plain, TLS]. */
async function claimedSchemes(): Promise<string[]> {
  const text = (await Deno.readTextFile(README)).replace(/\s+/g, " ");
  const m =
    /Prints `listening on (\w+):\/\/HOST:PORT` \(with TLS: `listening on (\w+):\/\/HOST:PORT`\)/
      .exec(text);
  ok(m, "README.md states the listening line, plain and with TLS");
  return [m[1]!, m[2]!];
}

Deno.test("readme doc: bftp serve prints the listening line README shows, plain and over TLS", async () => {
  const [plain, tls] = await claimedSchemes();
  equal(plain, "bftp");
  equal(tls, "bftps");
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  const cert = await selfSigned(dir.path);
  {
    await using server = await startServe(dir.join("root"));
    ok(new RegExp(`^${plain}://127\\.0\\.0\\.1:\\d+$`).test(server.url), server.url);
  }
  await using server = await startServe(dir.join("root"), [
    "--tls-cert",
    cert.certPath,
    "--tls-key",
    cert.keyPath,
  ]);
  ok(new RegExp(`^${tls}://127\\.0\\.0\\.1:\\d+$`).test(server.url), server.url);
});
