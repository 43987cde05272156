import { equal, ok } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import { startTestServer, type TestServer } from "../server/helpers.ts";
import {
  buildOutside,
  buildRoot,
  FOLLOWING,
  READING,
  rebuildRoot,
  run,
  SECRET,
  SECRET_HASH,
  snapshot,
  TYPED,
  type Verb,
  VERBS,
} from "./hostile_root.ts";

/**
 * What each path must give:
 * - refused: BAD_PATH for every verb, before the file system is touched;
 * - through: it passes through a symlink that leads outside: BAD_PATH for every verb;
 * - escape: it names a symlink that leads outside: BAD_PATH for every verb that follows
 *   it; the others act on the link itself (inside the root) or fail with a typed error;
 * - absent: it resolves inside the root to nothing: NOT_FOUND (MKDIR -p may create it, inside);
 * - confined: an odd but legal name: anything typed, or success, as long as it stays inside;
 * - works: a symlink inside pointing inside: the following verbs that fit it succeed.
 */
type Expect = "refused" | "through" | "escape" | "absent" | "confined" | "works";

function hostileCases(srv: TestServer): [string, Expect][] {
  const { base, root } = srv;
  return [
    // Climbing above the root.
    ["..", "refused"],
    ["../", "refused"],
    ["../x", "refused"],
    ["../secret.txt", "refused"],
    ["../canary/c.txt", "refused"],
    ["a/../../x", "refused"],
    ["dir/../../secret.txt", "refused"],
    ["dir/sub/../../../x", "refused"],
    ["/../x", "refused"],
    ["/..", "refused"],
    ["./../x", "refused"],
    ["dir/./../../x", "refused"],
    ["/../../../../../../etc/passwd", "refused"],
    // Backslashes and drive letters.
    ["..\\x", "refused"],
    ["..\\..\\secret.txt", "refused"],
    ["dir\\f.txt", "refused"],
    ["C:\\x", "refused"],
    ["\\\\server\\share\\x", "refused"],
    ["C:x", "refused"],
    ["c:/x", "refused"],
    ["/C:/x", "refused"],
    // Control characters.
    ["a\0b", "refused"],
    ["../secret.txt\0.txt", "refused"],
    ["\0", "refused"],
    ["\n", "refused"],
    ["a\nb", "refused"],
    ["\r", "refused"],
    ["\t", "refused"],
    ["\x1b[31m", "refused"],
    ["\x7f", "refused"],
    // Too long: a 256-byte name, a 256-byte name in UTF-8, a path over 4096 bytes.
    ["x".repeat(256), "refused"],
    ["é".repeat(128), "refused"],
    ["a/".repeat(2049), "refused"],
    // bftp's own temporary names.
    [".bftp-tmp-x", "refused"],
    ["dir/.bftp-tmp-x.part", "refused"],
    [".bftp-tmp-", "refused"],
    // Absolute host paths: they are virtual paths inside the root, where nothing is.
    ["/etc/passwd", "absent"],
    ["//etc//passwd", "absent"],
    [`${base}/secret.txt`, "absent"],
    [`${base}/canary/c.txt`, "absent"],
    [`${root}/inside.txt`, "absent"],
    // Odd names that are legal and must stay inside.
    ["....//x", "confined"],
    [".../../x", "confined"],
    ["%2e%2e/x", "confined"],
    ["%2e%2e%2fsecret.txt", "confined"],
    ["..%2f..%2fsecret.txt", "confined"],
    ["~", "confined"],
    ["~/x", "confined"],
    ["...", "confined"],
    [" ", "confined"],
    ["-rf", "confined"],
    ["x".repeat(255), "confined"],
    [("d".repeat(254) + "/").repeat(16), "confined"],
    [".", "confined"],
    ["/", "confined"],
    // Symlinks that lead outside: to a file, a folder, relative, chained, dangling, looping.
    ["link-file", "escape"],
    ["link-dir", "escape"],
    ["dir/up", "escape"],
    ["rel-dir", "escape"],
    ["chain1", "escape"],
    ["chain-file1", "escape"],
    ["loop1", "escape"],
    ["dangling", "confined"],
    ["link-dir/c.txt", "through"],
    ["link-dir/sub", "through"],
    ["link-dir/sub/d.txt", "through"],
    ["link-dir/new.txt", "through"],
    ["link-dir/empty", "through"],
    ["rel-dir/c.txt", "through"],
    ["chain1/c.txt", "through"],
    ["chain1/sub/d.txt", "through"],
    ["loop1/x", "through"],
    ["dangling-dir/x", "confined"],
    ["link-file/x", "through"],
    // Symlinks inside pointing inside: they work.
    ["good-link", "works"],
    ["good-dir", "works"],
    ["good-dir/f.txt", "works"],
  ];
}

function check(expect: Expect, verb: Verb, path: string, error: RemoteError | null): void {
  const where = `${verb} ${JSON.stringify(path.length > 60 ? path.slice(0, 60) + "..." : path)}`;
  const code = error?.code ?? "ok";
  if (error) ok(TYPED.has(error.code), `${where}: untyped failure ${code}: ${error.message}`);
  switch (expect) {
    case "refused":
    case "through":
      equal(code, "BAD_PATH", where);
      break;
    case "escape":
      if (FOLLOWING.has(verb)) equal(code, "BAD_PATH", where);
      break;
    case "absent":
      if (verb === "MKDIR -p") ok(code === "ok" || code === "NOT_FOUND", `${where}: ${code}`);
      else equal(code, "NOT_FOUND", where);
      break;
    case "works":
      if (verb === "STAT") equal(code, "ok", where);
      if (path.endsWith("f.txt") || path === "good-link") {
        if (READING.has(verb)) equal(code, "ok", where);
      } else if (verb === "CD" || verb === "LIST") {
        equal(code, "ok", where);
      }
      break;
    case "confined":
      break;
  }
}

Deno.test("root: hostile paths never escape the served root, for every verb", async () => {
  await using srv = await startTestServer();
  await buildOutside(srv.base);
  await buildRoot(srv.root, srv.base);
  const passwdBefore = await Deno.readFile("/etc/passwd").catch(() => null);
  const outsideBefore = await snapshot(srv.base, srv.root);
  // Rebuilt after a case that changed the root (new mtimes): compared with the latest build.
  let rootBefore = await snapshot(srv.root);
  const cases = hostileCases(srv);
  // 77 hostile paths x 17 verbs (RENAME counted as source and as target): 1,309 cases.
  equal(cases.length, 77);
  equal(VERBS.length, 17);
  using client = await srv.connect();
  let ran = 0;
  let refusedOrFailed = 0;
  for (const [path, expect] of cases) {
    // Read verbs come first: had an absolute path reached the host, a write would not be tried.
    for (const verb of VERBS) {
      ran++;
      let error: RemoteError | null = null;
      let output = "";
      try {
        output = await run(client, verb, path);
      } catch (e) {
        if (!(e instanceof RemoteError)) {
          throw new Error(`${verb} ${JSON.stringify(path)}: ${String(e)}`, { cause: e });
        }
        error = e;
        refusedOrFailed++;
      }
      const where = `${verb} ${JSON.stringify(path.slice(0, 80))}`;
      check(expect, verb, path, error);
      // Nothing outside was read...
      const seen = output + (error?.message ?? "");
      ok(!seen.includes(SECRET) && !seen.includes(SECRET_HASH), `${where} leaked the secret`);
      // (A path that is itself a host path is echoed back, as the virtual path it is.)
      if (!path.includes(srv.base)) {
        ok(!seen.includes(srv.base), `${where} showed a host path: ${seen}`);
      }
      // ...and nothing outside was written, created, renamed or removed.
      equal(await snapshot(srv.base, srv.root), outsideBefore, `${where} changed the outside`);
      // The session is still usable (and back at the root after a CD that worked).
      equal(await client.cd("/"), "/", where);
      // Uploads that failed left no temporary; then the root is put back for the next case.
      const rootNow = await snapshot(srv.root);
      ok(!rootNow.includes(".bftp-tmp-"), `${where} left a temporary file`);
      if (rootNow !== rootBefore) {
        await rebuildRoot(srv.root, srv.base);
        rootBefore = await snapshot(srv.root);
      }
    }
  }
  equal(ran, 1309);
  // Most hostile cases are refusals; a test where nothing failed would prove nothing.
  ok(refusedOrFailed > ran / 2, `${refusedOrFailed} of ${ran} failed`);
  equal(await snapshot(srv.base, srv.root), outsideBefore);
  const passwdAfter = await Deno.readFile("/etc/passwd").catch(() => null);
  equal(passwdAfter?.byteLength, passwdBefore?.byteLength);
});
