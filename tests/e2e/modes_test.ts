// The permission bits of what a transfer makes, without -p: a new file (or a downloaded folder)
// gets its source's bits less the umask of the side that makes it (as scp, sftp and rsync give
// them: a private file stays private), a replaced file keeps its own.

import { deepEqual } from "node:assert/strict";
import { writeLayout } from "../server/helpers.ts";
import { randomBytes, runBftp, startServe, tempDir } from "./helpers.ts";

const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

/** Runs `bftp VERB -q ARGS...`, which must succeed. */
async function quietly(verb: string, ...args: string[]): Promise<void> {
  const r = await runBftp([verb, "-q", ...args]);
  deepEqual(r.code, 0, r.stderr);
}

/** Gives each path below `dir` its bits. */
async function chmodAll(dir: string, modes: Record<string, number>): Promise<void> {
  for (const [path, mode] of Object.entries(modes)) await Deno.chmod(`${dir}/${path}`, mode);
}

Deno.test("e2e: a download without -p gives a new file or folder the server's bits less the umask, a replaced file keeps its own", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await writeLayout(root.path, { "t/small": "s", "t/priv/p": "p", "t/open": "o" });
  await Deno.writeFile(root.join("t", "big"), randomBytes(3_000_000));
  await chmodAll(root.path, {
    "t/small": 0o600,
    "t/big": 0o600,
    "t/priv/p": 0o600,
    "t/open": 0o664,
    "t/priv": 0o700,
  });
  await using server = await startServe(root.path);
  const get = (...args: string[]) => quietly("get", ...args);
  await get(`${server.url}/t/small`, local.join("small"));
  await get(`${server.url}/t/big`, local.join("big"));
  await get("--resume", `${server.url}/t/big`, local.join("resumed"));
  await get("-r", `${server.url}/t`, local.join("tree"));
  await get("-r", "--resume", `${server.url}/t`, local.join("resumed-tree"));
  await Deno.writeTextFile(local.join("kept"), "mine");
  await Deno.chmod(local.join("kept"), 0o640);
  await get(`${server.url}/t/small`, local.join("kept"));
  const umask = Deno.umask();
  const modes = await Promise.all(
    ["small", "big", "resumed", "tree/small", "tree/big", "tree/priv", "tree/priv/p", "tree/open"]
      .concat(["resumed-tree/big", "resumed-tree/priv/p", "kept"])
      .map((p) => modeOf(local.join(p))),
  );
  // small, big, resumed; the tree's small, big, priv/ and priv/p, open; the resumed tree's; kept.
  deepEqual(modes, [
    0o600,
    0o600,
    0o600,
    0o600,
    0o600,
    0o700,
    0o600,
    0o664 & ~umask,
    0o600,
    0o600,
    0o640,
  ]);
});

Deno.test("e2e: an upload without -p gives a new file or folder its source's bits less the server's umask, a replaced file keeps its own", async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  await writeLayout(local.path, {
    "t/small": "s",
    "t/sub/p": "p",
    "t/priv/q": "q",
    "t/ro/r": "r",
    "one": "1",
  });
  await Deno.writeFile(local.join("t", "big"), randomBytes(3_000_000));
  await chmodAll(local.path, { "t/small": 0o600, "t/big": 0o600, "one": 0o600, "t/sub/p": 0o640 });
  await chmodAll(local.path, { "t/sub": 0o750, "t/priv": 0o700, "t/ro": 0o500 });
  await writeLayout(root.path, { kept: "theirs" });
  await chmodAll(root.path, { kept: 0o604 });
  await using server = await startServe(root.path);
  const put = (...args: string[]) => quietly("put", ...args);

  await put(local.join("one"), `${server.url}/one`);
  await put(local.join("t", "big"), `${server.url}/big`);
  await put("--resume", local.join("t", "big"), `${server.url}/resumed`);
  // Small files by MPUT, the large one by PUT.
  await put("-r", local.join("t"), `${server.url}/tree`);
  await put(local.join("one"), `${server.url}/kept`);
  const modes = await Promise.all(
    ["one", "big", "resumed", "tree/small", "tree/big", "tree/sub/p", "kept"]
      .map((p) => modeOf(root.join(p))),
  );
  const umask = Deno.umask();
  deepEqual(modes, [0o600, 0o600, 0o600, 0o600, 0o600, 0o640 & ~umask, 0o604]);
  // A new folder gets its source's bits too, with its owner's (the files go in next).
  const folders = await Promise.all(
    ["tree/sub", "tree/priv", "tree/ro"].map((p) => modeOf(root.join(p))),
  );
  deepEqual(folders, [0o750 & ~umask, 0o700, 0o700]);
  await Deno.chmod(local.join("t", "ro"), 0o700);
});
