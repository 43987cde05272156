/**
 * End-to-end: a client given several heads of one volume
 * (`bftp://h1,h2/PATH`, `--head`, `BFTP_HEADS`). Two `bftp serve` over the
 * same folder stand in for two machines over one GlusterFS volume; a head
 * that is down is a closed port, or a listener that hangs up at once; a
 * transfer cut mid-body goes through a proxy that stops after so many bytes.
 *
 * @module
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  assertFailure,
  closedPort,
  findTemporaries,
  randomBytes,
  runBftp,
  sha256File,
  startServe,
  tempDir,
} from "./helpers.ts";
import { sha256 } from "../helpers.ts";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { selfSigned } from "../transport/certs.ts";
import { runInTerminal } from "./terminal.ts";
import { cuttingProxy, hangingUp, silentHead } from "./faulty_heads.ts";

/** `bftp://127.0.0.1:PORT` of a served URL, as a head: `127.0.0.1:PORT`. */
const headOf = (url: string) => url.replace(/^bftps?:\/\//, "");

/** Two `bftp serve` over one folder (`dir/root`), the folder holding `name` with `data`. */
async function twoHeads(dir: { join(...p: string[]): string }, files: Record<string, Uint8Array>) {
  await Deno.mkdir(dir.join("root"));
  for (const [name, data] of Object.entries(files)) {
    await Deno.writeFile(dir.join("root", name), data);
  }
  const a = await startServe(dir.join("root"));
  const b = await startServe(dir.join("root")).catch(async (e) => {
    await a.stop();
    throw e;
  });
  return { a, b };
}

Deno.test("e2e heads: a refused first head gives way to the next, silently, and -v says so in one line", async () => {
  await using dir = await tempDir();
  const { a, b } = await twoHeads(dir, { "f.txt": new TextEncoder().encode("hello\n") });
  await using _a = a;
  await using _b = b;
  const refused = `127.0.0.1:${closedPort()}`;
  const url = `bftp://${refused},${headOf(b.url)}/f.txt`;
  const got = await runBftp(["get", url, dir.join("out.txt")]);
  equal(got.code, 0, got.stderr);
  equal(got.stderr, "");
  equal(await Deno.readTextFile(dir.join("out.txt")), "hello\n");
  // The same with --head, for ls, with -v: one "*" line for the head that was down.
  const ls = await runBftp([
    "ls",
    "-v",
    `bftp://${refused}/`,
    "--head",
    headOf(a.url),
  ]);
  equal(ls.code, 0, ls.stderr);
  equal(ls.stdout, "f.txt\n");
  deepEqual(ls.stderr.split("\n").filter((l) => l.startsWith("* ")), [
    `* Head "${refused}" is down: Cannot connect to "${refused}": connection refused; ` +
    `trying "${headOf(a.url)}"`,
  ]);
  await a.waitForLog(/LIST "\/"/);
  equal(b.logLines(/LIST/).length, 0);
});

Deno.test("e2e heads: a head that hangs up before the hello gives way to the next (BFTP_HEADS too)", async () => {
  await using dir = await tempDir();
  const { a, b } = await twoHeads(dir, { "f.txt": new TextEncoder().encode("x") });
  await using _a = a;
  await using _b = b;
  await using closing = hangingUp();
  // BFTP_HEADS names the volume's heads; the URL names one of them.
  const env = { BFTP_HEADS: `${closing.head},${headOf(b.url)}` };
  const stat = await runBftp(["stat", `bftp://${closing.head}/f.txt`, "--json"], { env });
  equal(stat.code, 0, stat.stderr);
  equal(JSON.parse(stat.stdout).size, 1);
  await b.waitForLog(/STAT "\/f.txt"/);
  // A URL naming none of BFTP_HEADS's heads does not use them.
  const other = `127.0.0.1:${closedPort()}`;
  assertFailure(
    await runBftp(["stat", `bftp://${other}/f.txt`], { env }),
    4,
    new RegExp(`^bftp: Cannot connect to "${other}": connection refused$`),
  );
  // put goes to the next head as well.
  await Deno.writeTextFile(dir.join("up.txt"), "up");
  const put = await runBftp([
    "put",
    dir.join("up.txt"),
    `bftp://${closing.head},${headOf(a.url)}/`,
  ]);
  equal(put.code, 0, put.stderr);
  equal(await Deno.readTextFile(dir.join("root", "up.txt")), "up");
});

Deno.test("e2e heads: every head down is one line naming each, with exit 4", async () => {
  await using closing = hangingUp();
  const refused = `127.0.0.1:${closedPort()}`;
  const result = await runBftp(["ls", `bftp://${refused},${closing.head}/`]);
  assertFailure(
    result,
    4,
    new RegExp(
      `^bftp: Cannot connect to any of the 2 heads: "${refused}": connection refused; ` +
        `"${closing.head}": the server closed the connection without answering the BFTP hello`,
    ),
  );
});

Deno.test("e2e heads: a bad head list is a usage error in one line", async () => {
  assertFailure(
    await runBftp(["ls", "bftp://127.0.0.1:1,,127.0.0.1:2/"]),
    2,
    /^bftp: Invalid URL "bftp:\/\/127.0.0.1:1,,127.0.0.1:2\/": "" is not HOST\[:PORT\]/,
  );
  assertFailure(
    await runBftp(["ls", "bftp://127.0.0.1:1/", "--head", "::1:2"]),
    2,
    /^bftp: Invalid value "::1:2" for --head/,
  );
  assertFailure(
    await runBftp(["ls", "bftp://127.0.0.1:1/"], { env: { BFTP_HEADS: "a:1;b:2" } }),
    2,
    /^bftp: Invalid BFTP_HEADS: "a:1;b:2" is not HOST\[:PORT\]/,
  );
  // check measures one server.
  assertFailure(
    await runBftp(["check", "bftp://127.0.0.1:1,127.0.0.1:2/"]),
    2,
    /^bftp: check measures one server/,
  );
});

Deno.test("e2e heads: get --resume cut mid-body on one head continues on the other; without --resume it fails", async () => {
  await using dir = await tempDir();
  const data = randomBytes(4_000_000);
  const { a, b } = await twoHeads(dir, { "big.bin": data });
  await using _a = a;
  await using _b = b;
  {
    await using proxy = cuttingProxy(headOf(a.url), { direction: "down", limit: 1_500_000 });
    const url = `bftp://${proxy.head},${headOf(b.url)}/big.bin`;
    const got = await runBftp(["get", "--resume", "-v", url, dir.join("out.bin")]);
    equal(got.code, 0, got.stderr);
    equal(proxy.cuts, 1);
    ok(
      got.stderr.split("\n").some((l) =>
        l.startsWith(`* Cut on head "${proxy.head}": `) && l.endsWith("resuming on the next head")
      ),
      got.stderr,
    );
  }
  equal(await sha256File(dir.join("out.bin")), sha256(data));
  // Head B sent only the rest.
  await b.waitForLog(/GET "\/big.bin" from \d+/);
  const from = Number(/from (\d+)/.exec(b.logLines(/GET/)[0]!)![1]);
  ok(from > 1_000_000 && from < 1_500_000, `resumed from ${from}`);
  deepEqual((await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name).sort(), [
    "out.bin",
    "root",
  ]);
  // Without --resume a cut is not retried elsewhere: the error, and nothing kept.
  await using proxy = cuttingProxy(headOf(a.url), { direction: "down", limit: 1_500_000 });
  const url = `bftp://${proxy.head},${headOf(b.url)}/big.bin`;
  const cut = await runBftp(["get", "-q", url, dir.join("cut.bin")]);
  equal(cut.code, 4, cut.stderr);
  ok(!(await Array.fromAsync(Deno.readDir(dir.path))).some((e) => e.name.includes("cut.bin")));
});

for (const holdMs of [0, 1500]) {
  Deno.test(`e2e heads: put --resume cut mid-body on one head continues on the other${holdMs ? " (once the first head lets go of the upload)" : ""}`, async () => {
    await using dir = await tempDir();
    const data = randomBytes(4_000_000);
    const { a, b } = await twoHeads(dir, {});
    await using _a = a;
    await using _b = b;
    await Deno.writeFile(dir.join("src.bin"), data);
    {
      await using proxy = cuttingProxy(headOf(a.url), {
        direction: "up",
        limit: 1_500_000,
        holdServerMs: holdMs,
      });
      const url = `bftp://${proxy.head},${headOf(b.url)}/up.bin`;
      const put = await runBftp(["put", "--resume", dir.join("src.bin"), url]);
      equal(put.code, 0, put.stderr);
      equal(proxy.cuts, 1);
    }
    equal(await sha256File(dir.join("root", "up.bin")), sha256(data));
    deepEqual(await findTemporaries(dir.join("root")), []);
    // Head B took what head A had kept, and only the rest went to it.
    await b.waitForLog(/PUT "\/up.bin" resuming at \d+ of 4000000 bytes/);
    const at = Number(/resuming at (\d+)/.exec(b.logLines(/resuming at/)[0]!)![1]);
    ok(at > 0 && at <= 1_500_000, `resumed at ${at}`);
  });
}

Deno.test("e2e heads: several files in flight, cut together, all continue on the other head", async () => {
  await using dir = await tempDir();
  // The cut falls in the second body, with the third asked for already (pipelined): both
  // continue on B.
  const files = {
    "a.bin": randomBytes(1_000_000),
    "b.bin": randomBytes(1_000_000),
    "c.bin": randomBytes(1_000_000),
  };
  const { a, b } = await twoHeads(dir, files);
  await using _a = a;
  await using _b = b;
  await Deno.mkdir(dir.join("into"));
  {
    await using proxy = cuttingProxy(headOf(a.url), { direction: "down", limit: 1_500_000 });
    const heads = `${proxy.head},${headOf(b.url)}`;
    const urls = Object.keys(files).map((name) => `bftp://${heads}/${name}`);
    const got = await runBftp(["get", "--resume", ...urls, dir.join("into")]);
    equal(got.code, 0, got.stderr);
    equal(proxy.cuts, 1);
    // Every source cut went on to B: none came back to A.
    equal(proxy.connections, 1);
  }
  for (const [name, data] of Object.entries(files)) {
    equal(await sha256File(dir.join("into", name)), sha256(data), name);
  }
  deepEqual(
    await Array.fromAsync(Deno.readDir(dir.join("into")), (e) => e.name).then((n) => n.sort()),
    ["a.bin", "b.bin", "c.bin"],
  );
  // One session on head B took the rest: a file continued where the cut left it, and the
  // others whole (which are cut depends on the order the bodies came in).
  await b.waitForLog(/GET "\/[abc].bin" from \d+ ok/);
  const clients = new Set(b.logLines(/"\/[abc]\.bin"/).map((l) => l.split(" ")[1]));
  equal(clients.size, 1, b.stderrText());
});

Deno.test("e2e heads: bftps:// goes past a head that hangs up in the TLS handshake, not past an untrusted one", async () => {
  await using dir = await tempDir();
  const cert = await selfSigned(dir.path);
  const other = await selfSigned(await Deno.makeTempDir({ dir: dir.path }));
  await Deno.mkdir(dir.join("root"));
  await Deno.writeTextFile(dir.join("root", "f.txt"), "tls");
  const tls = (c: typeof cert) => ["--tls-cert", c.certPath, "--tls-key", c.keyPath];
  await using good = await startServe(dir.join("root"), tls(cert));
  await using stranger = await startServe(dir.join("root"), tls(other));
  await using closing = hangingUp();
  for (const trust of [["--cacert", cert.certPath], ["--fingerprint", cert.fingerprint], []]) {
    const url = `bftps://${closing.head},${headOf(good.url)}/f.txt`;
    const got = await runBftp(["get", url, "-", ...trust]);
    if (trust.length === 0) {
      // The usual roots do not trust the test certificate: the second head is reached, and refused.
      assertFailure(got, 8, /Cannot verify the certificate of "127.0.0.1:\d+"/);
      continue;
    }
    equal(got.code, 0, got.stderr);
    equal(got.stdout, "tls");
  }
  // A head whose certificate is not the trusted one stops the command: trust is not an outage.
  const url = `bftps://${headOf(stranger.url)},${headOf(good.url)}/f.txt`;
  assertFailure(
    await runBftp(["get", url, "-", "--fingerprint", cert.fingerprint]),
    8,
    new RegExp(`^bftp: The certificate of "${headOf(stranger.url)}" has the fingerprint`),
  );
  equal(good.logLines(/GET/).length, 2);
  // Heads with their own certificates: --cacert takes a file holding each of them.
  const bundle = dir.join("heads.pem");
  await Deno.writeTextFile(
    bundle,
    (await Deno.readTextFile(other.certPath)) + (await Deno.readTextFile(cert.certPath)),
  );
  for (const heads of [[stranger, good], [good, stranger]]) {
    const refused = `127.0.0.1:${closedPort()}`;
    const list = [refused, ...heads.map((h) => headOf(h.url))].join(",");
    const got = await runBftp(["get", `bftps://${list}/f.txt`, "-", "--cacert", bundle]);
    equal(got.code, 0, got.stderr);
    equal(got.stdout, "tls");
  }
  equal(stranger.logLines(/GET/).length, 1);
});

Deno.test("e2e heads terminal: a download cut on one head keeps its line, and the next head's says where it resumes", async () => {
  await using dir = await tempDir();
  const data = randomBytes(6_000_000);
  const { a, b } = await twoHeads(dir, { "big.bin": data });
  await using _a = a;
  await using _b = b;
  await using proxy = cuttingProxy(headOf(a.url), { direction: "down", limit: 2_600_000 });
  const url = `bftp://${proxy.head},${headOf(b.url)}/big.bin`;
  const r = await runInTerminal(["get", "--resume", url, dir.join("big.bin")]);
  equal(r.code, 0, r.lines.join("\n"));
  const shown = r.lines.filter((l) => l !== "");
  equal(shown.length, 3, shown.join("\n"));
  // The cut line as last drawn (it is redrawn a few times a second, the cut may come sooner).
  ok(/^big\.bin {2}[\d.]+ [KM]iB \/ 5\.7 MiB \(\d+%\)/.test(shown[0]!), shown[0]);
  ok(/^resuming at 2\.\d MiB$/.test(shown[1]!), shown[1]);
  ok(shown[2]!.startsWith("big.bin  5.7 MiB / 5.7 MiB (100%)"), shown[2]);
  equal(await sha256File(dir.join("big.bin")), sha256(data));
});

Deno.test("e2e heads: a head that hangs mid-download is given up after --timeout and the download continues on the next", async () => {
  await using dir = await tempDir();
  const data = randomBytes(3_000_000);
  const { a, b } = await twoHeads(dir, { "big.bin": data });
  await using _a = a;
  await using _b = b;
  {
    await using proxy = cuttingProxy(headOf(a.url), {
      direction: "down",
      limit: 1_000_000,
      stall: true,
    });
    const url = `bftp://${proxy.head},${headOf(b.url)}/big.bin`;
    const got = await runBftp(["get", "--resume", "--timeout", "1", url, dir.join("out.bin")]);
    equal(got.code, 0, got.stderr);
    equal(proxy.cuts, 1);
  }
  equal(await sha256File(dir.join("out.bin")), sha256(data));
  await b.waitForLog(/GET "\/big.bin" from \d+ ok/);
});

Deno.test("e2e heads: a head that never answers the hello is given up after --timeout", async () => {
  await using dir = await tempDir();
  const { a, b } = await twoHeads(dir, { "f.txt": new TextEncoder().encode("x") });
  await using _a = a;
  await using _b = b;
  await using silent = silentHead();
  const started = performance.now();
  const ls = await runBftp([
    "ls",
    "-v",
    "--timeout",
    "1",
    `bftp://${silent.head},${headOf(b.url)}/`,
  ]);
  equal(ls.code, 0, ls.stderr);
  equal(ls.stdout, "f.txt\n");
  ok(performance.now() - started < 10_000);
  ok(
    ls.stderr.includes(`* Head "${silent.head}" is down: The server sent nothing for 1 s`),
    ls.stderr,
  );
});

Deno.test("e2e heads: a head at its connection limit (busy) gives way to the next", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  await Deno.writeTextFile(dir.join("root", "f.txt"), "x");
  await using full = await startServe(dir.join("root"), ["--max-connections", "1"]);
  await using other = await startServe(dir.join("root"));
  // One session holds the only place: its hello answered, so the server counts it.
  using holder = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(full.url.split(":").at(-1)),
  });
  await writeAll(holder, encodeDelimited("BFTP/1"));
  ok((await holder.read(new Uint8Array(1024))) !== null);
  const ls = await runBftp(["ls", "-v", `bftp://${headOf(full.url)},${headOf(other.url)}/`]);
  equal(ls.code, 0, ls.stderr);
  equal(ls.stdout, "f.txt\n");
  ok(ls.stderr.includes(`* Head "${headOf(full.url)}" is down: Server busy: `), ls.stderr);
});
