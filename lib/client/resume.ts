/**
 * Resumable transfers on the client's side. A resumable download keeps
 * what has arrived in `.NAME.bftp-partial` beside the destination, with
 * the version of the remote file it came from in `.NAME.bftp-partial.json`;
 * the next `get --resume` asks for the rest of that same version (the
 * server refuses with CHANGED if the file changed) and checks the whole
 * file's hash, in the session's checksum, before renaming the partial file
 * into place. A resumable upload names itself to the server by the
 * source's SHA-256, whatever the session's checksum.
 *
 * @module
 */

import { applyServerAttributes, newFileMode } from "../local_file/attributes.ts";
import { modeOf } from "../local_file/atomic_file.ts";
import { hiddenStem } from "../local_file/hidden_names.ts";
import { openOwnFile, writeOwnText } from "../local_file/own_file.ts";
import type { LocalTree } from "../local_file/local_tree.ts";
import { sameFile } from "../local_file/lock.ts";
import { basename, dirname, join } from "../local_path.ts";
import { BftpError, IntegrityError, LocalIoError, localIoError, RemoteError } from "../errors.ts";
import type { FileVersion } from "../protocol/messages.ts";
import { hashPrefix } from "../file_hash.ts";
import type { BodyResult } from "../transfer/body.ts";
import type { BftpClient, PutOptions, TransferOptions } from "./client.ts";
import type { LocalTransferOptions } from "./local_options.ts";

/** The suffix of a resumable download's partial file: `.NAME.bftp-partial`. */
export const PARTIAL_SUFFIX = ".bftp-partial";

/** The suffix of its state file, the partial file's name and `.json`: `.NAME.bftp-partial.json`. */
export const PARTIAL_STATE_SUFFIX = `${PARTIAL_SUFFIX}.json`;

/** What `.NAME.bftp-partial.json` holds: the remote file the partial file is part of. */
export interface PartialState {
  /** The remote path. */
  path: string;
  /** The remote file's version when the download started. */
  version: FileVersion;
}

/**
 * Where a resumable download into `dest` keeps its partial file and state.
 *
 * @param dest The destination file.
 * @returns The partial file and its state file, beside `dest`.
 *
 * @example
 * ```ts
 * import { partialPaths } from "./resume.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(partialPaths("dl/a.iso"), {
 *   partial: "dl/.a.iso.bftp-partial",
 *   state: "dl/.a.iso.bftp-partial.json",
 * });
 * ```
 */
export function partialPaths(dest: string): { partial: string; state: string } {
  const partial = join(dirname(dest), partialName(basename(dest)));
  return { partial, state: `${partial}.json` };
}

/**
 * The name of the partial file of a download named `name` (its state
 * file's is this and `.json`), for a look in a folder's listing.
 *
 * @param name The destination's name.
 * @returns The partial file's name.
 *
 * @example
 * ```ts
 * import { partialName } from "./resume.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(partialName("a.iso"), ".a.iso.bftp-partial");
 * ```
 */
export function partialName(name: string): string {
  return `${hiddenStem(name)}${PARTIAL_SUFFIX}`;
}

/**
 * A resumable download's state file, read: the remote file its partial
 * file is part of; `null` when there is none or it is not one.
 *
 * @param path The state file (`.NAME.bftp-partial.json`).
 * @param shown What errors call it (its path as the user knows it, where `path` goes through a folder's descriptor).
 * @returns The state, or `null`.
 * @throws {LocalIoError} When it is there and cannot be read.
 *
 * @example
 * ```ts
 * import { readPartialState } from "./resume.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(await readPartialState("/nonexistent/.a.bftp-partial.json"), null);
 * ```
 */
export async function readPartialState(path: string, shown = path): Promise<PartialState | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw localIoError("read", shown, e);
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const v = o.version as Record<string, unknown> | undefined;
    if (
      typeof o.path !== "string" || typeof v !== "object" || v === null ||
      typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0 ||
      !(v.mtime === null || typeof v.mtime === "number")
    ) {
      return null;
    }
    const version: FileVersion = { size: v.size, mtime: v.mtime as number | null };
    if (typeof v.sha256 === "string" && /^[0-9a-f]{64}$/.test(v.sha256)) version.sha256 = v.sha256;
    return { path: o.path, version };
  } catch {
    return null; // Unreadable: start over.
  }
}

/**
 * Removes a resumable download's partial file and state, if any (after a
 * plain download has replaced the destination, or when they are stale).
 *
 * @param dest The destination file.
 *
 * @example
 * ```ts
 * import { discardPartial, partialPaths } from "./resume.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const { partial } = partialPaths(`${dir}/a`);
 * await Deno.writeTextFile(partial, "half");
 * await discardPartial(`${dir}/a`);
 * deepEqual([...Deno.readDirSync(dir)].length, 0);
 * await Deno.remove(dir);
 * ```
 */
export async function discardPartial(dest: string): Promise<void> {
  const { partial, state } = partialPaths(dest);
  for (const p of [partial, state]) {
    await Deno.remove(p).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw localIoError("remove", p, e);
    });
  }
}

/**
 * Removes what a resumable download of `dest` kept, if anything, without
 * waiting on the I/O pool (called once per file of a tree); failures are
 * ignored: a stale partial file is only looked at by a later `--resume`,
 * which checks it.
 *
 * @param dest The destination file.
 * @param tree The download's tree `dest` is in, if held: removed relative to its folder.
 *
 * @example
 * ```ts
 * import { discardPartialSync, partialPaths } from "./resume.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(partialPaths(`${dir}/a`).state, "{}");
 * discardPartialSync(`${dir}/a`);
 * deepEqual([...Deno.readDirSync(dir)].length, 0);
 * await Deno.remove(dir);
 * ```
 */
export function discardPartialSync(dest: string, tree?: LocalTree): void {
  const { partial, state } = partialPaths(dest);
  for (const p of [partial, state]) {
    try {
      if (tree === undefined) Deno.removeSync(p);
      else tree.removeFile(p);
    } catch {
      // Not there (the usual case), or not removable: either way nothing to do now.
    }
  }
}

/**
 * The version a resumed download asks for: the one its partial file came
 * from, or, when the remote file has the same size and only a new
 * modification time (a `touch`, a copy that kept the content), the new one,
 * if the server's SHA-256 of it is still the one recorded: the content is
 * what matters, as rsync's checksums see it.
 */
async function touchedButSame(
  client: BftpClient,
  remote: string,
  version: FileVersion,
): Promise<FileVersion> {
  if (version.sha256 === undefined) return version;
  const now = await client.stat(remote);
  if (now.type !== "file" || now.size !== version.size || now.mtime === version.mtime) {
    return version;
  }
  const { sha256 } = await client.hash(remote);
  return sha256 === version.sha256 ? { ...version, mtime: now.mtime } : version;
}

/**
 * Downloads one remote file to `dest`, resumably: continues the partial
 * file a cut download left (when it is part of the same remote path and
 * version), verifies the whole file's hash, and only then renames it to
 * `dest`. On a cut or any local failure the partial file and its state
 * stay for the next attempt; on an integrity failure, or when the remote
 * file changed, they are removed.
 *
 * @param client A connected client.
 * @param remote The remote path.
 * @param dest The local file to create or replace.
 * @param options Progress and per-file callbacks.
 * @returns The whole file's size and verified hash.
 * @throws {BftpError} CHANGED (exit 9) when the remote file is no longer the
 * version the partial file came from.
 *
 * @example
 * ```ts
 * import { downloadResumable, partialPaths } from "./resume.ts";
 * import { BftpClient } from "./client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/served/a.txt`, "hello world");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * // A cut download left the first 5 bytes, and the version they came from.
 * const { size, mtime } = await client.stat("/a.txt");
 * const { partial, state } = partialPaths(`${dir}/a.txt`);
 * await Deno.writeTextFile(partial, "hello");
 * await Deno.writeTextFile(state, JSON.stringify({ path: "/a.txt", version: { size, mtime } }));
 * let from: number | undefined;
 * const progress = (_label: string, _size: number | null, offset?: number) => (from = offset, {});
 * const result = await downloadResumable(client, "/a.txt", `${dir}/a.txt`, { progress });
 * deepEqual([result.size, from], [11, 5]);
 * deepEqual(await Deno.readTextFile(`${dir}/a.txt`), "hello world");
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function downloadResumable(
  client: BftpClient,
  remote: string,
  dest: string,
  options: LocalTransferOptions = {},
): Promise<BodyResult> {
  // In a tree, DEST's folder is held by a descriptor of its own and named through it: a folder
  // swapped for a link meanwhile leads none of its files elsewhere.
  using held = heldFolder(options.tree, dest);
  return await resumeAt(client, remote, { dest, at: held?.path ?? dest }, options);
}

/** DEST through its folder's descriptor, from a tree; a folder not reached is DEST's failure. */
function heldFolder(tree: LocalTree | undefined, dest: string) {
  try {
    return tree?.throughFolder(dest);
  } catch (e) {
    throw localIoError("write", dest, e);
  }
}

/** {@linkcode downloadResumable}, its files named from `at` (DEST, or a path through its folder's descriptor). */
async function resumeAt(
  client: BftpClient,
  remote: string,
  where: { dest: string; at: string },
  options: LocalTransferOptions,
): Promise<BodyResult> {
  const { dest, at } = where;
  const { partial, state: statePath } = partialPaths(at);
  // The names errors tell: DEST's, not the path through a descriptor.
  const shown = partialPaths(dest);
  const state = await readPartialState(statePath, shown.state);
  let file: Deno.FsFile;
  try {
    // Never through a link planted under the partial's name (a folder others write to).
    file = await openOwnFile(partial);
  } catch (e) {
    throw localIoError("write", shown.partial, e);
  }
  let keep = true;
  let locked = false;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      file.close();
    }
  };
  try {
    if (!(await file.tryLock(true))) {
      throw new LocalIoError(`Cannot write "${dest}": another download into it is running`);
    }
    locked = true;
    let fetched: Fetched;
    try {
      fetched = await fetchRest(client, remote, file, {
        dest,
        statePath,
        shownState: shown.state,
        state,
        options,
      });
    } catch (e) {
      if (e instanceof RemoteError && e.code === "CHANGED") {
        keep = false;
        throw new BftpError(
          "CHANGED",
          `Cannot resume "${dest}": "${remote}" changed on the server since the download ` +
            `started; the partial download was discarded, run the command again to get the ` +
            `new version`,
        );
      }
      if (e instanceof IntegrityError) keep = false;
      throw e;
    }
    const own = await file.stat();
    close();
    try {
      const { attributes } = fetched;
      // Still the file written: a link swapped in meanwhile would become DEST.
      if (!sameFile(own, await Deno.lstat(partial))) {
        throw new LocalIoError(`Cannot write "${dest}": its partial file was replaced meanwhile`);
      }
      if (options.preserve && attributes !== undefined) applyServerAttributes(partial, attributes);
      // A replaced file keeps its bits; a new one gets the server's, less the umask.
      else Deno.chmodSync(partial, modeOf(at) ?? newFileMode(attributes?.mode));
      await Deno.rename(partial, at);
    } catch (e) {
      throw localIoError("write", dest, e);
    }
    keep = false;
    const result = { size: own.size, checksum: fetched.body.checksum, hash: fetched.body.hash };
    options.onFile?.(remote, dest, result);
    return result;
  } finally {
    close();
    // Refused before the server answered (DENIED, a lost session): no state names the partial
    // file, so nothing in it could be resumed; it goes (a running download's is left alone).
    if (keep && locked && !stateThere(statePath)) keep = false;
    if (!keep) await discardPartial(at).catch(() => {});
  }
}

/** Whether a partial download's state file is there. */
function stateThere(statePath: string): boolean {
  try {
    Deno.lstatSync(statePath);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** What {@linkcode fetchRest} brought: the body's result, and the file's time and bits. */
interface Fetched {
  body: BodyResult;
  attributes: { mtime: number | null; mode: number | null } | undefined;
}

/**
 * Fetches what the partial file lacks into it: from the end of what it
 * holds that still hashes as it did (the state names the same path and a
 * version at least that large), or the whole file when the server sends it
 * whole. Each reply's version is written to the state before any byte.
 */
async function fetchRest(
  client: BftpClient,
  remote: string,
  file: Deno.FsFile,
  at: {
    dest: string;
    statePath: string;
    /** The state file's name as errors tell it. */
    shownState: string;
    state: PartialState | null;
    options: LocalTransferOptions;
  },
): Promise<Fetched> {
  const { dest, statePath, shownState, state, options } = at;
  let offset = 0;
  const have = (await file.stat()).size;
  if (state !== null && state.path === remote && have <= state.version.size) offset = have;
  const prefix = await hashPrefix(file, offset, client.checksum);
  offset = prefix.bytes;
  await file.truncate(offset);
  await file.seek(offset, Deno.SeekMode.Start);
  let transfer: TransferOptions = {};
  let attributes: Fetched["attributes"];
  const expect = offset > 0 && state !== null
    ? await touchedButSame(client, remote, state.version)
    : undefined;
  const body = await client.get(remote, {
    write: (p) => {
      try {
        return Promise.resolve(file.writeSync(p));
      } catch (e) {
        return Promise.reject(localIoError("write", dest, e));
      }
    },
  }, {
    resume: expect === undefined ? undefined : { offset, expect, hash: prefix.hash },
    onReply: async (reply) => {
      if (reply.offset === 0 && offset > 0) {
        // The server sends the whole file: start over.
        await file.truncate(0);
        await file.seek(0, Deno.SeekMode.Start);
      }
      attributes = { mtime: reply.mtime, mode: reply.mode };
      const version: FileVersion = { size: reply.size, mtime: reply.mtime };
      const sha256 = reply.sha256 ?? (reply.offset > 0 ? state?.version.sha256 : undefined);
      if (sha256 !== undefined) version.sha256 = sha256;
      try {
        await writeOwnText(statePath, JSON.stringify({ path: remote, version }) + "\n");
      } catch (e) {
        throw localIoError("write", shownState, e);
      }
      transfer = options.progress?.(basename(dest), reply.size, reply.offset) ?? {};
    },
    onStart: (size) => transfer.onStart?.(size),
    onProgress: (n) => transfer.onProgress?.(n),
  });
  return { body, attributes };
}

/**
 * Prepares a local file for a resumable upload: hashes it whole (the
 * upload's name on the server) and rewinds it.
 *
 * @param file The open source file, at its start.
 * @param size Its size.
 * @param path Its path, for error messages.
 * @param stopped Asked between reads: `true` stops the hashing (the
 * session was closed: an interrupt), which a large file makes long.
 * @returns The `resume` option of {@linkcode BftpClient.put}.
 *
 * @example
 * ```ts
 * import { resumableSource } from "./resume.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * using file = await Deno.open(path);
 * const resume = await resumableSource(file, 5, path);
 * deepEqual(resume.sha256.slice(0, 8), "2cf24dba");
 * await Deno.remove(path);
 * ```
 */
export async function resumableSource(
  file: Deno.FsFile,
  size: number,
  path: string,
  stopped?: () => boolean,
): Promise<NonNullable<PutOptions["resume"]>> {
  const { hash, bytes } = await hashPrefix(file, size, "sha256", stopped);
  if (bytes !== size) {
    throw new LocalIoError(`Cannot read "${path}": it changed while being read`);
  }
  await file.seek(0, Deno.SeekMode.Start);
  return {
    sha256: hash.digest(),
    seek: async (offset) => {
      await file.seek(offset, Deno.SeekMode.Start);
    },
  };
}
