/**
 * README.md's first shell example (the quick start), run as it stands with
 * the real entry point: only its `port=2121` is changed to a free port, and
 * `scripts/bftp` to `$BFTP_BIN` when that is set. It must print what README
 * says, nothing on stderr, and leave nothing untracked in the checkout.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import { BFTP_BIN, closedPort } from "../e2e/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The first ```sh block after README's "## Quick start" heading. */
async function quickStart(): Promise<string> {
  const text = await Deno.readTextFile(`${ROOT}README.md`);
  const m = /^## Quick start\n[\s\S]*?^```sh\n([\s\S]*?)^```$/m.exec(text);
  ok(m, "README.md has a ```sh block under ## Quick start");
  return m[1]!;
}

/** `git status --porcelain` of the checkout: what is untracked or changed. */
async function gitStatus(): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["status", "--porcelain", "--untracked-files=all"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("readme doc: the quick start works pasted as it stands, from the checkout", async () => {
  const example = await quickStart();
  ok(/^port=2121 /m.test(example), "the example names its port in one place");
  ok(example.includes("# prints: report.txt"), "README says what ls prints");
  const port = closedPort();
  const script = example.replace(/^port=2121 /m, `port=${port} `)
    .replaceAll("scripts/bftp ", `${BFTP_BIN.replaceAll(" ", "\\ ")} `);
  const before = await gitStatus();
  const out = await new Deno.Command("bash", {
    // Stops the server even when a line fails.
    args: ["-c", `set -e; trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${script}`],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  const stderr = decoder.decode(out.stderr);
  equal(out.code, 0, stderr);
  equal(decoder.decode(out.stdout), "report.txt\nhello, bftp\n");
  equal(stderr, "", "the server's log stays out of the client's output");
  equal(await gitStatus(), before, "nothing new in the checkout");
});
