/**
 * The hostile layout the confinement tests run against, and the pieces
 * they share: a secret and a canary folder outside the served root,
 * symbolic links from inside to outside (to a file, a folder, a device, a
 * FIFO, relative, absolute, chained, dangling, looping) and inside to
 * inside, FIFOs, a snapshot of a folder tree that never opens a FIFO, and
 * one request of every verb.
 *
 * @module
 */

import { createChecksum } from "../../lib/checksum.ts";
import { equal } from "node:assert/strict";
import type { BftpClient } from "../../lib/client/client.ts";
import { type LocalIoError, RemoteError, type RemoteErrorCode } from "../../lib/errors.ts";
import type { BodyResult } from "../../lib/transfer/body.ts";
import { MemoryReader, MemoryWriter } from "../framing/helpers.ts";
import { writeLayout } from "../server/helpers.ts";
import { sha256 } from "../helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Every verb a path can be given to; RENAME twice (the path as source, then as target). */
export const VERBS = [
  "CD",
  "LIST",
  "STAT",
  "GET",
  "MGET",
  "HASH",
  "BLOCKS",
  "PUT",
  "PUT delta",
  "MPUT",
  "DELETE",
  "MKDIR",
  "MKDIR -p",
  "RMDIR",
  "RENAME from",
  "RENAME to",
  "SETSTAT",
] as const;

/** One of {@linkcode VERBS}. */
export type Verb = typeof VERBS[number];

/** The verbs that read a file's bytes (or their hash): refused for a folder or a FIFO. */
export const READING: ReadonlySet<Verb> = new Set(["GET", "MGET", "HASH", "BLOCKS"]);

/** The verbs that follow a symlink at the end of the path (they read what it points to). */
export const FOLLOWING: ReadonlySet<Verb> = new Set<Verb>([
  "CD",
  "LIST",
  "STAT",
  "PUT delta",
  ...READING,
]);

/** Typed codes a confined failure may have; SERVER or BAD_REQUEST would be a bug. */
export const TYPED: ReadonlySet<RemoteErrorCode> = new Set<RemoteErrorCode>([
  "BAD_PATH",
  "NOT_FOUND",
  "NOT_DIR",
  "IS_DIR",
  "EXISTS",
  "NOT_EMPTY",
  "NOT_REGULAR",
  "DENIED",
]);

/** Text that must never reach a client: it is only in files outside the root. */
export const SECRET = `TOP-SECRET-${crypto.randomUUID()}`;
/** The secret file's SHA-256, which a HASH through an escape would show. */
export const SECRET_HASH: string = sha256(SECRET);
/** The secret file's XXH3-128, which a BLOCKS through an escape would show (the session's checksum). */
export const SECRET_XXH3: string = await (async () => {
  const hash = await createChecksum("xxh3-128");
  hash.update(new TextEncoder().encode(SECRET));
  return hash.digest();
})();
/** What the PUTs upload. */
export const PAYLOAD = `PAYLOAD-${crypto.randomUUID()}`;

/**
 * Makes FIFOs.
 *
 * @param paths Where.
 */
export async function mkfifo(...paths: string[]): Promise<void> {
  const { code } = await new Deno.Command("mkfifo", { args: paths, stderr: "null" }).output();
  equal(code, 0, `mkfifo ${paths.join(" ")} failed`);
}

/**
 * The host layout outside the root: `base/secret.txt`, `base/outside-fifo`,
 * `base/canary/{c.txt, sub/d.txt, empty/, fifo}`.
 *
 * @param base The folder that holds the root.
 */
export async function buildOutside(base: string): Promise<void> {
  await Deno.writeTextFile(`${base}/secret.txt`, SECRET);
  await writeLayout(`${base}/canary`, {
    "c.txt": `canary ${SECRET}`,
    "sub/d.txt": "deep canary",
    "empty/": "",
  });
  await mkfifo(`${base}/outside-fifo`, `${base}/canary/fifo`);
}

/**
 * The served root: files, a FIFO, and symbolic links of every kind.
 *
 * @param root The served folder.
 * @param base The folder that holds it (where the secret is).
 */
export async function buildRoot(root: string, base: string): Promise<void> {
  await writeLayout(root, {
    "inside.txt": "inside",
    "victim.txt": "victim",
    "dir/f.txt": "f",
    "dir/sub/": "",
  });
  // Leading outside.
  await Deno.symlink(`${base}/secret.txt`, `${root}/link-file`);
  await Deno.symlink(`${base}/canary`, `${root}/link-dir`);
  await Deno.symlink(`${base}/canary/new-file`, `${root}/dangling`);
  await Deno.symlink(`${base}/canary/newdir`, `${root}/dangling-dir`);
  await Deno.symlink("chain2", `${root}/chain1`);
  await Deno.symlink(`${base}/canary`, `${root}/chain2`);
  await Deno.symlink("chain-file2", `${root}/chain-file1`);
  await Deno.symlink("../secret.txt", `${root}/chain-file2`);
  await Deno.symlink("../../secret.txt", `${root}/dir/up`);
  await Deno.symlink("../..", `${root}/dir/grand`);
  await Deno.symlink("../canary", `${root}/rel-dir`);
  await Deno.symlink("loop2", `${root}/loop1`);
  await Deno.symlink("loop1", `${root}/loop2`);
  await Deno.symlink("/", `${root}/link-root`);
  await Deno.symlink("/etc", `${root}/link-etc`);
  await Deno.symlink("/proc/self/root", `${root}/link-proc`);
  await Deno.symlink("/dev/zero", `${root}/link-zero`);
  await Deno.symlink(`${base}/outside-fifo`, `${root}/link-fifo`);
  // Inside, to inside.
  await Deno.symlink("inside.txt", `${root}/good-link`);
  await Deno.symlink("dir", `${root}/good-dir`);
  await Deno.symlink("..", `${root}/dir/parent`);
  await Deno.symlink(`${root}/dir`, `${root}/abs-inside`);
  await Deno.symlink("fifo", `${root}/good-fifo`);
  await mkfifo(`${root}/fifo`, `${root}/dir/fifo`);
}

/**
 * Everything under `dir`, with contents, modes, times and link targets, to
 * compare before and after. Folders carry their change time too, so an entry
 * made and removed again shows. FIFOs are noted, never opened.
 *
 * @param dir The folder.
 * @param skip A path under it to leave out (the root, when snapshotting the outside).
 * @returns One line per entry.
 */
export async function snapshot(dir: string, skip?: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (d: string) => {
    const names = (await Array.fromAsync(Deno.readDir(d))).map((e) => e.name).sort();
    for (const name of names) {
      const p = `${d}/${name}`;
      if (p === skip) continue;
      const info = await Deno.lstat(p);
      if (info.isSymlink) lines.push(`${p} -> ${await Deno.readLink(p)}`);
      else if (info.isFifo) lines.push(`${p} fifo ${info.mode}`);
      else if (info.isDirectory) {
        lines.push(`${p}/ ${info.mode} ${info.mtime?.getTime()} ${info.ctime?.getTime()}`);
        await walk(p);
      } else lines.push(`${p} ${info.mode} ${info.mtime?.getTime()} ${await Deno.readTextFile(p)}`);
    }
  };
  await walk(dir);
  return lines.join("\n");
}

/**
 * Runs one verb on one path.
 *
 * @param client The session.
 * @param verb The verb.
 * @param path The path.
 * @returns What came back, as text to scan for the secret.
 */
export async function run(client: BftpClient, verb: Verb, path: string): Promise<string> {
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
    case "MGET": {
      // The path with a good one after it: the answer to the second shows the session in step.
      const sinks = [new MemoryWriter(), new MemoryWriter()];
      const outcomes: (BodyResult | RemoteError | LocalIoError)[] = [];
      await client.getMany([path, "/inside.txt"], {
        open: (i) => Promise.resolve(sinks[i]!),
        done: (i, outcome) => Promise.resolve(void (outcomes[i] = outcome)),
      });
      if (outcomes[0] instanceof RemoteError) throw outcomes[0];
      if (!(outcomes[1] && "size" in outcomes[1])) throw new Error("MGET's second file failed");
      return decoder.decode(sinks[0]!.bytes) + JSON.stringify(outcomes[0]);
    }
    case "HASH":
      return JSON.stringify(await client.hash(path));
    case "BLOCKS": {
      const { digests, ...reply } = await client.blocks(path, 4096);
      return JSON.stringify({ ...reply, digests: [...digests] });
    }
    case "PUT": {
      const body = encoder.encode(PAYLOAD);
      return JSON.stringify(
        await client.put(path, new MemoryReader(body), { size: body.byteLength }),
      );
    }
    case "PUT delta": {
      // A delta PUT of the target's version as STAT gives it, keeping no block: the target is
      // read (its link followed, inside the root) before the new file is made beside it.
      const { size } = await client.stat(path);
      const body = encoder.encode(PAYLOAD);
      const hash = await createChecksum("xxh3-128");
      hash.update(body);
      const delta = {
        size: body.byteLength,
        base: { size, mtime: null },
        blockSize: 4096,
        reuse: [],
        whole: hash.digest(),
      };
      return JSON.stringify(
        await client.putDelta(path, new MemoryReader(body), body.byteLength, delta),
      );
    }
    case "MPUT": {
      const data = encoder.encode(PAYLOAD);
      const outcomes: (BodyResult | RemoteError)[] = [];
      await client.putMany([{ path, data, mtime: null, mode: null }], true, (i, outcome) => {
        outcomes[i] = outcome;
      });
      if (outcomes[0] instanceof RemoteError) throw outcomes[0];
      return JSON.stringify(outcomes[0]);
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
    case "SETSTAT":
      await client.setStat(path, { mtime: 1_000_000_000_000, mode: 0o751 });
      return "";
  }
}

/**
 * Empties the served root and builds it again. The folder itself stays:
 * the server holds it open, as it was when it started.
 *
 * @param root The served folder.
 * @param base The folder that holds it.
 */
export async function rebuildRoot(root: string, base: string): Promise<void> {
  for (const entry of [...Deno.readDirSync(root)]) {
    await Deno.remove(`${root}/${entry.name}`, { recursive: true });
  }
  await buildRoot(root, base);
}
