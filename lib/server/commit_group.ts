/**
 * Group commit for pipelined uploads: when a client sends many PUTs at
 * once, the server takes the uploads whose bodies have arrived into a
 * group and commits them together when the pipeline pauses (no request
 * left to read, another kind of request, or the group full), so that their
 * flushes to disk are made in parallel: a fresh 4 KiB file's fsync costs
 * about 0.3 ms here, and each upload flushes its data and its folder. Each
 * upload is answered only once it has landed and been flushed, exactly as
 * alone, and answers keep the order of the requests.
 *
 * A full group lands in the background while the next one fills: the
 * session reads on and writes the next temporaries while the group's
 * flushes wait for the disk (two `syncfs` of about 1 ms for 64 files on
 * ext4 here, which stalled the session's reads for 0.3 s of a 5,000-file
 * upload). A group is full at 64 uploads or 8 MiB. One group lands at a
 * time, in order; anything else the session answers, or a request that
 * must see the uploads, waits for it ({@linkcode CommitGroup.commit}).
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { OkReply, Reply } from "../protocol/messages.ts";
import type { PutDoneFields } from "../protocol/replies.ts";
import type { GroupedUpload, ServedRoot } from "../root/served_root.ts";
import { MAX_GROUP, MAX_GROUP_BYTES } from "./limits.ts";

/** How a {@linkcode CommitGroup} answers and logs. */
export interface CommitGroupIo {
  /** Sends a reply that echoes `id`. */
  send(reply: Reply, id: number | undefined): Promise<void>;
  /** Writes one line to the server's log; none for a quiet session (no line is made). */
  log?: ((line: string) => void) | undefined;
  /** Sends what is held: a group landed in the background flushes its answers. */
  flush(): Promise<void>;
}

/** An upload waiting in the group, with what its answer and log line need. */
interface Pending extends GroupedUpload {
  reply: PutDoneFields;
  id: number | undefined;
  line: string;
  started: number;
}

/**
 * One session's commit group.
 *
 * @example
 * ```ts
 * import { CommitGroup } from "./commit_group.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const root = await ServedRoot.open(dir);
 * const sent: unknown[] = [];
 * const group = new CommitGroup(root, {
 *   send: (reply, id) => (sent.push({ ...reply, id }), Promise.resolve()),
 *   log: () => {},
 *   flush: () => Promise.resolve(),
 * });
 * const upload = await root.beginUpload("/a.txt", true);
 * await upload.sink.write(new TextEncoder().encode("hi"));
 * const reply = { size: 2, sha256: "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4" };
 * equal(await group.offer({ upload, attributes: {} }, reply, 7), true);
 * await group.commit();
 * deepEqual(sent, [{ ...reply, ok: true, id: 7 }]);
 * equal(await Deno.readTextFile(`${dir}/a.txt`), "hi");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class CommitGroup {
  readonly #root: ServedRoot;
  readonly #io: CommitGroupIo;
  #pending: Pending[] = [];
  /** The bytes of the uploads in `#pending`. */
  #bytes = 0;
  /** The group landing in the background (at most one), settled once it is answered. */
  #landing: Promise<void> | null = null;
  /** A background landing's failure (the stream broke while answering), thrown at the next step. */
  #failure: unknown = undefined;

  /**
   * @param root The served folder.
   * @param io How to answer and log.
   */
  constructor(root: ServedRoot, io: CommitGroupIo) {
    this.#root = root;
    this.#io = io;
  }

  /**
   * Takes an upload whose body arrived whole, to commit and answer later;
   * refused when the root does not flush to disk (nothing to share). A full
   * group is committed first.
   *
   * @param upload The upload and its attributes.
   * @param reply The success reply's fields.
   * @param id The request's id, echoed in the answer.
   * @returns Whether the group took it (else the caller commits it now).
   */
  async offer(
    upload: GroupedUpload,
    reply: PutDoneFields,
    id: number | undefined,
  ): Promise<boolean> {
    if (!this.#root.durable) return false;
    // A full group starts landing; uploads land in the order they were sent, group after group.
    if (this.#pending.length >= MAX_GROUP || this.#bytes >= MAX_GROUP_BYTES) {
      await this.#startLanding();
    }
    this.#bytes += reply.size;
    this.#pending.push({ ...upload, id, reply, line: "", started: performance.now() });
    return true;
  }

  /** Whether no upload waits in the group and none is landing. */
  get idle(): boolean {
    return this.#pending.length === 0 && this.#landing === null;
  }

  /** Sets the log line of the upload taken last (its request, outcome and size). */
  describeLast(line: string): void {
    const last = this.#pending.at(-1);
    if (last) last.line = line;
  }

  /**
   * Lands every upload taken (the group landing and the one filling), each
   * answered and logged in order: afterwards the tree shows them all.
   *
   * @throws When a background landing could not answer (the stream broke).
   */
  async commit(): Promise<void> {
    await this.#startLanding();
    await this.#landed();
  }

  /** Starts landing the uploads taken, once the group landing before them has. */
  async #startLanding(): Promise<void> {
    await this.#landed();
    if (this.#pending.length === 0) return;
    const group = this.#pending.splice(0);
    this.#bytes = 0;
    this.#landing = this.#land(group).catch((e) => {
      this.#failure = e;
    });
  }

  /** Waits for the group landing, if any; throws its failure. */
  async #landed(): Promise<void> {
    if (this.#landing !== null) {
      await this.#landing;
      this.#landing = null;
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Commits `group`, then answers and logs each of its uploads, in order, and sends the answers. */
  async #land(group: Pending[]): Promise<void> {
    const errors = await this.#root.commitUploads(group);
    // A quiet session's: none, and no line is made (an optional call skips its argument).
    const { log } = this.#io;
    for (const [i, pending] of group.entries()) {
      const e = errors[i];
      const ms = () => (performance.now() - pending.started).toFixed(1);
      if (e === undefined) {
        await this.#io.send({ ...pending.reply, ok: true } as OkReply, pending.id);
        log?.(`${pending.line} ${ms()}ms (group of ${group.length})`);
        continue;
      }
      const code = e instanceof RemoteError ? e.code : "SERVER";
      const message = e instanceof RemoteError ? e.message : "Internal server error";
      // An MPUT's file answers with its index, its error too.
      const index = "index" in pending.reply ? { index: pending.reply.index } : {};
      await this.#io.send({ ok: false, code, message, ...index } as Reply, pending.id);
      log?.(`${pending.line.replace(/ ok( |$)/, ` ${code}$1`)} ${ms()}ms`);
    }
    await this.#io.flush();
  }

  /**
   * Drops the uploads of the group filling (the stream broke: nobody to
   * answer; their targets stay as they were), after the one landing lands.
   */
  async abort(): Promise<void> {
    this.#bytes = 0;
    for (const { upload } of this.#pending.splice(0)) await upload.abort();
    await this.#landing;
    this.#landing = null;
  }
}

/**
 * Whether `reading` settles before the event loop turns once more (a read
 * the stream answers from bytes already arrived), or waits (nothing there).
 * A session lands its group before a read that waits, not before one that
 * does not: a client's batch of uploads arrives in many reads of the
 * stream, and landing at each cut the groups to about 10 uploads (5,000 of
 * 4 KiB: 483 groups, 966 `syncfs` of about 0.4 ms each on ext4). Costs
 * about 10 us a read. `reading` is observed, failure included: the caller
 * awaits it afterwards for its result.
 *
 * @param reading The read, started.
 * @returns `true` when it settled at once.
 *
 * @example
 * ```ts
 * import { settlesAtOnce } from "./commit_group.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(await settlesAtOnce(Promise.resolve(1)), true);
 * let wake = () => {};
 * const waits = new Promise<void>((resolve) => wake = resolve);
 * equal(await settlesAtOnce(waits), false);
 * wake();
 * ```
 */
export function settlesAtOnce(reading: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 0);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    reading.then(settled, settled);
  });
}
