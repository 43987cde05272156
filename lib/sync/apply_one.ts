/**
 * A file of a sync sent on its own, not many to a request (`apply_many.ts`):
 * a large one, a changed one that goes as a delta (`delta.ts`: only the
 * blocks that differ), or one whose permission bits alone changed.
 *
 * @module
 */

import type { BftpClient } from "../client/client.ts";
import { setStatFields } from "../client/folder_attributes.ts";
import { downloadTreeFile, uploadFile } from "../client/local.ts";
import type { LocalTransferOptions } from "../client/local_options.ts";
import type { Lander } from "../local_file/lander.ts";
import { applyAttributesHere } from "../local_file/attributes.ts";
import { IntegrityError, localIoError, RemoteError } from "../errors.ts";
import { stillTheSame } from "./apply_many.ts";
import { byDelta, pullDelta, pushDelta } from "./delta.ts";
import type { SyncSend } from "./plan.ts";

/**
 * Uploads one file of a sync, and checks that it did not change while it
 * was read: a file written to meanwhile may have gone as a mix of old and
 * new bytes, so it is reported (the next sync sends it again, its time
 * being newer). A file whose time or bits alone differ (`attributesOnly`)
 * is given them with SETSTAT instead, where the server offers it: no body,
 * 0 bytes sent. A large changed file goes as a delta where the server offers
 * it (`delta.ts`): only the blocks that differ.
 *
 * @param client The session.
 * @param send The file, and why it goes.
 * @param options Progress, `preserve` and the file callback.
 * @param setstat The server takes SETSTAT (and the session may write).
 * @param deltas A changed large file may go as a delta (not `-W`).
 * @returns The bytes sent.
 * @throws {IntegrityError} When the file changed while it was sent.
 *
 * @example
 * ```ts
 * import { pushFile } from "./apply_one.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const file = { local: `${dir}/a.txt`, remote: "/a.txt", relative: "a.txt", size: 5 };
 * equal(await pushFile(client, { kind: "new", file }, { preserve: true }, true, true), 5);
 * equal(await Deno.readTextFile(`${dir}/served/a.txt`), "hello");
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pushFile(
  client: BftpClient,
  send: SyncSend,
  options: LocalTransferOptions,
  setstat: boolean,
  deltas: boolean,
): Promise<number> {
  const { file } = send;
  if (send.attributesOnly && setstat) {
    // Only the time or bits differ: they go without the body (as rsync changes them in place).
    await client.setStat(file.remote, setStatFields(file));
    return 0;
  }
  // The plain file the walk listed: a link put in its place since is refused, not followed.
  const noLink = file.link !== true;
  const look = () =>
    Deno.stat(file.local).catch((e) => {
      throw localIoError("read", file.local, e);
    });
  const before = await look();
  const delta = send.kind === "changed" && deltas && byDelta(client, file.size)
    ? await pushDelta(client, file.local, file.remote, {
      mtime: file.mtime ?? undefined,
      mode: file.mode ?? undefined,
    }, noLink).catch(changedMeanwhile)
    : null;
  const result = delta?.result ??
    await uploadFile(client, file.local, file.remote, { ...options, listed: true, noLink });
  const after = await look();
  if (
    after.size !== result.size || before.size !== result.size ||
    after.mtime?.getTime() !== before.mtime?.getTime()
  ) {
    throw new IntegrityError(
      `"${file.local}" changed while it was sent: sync again to send it whole`,
    );
  }
  if (delta) options.onFile?.(file.local, file.remote, delta.result);
  return delta?.sent ?? result.size;
}

/** A delta refused because the other side's copy changed since its blocks were read: sent whole instead. */
function changedMeanwhile(e: unknown): null {
  if (e instanceof RemoteError && e.code === "CHANGED") return null;
  throw e;
}

/**
 * Downloads one file of a sync over its local copy: a large changed one as
 * a delta where the server offers it (`delta.ts`), else whole, verified and
 * landed atomically; a large one that changed on the server while it came
 * is reported and nothing lands.
 *
 * @param client The session.
 * @param send The file, and why it comes.
 * @param options Progress, `preserve`, the file callback and the local tree.
 * @param present The names in its local folder from a listing just made, if any.
 * @param lander The landing thread of the sync's small files, if any.
 * @param deltas A changed large file may come as a delta (not `-W`).
 * @returns The bytes fetched.
 * @throws {IntegrityError} When the remote file changed while it came.
 *
 * @example
 * ```ts
 * import { pullFile } from "./apply_one.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { startServer } from "../server/server.ts";
 * import { equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/served`);
 * await Deno.writeTextFile(`${dir}/served/a.txt`, "hello");
 * const server = startServer({ root: await ServedRoot.open(`${dir}/served`), port: 0 });
 * const client = await BftpClient.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const file = { local: `${dir}/a.txt`, remote: "/a.txt", relative: "a.txt", size: 5 };
 * const send = { kind: "new" as const, file };
 * equal(await pullFile(client, send, {}, undefined, undefined, true), 5);
 * equal(await Deno.readTextFile(`${dir}/a.txt`), "hello");
 * await client.quit();
 * await server.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function pullFile(
  client: BftpClient,
  send: SyncSend,
  options: LocalTransferOptions,
  present: ReadonlySet<string> | undefined,
  lander: Lander | undefined,
  deltas: boolean,
): Promise<number> {
  const { file } = send;
  // Only the time or bits differ: given to the local file itself; a link in its place is
  // replaced by the download below instead.
  const attributes = { mtime: file.mtime ?? null, mode: file.mode ?? null };
  const entry = options.tree?.at(file.local) ?? file.local;
  if (send.attributesOnly && applyAttributesHere(entry, attributes, "file")) return 0;
  if (send.kind === "changed" && deltas && byDelta(client, file.size)) {
    const delta = await pullDelta(client, file.remote, file.local, attributes, options.tree)
      .catch(changedMeanwhile);
    if (delta) {
      options.onFile?.(file.remote, file.local, delta.result);
      return delta.fetched;
    }
  }
  const got = await downloadTreeFile(
    client,
    file.remote,
    file.local,
    { ...options, beforeCommit: stillTheSame(client, file.remote) },
    present,
    lander,
  );
  return got.size;
}
