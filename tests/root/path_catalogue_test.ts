// The path catalogue: hundreds of hostile paths, built group by group (every
// ".." form, absolute host paths, drive letters and UNC, backslashes, percent,
// overlong and look-alike Unicode encodings, NUL and every control character,
// very long names and paths, reserved names, symlinks leading outside as a
// file, as a folder, in the middle of a path, chained, dangling, looping, and
// FIFOs), each sent with every verb to a real server over a real socket. No
// case may escape the root (read the secret, change anything outside, show a
// host path), none may crash or hang the server, and the session must stay
// usable after every one.

import { equal, ok } from "node:assert/strict";
import { BftpClient } from "../../lib/client/client.ts";
import { RemoteError } from "../../lib/errors.ts";
import { recordFigures } from "../proof_figures.ts";
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
  SECRET_XXH3,
  snapshot,
  TYPED,
  type Verb,
  VERBS,
} from "./hostile_root.ts";

/**
 * What a path must give (see also tests/root/confinement_test.ts):
 * - refused: BAD_PATH for every verb, before the file system is touched;
 * - through: it passes through a symlink that leads outside: BAD_PATH for every verb;
 * - escape: it names a symlink that leads outside: BAD_PATH for the verbs that follow it;
 *   the others act on the link itself, inside, or fail with a typed error;
 * - absent: inside the root, under a folder that does not exist: NOT_FOUND
 *   (MKDIR -p may make it, inside);
 * - confined: an odd but legal name: success or a typed error, as long as it stays inside;
 * - malformed: a string JSON carries but no file name can (a lone UTF-16 surrogate, which
 *   UTF-8 would turn into U+FFFD): the request is refused, BAD_REQUEST, for every verb;
 * - dir / file / fifo: a symlink or path inside that reaches a folder, a file or a FIFO: the
 *   reads that fit succeed, and GET and HASH of a FIFO say NOT_REGULAR without blocking.
 */
type Expect =
  | "refused"
  | "through"
  | "escape"
  | "absent"
  | "confined"
  | "malformed"
  | "dir"
  | "file"
  | "fifo";

interface Case {
  group: string;
  path: string;
  expect: Expect;
}

const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).concat("\x7f");

/** The catalogue, built systematically; the layout is tests/root/hostile_root.ts's. */
function catalogue(srv: TestServer): Case[] {
  const { base, root } = srv;
  const cases: Case[] = [];
  const add = (group: string, expect: Expect, ...paths: string[]) => {
    for (const path of paths) cases.push({ group, path, expect });
  };

  // Every ".." form: climbs of one, two, three and thirteen levels, in ten spellings, towards
  // four targets. Each climbs above the root at some point, even when it comes back down.
  const climbs = ["..", "../..", "../../..", "../".repeat(12) + ".."];
  const spellings: ((c: string) => string)[] = [
    (c) => c,
    (c) => c + "/",
    (c) => c + "/.",
    (c) => "./" + c,
    (c) => "/" + c,
    (c) => "//" + c.replaceAll("/", "//"),
    (c) => c.replaceAll("..", "../x/.."),
    (c) => "dir/../" + c,
    (c) => "dir/sub/../../" + c,
    (c) => "./dir//sub/.././../" + c,
  ];
  const targets = ["", "/x", "/secret.txt", "/root/inside.txt"];
  for (const climb of climbs) {
    for (const spell of spellings) {
      for (const target of targets) add("dot-dot", "refused", spell(climb) + target);
    }
  }
  // ".." that stays inside is legal.
  add("dot-dot", "dir", "dir/..", "dir/sub/../..", "./dir/./..", "dir/sub/..");
  add("dot-dot", "file", "dir/../inside.txt", "dir/sub/../../dir/f.txt");

  // Absolute host paths are virtual paths from the root, where nothing is.
  add(
    "absolute",
    "absent",
    "/etc/passwd",
    "/etc/shadow",
    "/proc/self/environ",
    "/proc/self/root/etc/passwd",
    "/proc/self/cwd/x",
    "/dev/zero/x",
    "/dev/fd/0",
    "/root/.ssh/id_rsa",
    "//etc//passwd",
    "///etc/./passwd",
    "file:///etc/passwd",
    `${base}/secret.txt`,
    `${base}/canary/c.txt`,
    `${root}/inside.txt`,
  );

  // Drive letters and UNC paths.
  add(
    "drive-unc",
    "refused",
    "C:",
    "C:\\",
    "C:/",
    "C:/x",
    "c:x",
    "Z:\\secret.txt",
    "/C:/Windows/win.ini",
    "dir/C:/x",
    "C:..",
    "C:../secret.txt",
    "\\\\server\\share",
    "\\\\server\\share\\x",
    "\\\\?\\C:\\x",
    "\\\\.\\pipe\\x",
    "\\\\localhost\\c$\\x",
  );
  add("drive-unc", "absent", "//server/share/x", "//localhost/c$/x");

  // Backslashes, alone or mixed with slashes.
  add(
    "backslash",
    "refused",
    "\\",
    "\\x",
    "..\\",
    "..\\x",
    "..\\..\\secret.txt",
    "dir\\f.txt",
    "dir\\..\\..\\x",
    "..\\/x",
    "/..\\..",
    "a\\b",
  );

  // Encodings: BFTP paths are never decoded, so these are plain (odd) names, inside.
  add(
    "encoding",
    "confined",
    "%2e%2e",
    "%2e%2e/x",
    "%2e%2e%2fsecret.txt",
    "..%2f",
    "..%2fsecret.txt",
    "..%5csecret.txt",
    "%2e./x",
    ".%2e/x",
    "%252e%252e/x",
    "..%252f",
    "%c0%ae%c0%ae/x",
    "%c0%af",
    "..%c0%afsecret.txt",
    "%e0%80%ae%e0%80%ae/x",
    "%uff0e%uff0e/x",
    "&#46;&#46;/x",
    "\uff0e\uff0e/x",
    "\uff0e\uff0e\uff0fsecret.txt",
    "..\u2215secret.txt",
    "..\u2044x",
    "..\uff0fx",
    "..\uff3cx",
    "\u2025/x",
    "\u2026/x",
    ".\u200b./x",
    "\u202e..",
    "\ufeff../x",
    ". ./x",
    ".. /x",
    " ../x",
    "..;/x",
    "..%00/x",
    "\ud83d\ude00",
    ".\u0307.",
    "e\u0301",
    "\u00e9",
  );

  // Lone surrogates: once two different paths that both named one "\ufffd" file.
  add("surrogate", "malformed", "\ud800", "a\udfffb");

  // NUL and every C0 control character, and DEL, in the middle of a name; and the ones that
  // would forge a log line or drive a terminal.
  for (const c of C0) add("control", "refused", `a${c}b`);
  add(
    "control",
    "refused",
    "\0",
    "..\0",
    "../secret.txt\0.txt",
    "inside.txt\0",
    "\x1b]0;evil\x07",
    "\x1b[2J",
    "\r\n",
    "dir/\n/x",
  );
  // C1 controls and Unicode separators are legal names on the server (the client escapes them
  // when it shows them).
  add("control", "confined", "a\u0085b", "a\u009bb", "\u2028", "\u2029");

  // Very long names and paths: 255 bytes per name and 4,096 per path are the limits.
  add(
    "long",
    "confined",
    "x".repeat(255),
    "\u00e9".repeat(127) + "x",
    "\ud83d\ude00".repeat(63) + "xxx",
    ("d".repeat(254) + "/").repeat(16),
    "a/".repeat(2048),
    "./".repeat(2048),
    "/".repeat(4096),
  );
  add(
    "long",
    "refused",
    "x".repeat(256),
    "\u00e9".repeat(128),
    "\ud83d\ude00".repeat(64),
    "a/".repeat(2049),
    "x".repeat(4097),
    "../".repeat(1366),
    "/".repeat(4097),
  );

  // Reserved names: Windows devices, shell metacharacters, dot files (legal here), and bftp's
  // own temporary names (refused).
  add(
    "reserved",
    "confined",
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "COM1",
    "LPT1",
    "con.txt",
    "NUL.txt",
    "x.",
    "x ",
    "x...",
    "...",
    "~",
    "~root",
    "-rf",
    "--help",
    "*",
    "?",
    "[a]",
    "$(touch pwned)",
    "`id`",
    "x;rm -rf x",
    "|cat",
    "'",
    '"',
    "<>",
    ".BFTP-TMP-x",
    ".git/config",
    ".ssh/authorized_keys",
  );
  add(
    "reserved",
    "refused",
    ".bftp-tmp-",
    ".bftp-tmp-x",
    "dir/.bftp-tmp-x.part",
    ".bftp-tmp-x/../inside.txt",
    `.bftp-tmp-${crypto.randomUUID()}.part`,
  );

  // Symlinks that lead outside: named themselves...
  add(
    "symlink",
    "escape",
    "link-file",
    "link-dir",
    "dir/up",
    "dir/grand",
    "rel-dir",
    "chain1",
    "chain-file1",
    "loop1",
    "link-root",
    "link-etc",
    "link-proc",
    "link-zero",
    "good-dir/up",
  );
  // ...or passed through, in the middle of a path.
  add(
    "symlink",
    "through",
    "link-dir/c.txt",
    "link-dir/sub",
    "link-dir/sub/d.txt",
    "link-dir/new.txt",
    "link-dir/empty",
    "rel-dir/c.txt",
    "chain1/c.txt",
    "chain1/sub/d.txt",
    "loop1/x",
    "link-file/x",
    "dir/up/x",
    "dir/grand/secret.txt",
    "dir/grand/canary/c.txt",
    "link-root/etc/passwd",
    "link-etc/passwd",
    "link-proc/etc/passwd",
    "good-dir/grand/secret.txt",
    "good-dir/../link-dir/c.txt",
  );
  // ".." after a link is resolved by name, not by following the link: "link-dir/.." is "/".
  add("symlink", "absent", "link-dir/../canary/c.txt", "link-dir/../root/inside.txt");
  add(
    "symlink",
    "confined",
    "dangling",
    "dangling-dir",
    "dangling-dir/x",
    "link-dir/../secret.txt",
  );
  // Inside, to inside: they work.
  add("symlink", "dir", "good-dir", "abs-inside", "dir/parent", "dir/parent/dir", "link-dir/..");
  add(
    "symlink",
    "file",
    "good-link",
    "good-dir/f.txt",
    "abs-inside/f.txt",
    "dir/parent/inside.txt",
  );

  // FIFOs: refused for reading before anything opens them, inside or out.
  add("fifo", "fifo", "fifo", "dir/fifo", "good-fifo", "good-dir/fifo");
  add("fifo", "escape", "link-fifo");
  add("fifo", "through", "link-dir/fifo");
  return cases;
}

/** What every verb must give for a path of this kind; `null` when anything typed will do. */
function expected(expect: Expect, verb: Verb): string | string[] | null {
  switch (expect) {
    case "refused":
    case "through":
      return "BAD_PATH";
    case "escape":
      return FOLLOWING.has(verb) ? "BAD_PATH" : null;
    case "absent":
      return verb === "MKDIR -p" ? ["ok", "NOT_FOUND"] : "NOT_FOUND";
    case "confined":
      return null;
    case "malformed":
      return "BAD_REQUEST";
    case "dir":
      return verb === "CD" || verb === "LIST" || verb === "STAT"
        ? "ok"
        : READING.has(verb)
        ? "IS_DIR"
        : null;
    case "file":
      return verb === "STAT" || READING.has(verb)
        ? "ok"
        : verb === "CD" || verb === "LIST"
        ? "NOT_DIR"
        : null;
    case "fifo":
      return READING.has(verb)
        ? "NOT_REGULAR"
        : verb === "STAT"
        ? "ok"
        : verb === "CD" || verb === "LIST"
        ? "NOT_DIR"
        : null;
  }
}

/** A request that takes longer than this is a hang (a FIFO opened, a device read). */
const CASE_DEADLINE_MS = 5000;

async function withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} hung`)), CASE_DEADLINE_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("root: a catalogue of 390 hostile paths x 17 verbs: 0 escapes, 0 crashes, the session still usable", async () => {
  await using srv = await startTestServer();
  await buildOutside(srv.base);
  await buildRoot(srv.root, srv.base);
  const passwdBefore = await Deno.readFile("/etc/passwd").catch(() => null);
  const outsideBefore = await snapshot(srv.base, srv.root);
  // Rebuilt after a case that changed the root (new mtimes): compared with the latest build.
  let rootBefore = await snapshot(srv.root);
  const cases = catalogue(srv);
  equal(new Set(cases.map((c) => c.path)).size, cases.length, "every path is listed once");
  equal(cases.length, 390);
  const groups = new Map<string, number>();
  for (const c of cases) groups.set(c.group, (groups.get(c.group) ?? 0) + 1);

  let client = await srv.connect();
  const failures: string[] = [];
  const codes = new Map<string, number>();
  let escapes = 0;
  let crashes = 0;
  let rebuilds = 0;
  const started = performance.now();
  try {
    for (const { group, path, expect } of cases) {
      for (const verb of VERBS) {
        const where = `${group} ${verb} ${
          JSON.stringify(path.length > 60 ? path.slice(0, 60) + "..." : path)
        }`;
        let code = "ok";
        let seen = "";
        try {
          seen = await withDeadline(run(client, verb, path), where);
        } catch (e) {
          if (e instanceof RemoteError) {
            code = e.code;
            seen = e.message;
            const typed = TYPED.has(e.code) || (expect === "malformed" && e.code === "BAD_REQUEST");
            if (!typed) failures.push(`${where}: untyped ${e.code}: ${e.message}`);
          } else {
            // Not a typed answer: a hang, a broken stream, a bug. Count it and go on afresh.
            crashes++;
            failures.push(`${where}: crashed: ${e instanceof Error ? e.message : String(e)}`);
            client.close();
            client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
            code = "CRASH";
          }
        }
        codes.set(code, (codes.get(code) ?? 0) + 1);
        const want = expected(expect, verb);
        if (want !== null && code !== "CRASH") {
          const allowed = Array.isArray(want) ? want : [want];
          if (!allowed.includes(code)) failures.push(`${where}: got ${code}, want ${allowed}`);
        }
        // An escape: the secret (or its hash) came back, a host path was shown, a path that
        // must be refused succeeded, or anything outside the root changed.
        let escaped = seen.includes(SECRET) || seen.includes(SECRET_HASH) ||
          seen.includes(SECRET_XXH3) ||
          (!path.includes(srv.base) && seen.includes(srv.base)) ||
          ((expect === "refused" || expect === "through") && code === "ok");
        if (await snapshot(srv.base, srv.root) !== outsideBefore) escaped = true;
        if (escaped) {
          escapes++;
          failures.push(`${where}: ESCAPED (${code}): ${seen.slice(0, 200)}`);
        }
        // A malformed MPUT ends its session (its bodies cannot be counted): a new one goes on.
        if (verb === "MPUT" && code === "BAD_REQUEST") {
          client.close();
          client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
        }
        // The session is still usable, and back at the root.
        try {
          equal(await withDeadline(client.cd("/"), `${where}, then CD /`), "/");
        } catch (e) {
          crashes++;
          failures.push(`${where}: the session is no longer usable: ${String(e)}`);
          client.close();
          client = await BftpClient.connect({ hostname: "127.0.0.1", port: srv.port });
        }
        // No temporary file left; the root put back for the next case.
        const rootNow = await snapshot(srv.root);
        if (rootNow.includes(".bftp-tmp-")) failures.push(`${where}: left a temporary file`);
        if (rootNow !== rootBefore) {
          rebuilds++;
          await rebuildRoot(srv.root, srv.base);
          rootBefore = await snapshot(srv.root);
        }
      }
    }
  } finally {
    client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const internal = srv.log.filter((l) => /internal error/.test(l));
  equal(internal.length, 0, internal.join("\n"));
  equal(failures.length, 0, failures.slice(0, 20).join("\n"));
  equal(escapes, 0);
  equal(crashes, 0);
  const total = cases.length * VERBS.length;
  equal([...codes.values()].reduce((a, b) => a + b, 0), total);
  // Most of the catalogue is refused; a run where nothing failed would prove nothing.
  ok((codes.get("BAD_PATH") ?? 0) > total / 2, JSON.stringify([...codes]));
  equal(await snapshot(srv.base, srv.root), outsideBefore);
  equal(
    (await Deno.readFile("/etc/passwd").catch(() => null))?.byteLength,
    passwdBefore?.byteLength,
  );
  await recordFigures("path catalogue", {
    paths: cases.length,
    verbs: VERBS.length,
    cases: total,
    groups: Object.fromEntries(groups),
    answers: Object.fromEntries([...codes].sort()),
    escapes,
    crashes,
    rootRebuilds: rebuilds,
    seconds: Number(seconds.toFixed(1)),
  });
});
