/**
 * End-to-end: access tokens. `bftp serve` with BFTP_TOKEN, --token or
 * --token-file; clients with --token or BFTP_TOKEN; wrong tokens answered
 * late and three of them closing the connection; read-only tokens; tokens
 * never in the log nor in the process list when given through the
 * environment.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { encodeDelimited } from "../../lib/framing/delimited.ts";
import { BufferedReader } from "../../lib/framing/buffered_reader.ts";
import { readSized, writeSized } from "../../lib/framing/size_header.ts";
import { writeAll } from "../../lib/framing/write_all.ts";
import { decodeReply, encodeMessage, type Reply } from "../../lib/protocol/messages.ts";
import { assertFailure, runBftp, startServe, tempDir, waitFor } from "./helpers.ts";

const TOKEN = "e2e-rw-token-5d41402abc4b2a76";
const RO_TOKEN = "e2e-ro-token-7d793037a0760186";

/** The port of a `bftp://127.0.0.1:PORT` URL. */
const portOf = (url: string) => Number(/:(\d+)$/.exec(url)![1]);

Deno.test("e2e: a token from BFTP_TOKEN opens the server; none or a wrong one exits 15", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("a.txt"), "members only");
  await using server = await startServe(dir.path, [], { env: { BFTP_TOKEN: TOKEN } });
  await waitFor(
    () => /an access token required \(1 accepted, read at start\)/.test(server.stderrText()),
    "the serving line",
  );
  // The token is not on the server's command line (what `ps` shows).
  const cmdline = await Deno.readTextFile(`/proc/${server.process.pid}/cmdline`);
  ok(!cmdline.includes(TOKEN), "the token is in the process list");
  const none = await runBftp(["get", `${server.url}/a.txt`, "-"]);
  // The server is named: of several URLs or a volume's servers, the one that asked.
  const named = `"127\\.0\\.0\\.1:${new URL(server.url).port}"`;
  assertFailure(
    none,
    15,
    new RegExp(
      `^bftp: The server ${named} requires an access token: give --token or set BFTP_TOKEN$`,
    ),
  );
  const started = performance.now();
  const wrong = await runBftp(["get", `${server.url}/a.txt`, "-"], {
    env: { BFTP_TOKEN: "not-the-token" },
  });
  assertFailure(
    wrong,
    15,
    new RegExp(`^bftp: The server ${named} refused the token: Wrong token$`),
  );
  ok(performance.now() - started >= 900, "a wrong token is answered after about a second");
  const right = await runBftp(["get", `${server.url}/a.txt`, "-"], { env: { BFTP_TOKEN: TOKEN } });
  equal(right.code, 0, right.stderr);
  equal(right.stdout, "members only");
  const flag = await runBftp(["ls", `${server.url}/`, "--token", TOKEN]);
  equal(flag.code, 0, flag.stderr);
  equal(flag.stdout, "a.txt\n");
  await server.stop();
  const log = server.stderrText();
  ok(/AUTH DENIED \(wrong token, 1 of 3\)/.test(log) && /AUTH ok \(read-write\)/.test(log), log);
  ok(!log.includes(TOKEN) && !log.includes("not-the-token"), "a token is in the server log");
});

Deno.test("e2e: hash, rm, mkdir of several URLs with a wrong token try it once and say so once", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("a.txt"), "a");
  await using server = await startServe(dir.path, [], { env: { BFTP_TOKEN: TOKEN } });
  const urls = ["a.txt", "b", "c", "d"].map((p) => `${server.url}/${p}`);
  const env = { BFTP_TOKEN: "not-the-token" };
  for (const args of [["hash", ...urls], ["rm", ...urls], ["mkdir", ...urls]]) {
    assertFailure(
      await runBftp(args, { env }),
      15,
      new RegExp(`^bftp: The server "127\\.0\\.0\\.1:\\d+" refused the token: Wrong token$`, "m"),
    );
  }
  await server.stop();
  // One AUTH a command: two more would have been strikes against the address.
  equal(server.stderrText().match(/AUTH DENIED/g)?.length, 3);
  equal(await Deno.readTextFile(dir.join("a.txt")), "a");
});

Deno.test("e2e: three wrong tokens on one connection close it", async () => {
  await using dir = await tempDir();
  await using server = await startServe(dir.path, ["--token", TOKEN]);
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(server.url) });
  const reader = new BufferedReader(conn);
  const receive = async (): Promise<Reply | null> => {
    const bytes = await readSized(reader, { maxBytes: 65536 });
    return bytes === null ? null : decodeReply(bytes);
  };
  await writeAll(conn, encodeDelimited("BFTP/1"));
  const hello = await receive();
  equal(hello?.ok && hello.auth, "token");
  // Before a good AUTH nothing is answered but DENIED.
  await writeSized(conn, encodeMessage({ op: "LIST", path: "/" }));
  const listed = await receive();
  equal(listed?.ok === false && listed.code, "DENIED");
  for (let i = 1; i <= 3; i++) {
    const started = performance.now();
    await writeSized(conn, encodeMessage({ op: "AUTH", token: `guess-${i}` }));
    const reply = await receive();
    equal(reply?.ok === false && reply.code, "DENIED");
    ok(performance.now() - started >= 900, `wrong token ${i} answered at once`);
  }
  equal(await receive(), null, "the connection is closed after the third wrong token");
  await server.waitForLog(/closed after 3 wrong tokens/);
});

Deno.test("e2e: a token file gives read-write and read-only tokens", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("root"));
  await Deno.writeTextFile(dir.join("root", "doc.txt"), "v1");
  await Deno.writeTextFile(dir.join("up.txt"), "v2");
  await Deno.writeTextFile(
    dir.join("tokens"),
    `# who may do what\nrw ${TOKEN}\nro ${RO_TOKEN}\n`,
  );
  await using server = await startServe(dir.join("root"), ["--token-file", dir.join("tokens")]);
  const ro = { env: { BFTP_TOKEN: RO_TOKEN } };
  const read = await runBftp(["get", `${server.url}/doc.txt`, "-"], ro);
  equal(read.stdout, "v1", read.stderr);
  assertFailure(
    await runBftp(["put", dir.join("up.txt"), `${server.url}/doc.txt`], ro),
    15,
    /read-only/,
  );
  assertFailure(await runBftp(["rm", `${server.url}/doc.txt`], ro), 15, /read-only/);
  assertFailure(await runBftp(["mkdir", `${server.url}/new`], ro), 15, /read-only/);
  assertFailure(await runBftp(["mkdir", "-p", `${server.url}/new`], ro), 15, /read-only/);
  // A folder that is there is no error for mkdir -p, as on a read-only file system.
  await Deno.mkdir(dir.join("root", "there"));
  equal((await runBftp(["mkdir", "-p", `${server.url}/there`], ro)).code, 0);
  // An empty --token is refused rather than hiding BFTP_TOKEN.
  assertFailure(
    await runBftp(["ls", `${server.url}/`, "--token", ""], ro),
    2,
    /--token needs a token \(without it, BFTP_TOKEN is used\)/,
  );
  equal(await Deno.readTextFile(dir.join("root", "doc.txt")), "v1");
  const rw = await runBftp(["put", dir.join("up.txt"), `${server.url}/doc.txt`], {
    env: { BFTP_TOKEN: TOKEN },
  });
  equal(rw.code, 0, rw.stderr);
  equal(await Deno.readTextFile(dir.join("root", "doc.txt")), "v2");
  await server.stop();
  const log = server.stderrText();
  ok(/AUTH ok \(read-only\)/.test(log), log);
  ok(!log.includes(TOKEN) && !log.includes(RO_TOKEN));
});

Deno.test("e2e: a malformed token file stops serve without showing a token", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("tokens"), `rw ${TOKEN}\nadmin ${RO_TOKEN}\n`);
  const r = await runBftp(["serve", dir.path, "--port", "0", "--token-file", dir.join("tokens")]);
  assertFailure(r, 2, /line 2/);
  ok(!r.stderr.includes(RO_TOKEN) && !r.stderr.includes(TOKEN));
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--token-file", dir.join("none")]),
    3,
    /token file/,
  );
});
