import { equal, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import type { BftpClient } from "../../lib/client/client.ts";
import { RemoteError, type RemoteErrorCode } from "../../lib/errors.ts";
import { MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { startTestServer, type TestServer, writeLayout } from "../server/helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every verb a path can be given to; RENAME twice (the path as source, then as target). */
const VERBS = [
  "CD",
  "LIST",
  "STAT",
  "GET",
  "HASH",
  "PUT",
  "DELETE",
  "MKDIR",
  "MKDIR -p",
  "RMDIR",
  "RENAME from",
  "RENAME to",
] as const;
type Verb = typeof VERBS[number];

/** The verbs that follow a symlink at the end of the path (they read what it points to). */
const FOLLOWING: ReadonlySet<Verb> = new Set(["CD", "LIST", "STAT", "GET", "HASH"]);

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

/** Typed codes a confined failure may have; SERVER or BAD_REQUEST would be a bug. */
const TYPED: ReadonlySet<RemoteErrorCode> = new Set<RemoteErrorCode>([
  "BAD_PATH",
  "NOT_FOUND",
  "NOT_DIR",
  "IS_DIR",
  "EXISTS",
  "NOT_EMPTY",
  "NOT_REGULAR",
  "DENIED",
]);

const SECRET = `TOP-SECRET-${crypto.randomUUID()}`;
const SECRET_HASH = createHash("sha256").update(SECRET).digest("hex");
const PAYLOAD = `PAYLOAD-${crypto.randomUUID()}`;

/** The host layout: `base/secret.txt`, `base/canary/...` outside, `base/root/...` served. */
async function buildOutside(base: string): Promise<void> {
  await Deno.writeTextFile(`${base}/secret.txt`, SECRET);
  await writeLayout(`${base}/canary`, {
    "c.txt": `canary ${SECRET}`,
    "sub/d.txt": "deep canary",
    "empty/": "",
  });
}

async function buildRoot(root: string, base: string): Promise<void> {
  await writeLayout(root, {
    "inside.txt": "inside",
    "victim.txt": "victim",
    "dir/f.txt": "f",
    "dir/sub/": "",
  });
  await Deno.symlink(`${base}/secret.txt`, `${root}/link-file`);
  await Deno.symlink(`${base}/canary`, `${root}/link-dir`);
  await Deno.symlink(`${base}/canary/new-file`, `${root}/dangling`);
  await Deno.symlink(`${base}/canary/newdir`, `${root}/dangling-dir`);
  await Deno.symlink("chain2", `${root}/chain1`);
  await Deno.symlink(`${base}/canary`, `${root}/chain2`);
  await Deno.symlink("chain-file2", `${root}/chain-file1`);
  await Deno.symlink("../secret.txt", `${root}/chain-file2`);
  await Deno.symlink("../../secret.txt", `${root}/dir/up`);
  await Deno.symlink("../canary", `${root}/rel-dir`);
  await Deno.symlink("loop2", `${root}/loop1`);
  await Deno.symlink("loop1", `${root}/loop2`);
  await Deno.symlink("inside.txt", `${root}/good-link`);
  await Deno.symlink("dir", `${root}/good-dir`);
}

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

/** Everything outside the root, with contents and link targets, to compare before/after. */
async function snapshot(dir: string, skip?: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (d: string) => {
    const names = (await Array.fromAsync(Deno.readDir(d))).map((e) => e.name).sort();
    for (const name of names) {
      const p = `${d}/${name}`;
      if (p === skip) continue;
      const info = await Deno.lstat(p);
      if (info.isSymlink) lines.push(`${p} -> ${await Deno.readLink(p)}`);
      else if (info.isDirectory) {
        lines.push(`${p}/ ${info.mode}`);
        await walk(p);
      } else lines.push(`${p} ${info.mode} ${info.mtime?.getTime()} ${await Deno.readTextFile(p)}`);
    }
  };
  await walk(dir);
  return lines.join("\n");
}

/** Runs one verb on one path; returns what came back (to scan for the secret). */
async function run(client: BftpClient, verb: Verb, path: string): Promise<string> {
  switch (verb) {
    case "CD":
      return await client.cd(path);
    case "LIST":
      return JSON.stringify(await client.list(path));
    case "STAT":
      return JSON.stringify(await client.stat(path));
    case "GET": {
      const sink = new MemoryWriter();
      const result = await client.get(path, sink);
      return decoder.decode(sink.bytes) + JSON.stringify(result);
    }
    case "HASH":
      return JSON.stringify(await client.hash(path));
    case "PUT": {
      const body = encoder.encode(PAYLOAD);
      return JSON.stringify(
        await client.put(path, new MemoryReader(body), { size: body.byteLength }),
      );
    }
    case "DELETE":
      await client.delete(path);
      return "";
    case "MKDIR":
      await client.mkdir(path, false);
      return "";
    case "MKDIR -p":
      await client.mkdir(path, true);
      return "";
    case "RMDIR":
      await client.rmdir(path);
      return "";
    case "RENAME from":
      await client.rename(path, "/renamed-target");
      return "";
    case "RENAME to":
      await client.rename("/victim.txt", path);
      return "";
  }
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
        if (verb === "GET" || verb === "HASH") equal(code, "ok", where);
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
  const rootBefore = await snapshot(srv.root);
  const cases = hostileCases(srv);
  // 77 hostile paths x 12 verbs (RENAME counted as source and as target): 924 cases.
  equal(cases.length, 77);
  equal(VERBS.length, 12);
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
        await Deno.remove(srv.root, { recursive: true });
        await Deno.mkdir(srv.root);
        await buildRoot(srv.root, srv.base);
      }
    }
  }
  equal(ran, 924);
  // Most hostile cases are refusals; a test where nothing failed would prove nothing.
  ok(refusedOrFailed > ran / 2, `${refusedOrFailed} of ${ran} failed`);
  equal(await snapshot(srv.base, srv.root), outsideBefore);
  const passwdAfter = await Deno.readFile("/etc/passwd").catch(() => null);
  equal(passwdAfter?.byteLength, passwdBefore?.byteLength);
});
