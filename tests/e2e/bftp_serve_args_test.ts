/**
 * End-to-end: what `bftp serve` refuses on its command line and in its
 * environment before it serves anything: an empty `--token` (what
 * `--token "$TOKEN"` gives when the variable is unset), an empty
 * `BFTP_TOKEN`, an empty `--token-file` name, and a token file without a
 * token. Each is a usage error (exit 2) with one line on stderr, and no
 * server starts without the token check that was asked for.
 *
 * @module
 */

import { equal } from "node:assert/strict";
import { sharedVolumeType } from "../../lib/root/shared_volume.ts";
import { assertFailure, runBftp, sha256, startServe, tempDir, waitFor } from "./helpers.ts";

Deno.test("e2e: serve refuses an empty --token with exit 2", async () => {
  await using dir = await tempDir();
  for (const args of [["--token", ""], ["--token="]]) {
    assertFailure(
      await runBftp(["serve", dir.path, "--port", "0", ...args]),
      2,
      /^bftp: Invalid value "" for --token: the token must not be empty/,
    );
  }
  // A blank one was refused before, and still is.
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--token", " "]),
    2,
    /must be non-empty/,
  );
});

Deno.test("e2e: serve refuses BFTP_TOKEN set but empty with exit 2", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("tokens"), "rw file-token-0123456789\n");
  for (const extra of [[], ["--token-file", dir.join("tokens")]]) {
    assertFailure(
      await runBftp(["serve", dir.path, "--port", "0", ...extra], { env: { BFTP_TOKEN: "" } }),
      2,
      /^bftp: BFTP_TOKEN is set but empty: give a token or unset it/,
    );
  }
  // A --token given on the command line is the one used: BFTP_TOKEN is not read then.
  await using server = await startServe(dir.path, ["--token", "flag-token-0123456789"], {
    env: { BFTP_TOKEN: "" },
  });
  await waitFor(
    () => /an access token required \(1 accepted, read at start\)/.test(server.stderrText()),
    "the serving line",
  );
  assertFailure(await runBftp(["ls", `${server.url}/`]), 15);
  const ls = await runBftp(["ls", `${server.url}/`, "--token", "flag-token-0123456789"]);
  equal(ls.code, 0, ls.stderr);
});

Deno.test("e2e: serve refuses an empty --token-file name and a token file without a token", async () => {
  await using dir = await tempDir();
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--token-file", ""]),
    2,
    /^bftp: Invalid value "" for --token-file: the file name must not be empty/,
  );
  // Blank lines, lines of spaces and comments are skipped; with nothing else there is no token.
  for (const text of ["", "\n\n", "  \n\t\n", "# rw commented-out\n\n", "\r\n\r\n"]) {
    await Deno.writeTextFile(dir.join("tokens"), text);
    assertFailure(
      await runBftp(["serve", dir.path, "--port", "0", "--token-file", dir.join("tokens")]),
      2,
      /^bftp: No token in the token file/,
    );
  }
  // A kind with an empty token is a malformed line, not an empty token.
  await Deno.writeTextFile(dir.join("tokens"), "rw \nro\t\n");
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--token-file", dir.join("tokens")]),
    2,
    /^bftp: Invalid line 1 in the token file/,
  );
  // Blank lines around real tokens are fine.
  await Deno.writeTextFile(dir.join("tokens"), "\n\nrw file-token-0123456789\n\n");
  await using server = await startServe(dir.path, ["--token-file", dir.join("tokens")]);
  await waitFor(
    () => /an access token required \(1 accepted, read at start\)/.test(server.stderrText()),
    "the serving line",
  );
});

Deno.test("e2e: listening on a host name that does not resolve is exit 4, for every listening command", async () => {
  await using dir = await tempDir();
  const host = ["--host", "nosuch.invalid"];
  for (
    const args of [
      ["serve", dir.path, "--port", "0", ...host],
      ["serve", dir.path, "--port", "0", "--workers", "2", ...host],
      ["echo-server", "--port", "0", "--workers", "1", ...host],
      ["recv", "--listen", "0", ...host],
      ["send", "--listen", "0", ...host],
    ]
  ) {
    assertFailure(
      await runBftp(args, { stdin: "" }),
      4,
      /^bftp: Cannot listen on "nosuch\.invalid:0": unknown host/,
    );
  }
});

Deno.test("e2e: an empty --host and serve --max-connections 0 are usage errors (exit 2)", async () => {
  await using dir = await tempDir();
  for (
    const args of [
      ["serve", dir.path, "--port", "0", "--host="],
      ["echo-server", "--port", "0", "--host="],
      ["recv", "--listen", "0", "--host="],
      ["send", "--listen", "0", "--host="],
    ]
  ) {
    assertFailure(await runBftp(args, { stdin: "" }), 2, /Invalid value "" for --host/);
  }
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--max-connections", "0"]),
    2,
    /--max-connections: at least 1/,
  );
  // Each worker is a heap of its own: a thousand would take gigabytes.
  assertFailure(
    await runBftp(["serve", dir.path, "--port", "0", "--workers", "1000"]),
    2,
    /--workers: from 1 to 256/,
  );
});

Deno.test("e2e: a second serve --workers 2 on a port that another one holds is refused (exit 4), not joined", async () => {
  await using dir = await tempDir();
  await using first = await startServe(dir.path, ["--workers", "2"]);
  const port = /:(\d+)$/.exec(first.url)![1]!;
  for (const workers of ["2", "1"]) {
    assertFailure(
      await runBftp(["serve", dir.path, "--port", port, "--workers", workers]),
      4,
      /address (already )?in use/,
    );
  }
  // The first one still serves.
  const pwd = await runBftp(["shell", first.url], { stdin: "pwd\n" });
  equal(pwd.stdout, "/\n", pwd.stderr);
});

Deno.test("e2e: serve of a missing folder or a file is a local error (exit 3) that says how to make it", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("f"), "");
  assertFailure(
    await runBftp(["serve", dir.join("missing"), "--port", "0"]),
    3,
    /^bftp: Cannot serve ".*missing": no such folder \(create it with: mkdir -p /,
  );
  assertFailure(
    await runBftp(["serve", dir.join("f"), "--port", "0"]),
    3,
    /^bftp: Cannot serve ".*f": not a folder$/,
  );
});

Deno.test("e2e: serve --shared says on its serving line that it remembers no hashes, with one worker or two", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("a.txt"), "version A");
  for (const workers of ["1", "2"]) {
    await using server = await startServe(dir.path, ["--shared", "--workers", workers]);
    await waitFor(
      () => /on a shared volume \(shared\), no file hashes remembered/.test(server.stderrText()),
      "the serving line",
    );
    const hash = await runBftp(["hash", `${server.url}/a.txt`]);
    equal(hash.stdout, `${sha256("version A")}  a.txt\n`);
  }
  // Without the flag, only a folder the mount table shows as shared is one (a local disk here).
  await using local = await startServe(dir.path);
  await waitFor(() => / serving /.test(local.stderrText()), "the serving line");
  const detected = sharedVolumeType(await Deno.realPath(dir.path)) !== null;
  equal(/shared volume/.test(local.stderrText()), detected);
});
