/**
 * One transfer of a check, a PUT or a GET: timed and sampled by a
 * {@linkcode TransferMeter}, what arrived hashed and compared with the
 * source, and written down as an {@linkcode IterationRecord}. A failure is
 * recorded, not thrown.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { BftpClient } from "../client/client.ts";
import { BftpError, IntegrityError } from "../errors.ts";
import type { ByteWriter } from "../framing/types.ts";
import { hashLocalFile } from "./files.ts";
import type { Measurement, TransferMeter } from "./meter.ts";
import type { CheckFile, Direction, IterationRecord } from "./types.ts";

/** What a transfer needs from the run around it. */
export interface TransferContext {
  /** The session, opened again when a failure dropped it. */
  connect(): Promise<BftpClient>;
  /** Drops the session after a failure. */
  hangUp(): void;
  /** Measures the transfer. */
  meter: TransferMeter;
  /** Where GET bodies go: a local file (`"file"`), or nowhere, only hashed (`"discard"`). */
  getSink: "file" | "discard";
  /** The server's copy of a remote path on this machine, or `null` when the server is not ours. */
  localPath(remote: string): string | null;
  /** Set when the run is interrupted: a failure is then reported as "Interrupted". */
  signal?: AbortSignal | undefined;
}

/** Which transfer to make. */
export interface TransferStep {
  /** The source file. */
  file: CheckFile;
  /** PUT or GET. */
  direction: Direction;
  /** The iteration, from 1. */
  iteration: number;
  /** The remote path. */
  remote: string;
  /** Where a GET writes the body, or `null` for nowhere. */
  dest: string | null;
}

/** What a transfer found out, filled in as it goes. */
interface Attempt {
  outcome: IterationRecord["outcome"];
  error: string | null;
  bytes: number;
  actual: string | null;
  stored: string | null;
  measured: Measurement | null;
}

/** A GET sink that hashes what arrives and writes it to a file (or nowhere). */
function hashingSink(file: Deno.FsFile | null) {
  const hash = createHash("sha256");
  let bytes = 0;
  const sink: ByteWriter = {
    write: (p) => {
      hash.update(p);
      bytes += p.byteLength;
      if (file === null) return Promise.resolve(p.byteLength);
      try {
        // Synchronous writes: async FsFile.write costs about 100 us a call here.
        return Promise.resolve(file.writeSync(p));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
  return {
    sink,
    get bytes() {
      return bytes;
    },
    digest: () => hash.digest("hex"),
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Whether `e` is a transfer's failure (recorded) rather than a bug (thrown). */
function isTransferFailure(e: unknown): boolean {
  return e instanceof BftpError || e instanceof Deno.errors.NotFound ||
    e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe;
}

async function put(context: TransferContext, step: TransferStep, attempt: Attempt) {
  const client = await context.connect();
  using local = await Deno.open(step.file.path, { read: true });
  context.meter.start();
  const result = await client.put(step.remote, local, {
    size: step.file.size,
    onProgress: context.meter.tick,
  });
  attempt.measured = context.meter.stop();
  attempt.bytes = result.size;
  // Outside the measured time: what the server has now, from its disk when it is ours.
  const onDisk = context.localPath(step.remote);
  attempt.stored = onDisk === null
    ? (await client.hash(step.remote)).sha256
    : (await hashLocalFile(onDisk)).sha256;
  // The hash the server confirmed is the session's checksum: SHA-256 only in a SHA-256 session.
  attempt.actual = result.checksum === "sha256" ? result.hash : attempt.stored;
}

async function get(context: TransferContext, step: TransferStep, attempt: Attempt) {
  const client = await context.connect();
  using local = step.dest !== null && context.getSink === "file"
    ? await Deno.open(step.dest, { write: true, create: true, truncate: true })
    : null;
  const sink = hashingSink(local);
  context.meter.start();
  let refused: IntegrityError | null = null;
  try {
    await client.get(step.remote, sink.sink, { onProgress: context.meter.tick });
  } catch (e) {
    // The client's own check failed: the body arrived whole but not as sent.
    if (!(e instanceof IntegrityError)) throw e;
    refused = e;
  }
  attempt.measured = context.meter.stop();
  attempt.bytes = sink.bytes;
  attempt.actual = sink.digest();
  if (refused !== null) {
    attempt.outcome = "mismatch";
    attempt.error = refused.message;
    context.hangUp();
  }
}

/** Compares what arrived (and what the server stored) with the source. */
function judge(file: CheckFile, attempt: Attempt): void {
  if (attempt.outcome !== "ok") return;
  const { bytes, actual, stored } = attempt;
  if (actual !== file.sha256 || bytes !== file.size) {
    attempt.outcome = "mismatch";
    attempt.error = `${bytes} bytes arrived with SHA-256 ${actual}, expected ${file.size} bytes ` +
      `with SHA-256 ${file.sha256}`;
  } else if (stored !== null && stored !== file.sha256) {
    attempt.outcome = "mismatch";
    attempt.actual = stored;
    attempt.error = `The server stored a file with SHA-256 ${stored}, expected ${file.sha256}`;
  }
}

/**
 * Makes one PUT or GET, measured and checked. A failure of the transfer
 * (the server's refusal, a cut connection, an unreadable source) is
 * recorded and drops the session; a bug is thrown.
 *
 * @param context The session, the meter, where bodies go.
 * @param step Which file, which way, which iteration.
 * @returns The record of the transfer.
 *
 * @example
 * ```ts
 * import { measureTransfer } from "./measured_transfer.ts";
 * import { TransferMeter } from "./meter.ts";
 * import { BftpClient } from "../client/client.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const meter = new TransferMeter({ sampleServer: () => null, collectGarbage: false });
 * const context = {
 *   connect: () => Promise.reject(new Deno.errors.ConnectionReset("Gone")) as Promise<BftpClient>,
 *   hangUp: () => {},
 *   meter,
 *   getSink: "discard" as const,
 *   localPath: () => null,
 * };
 * const file = { name: "a", path: "/nonexistent", size: 1, sha256: "0".repeat(64), origin: "user" as const };
 * const record = await measureTransfer(context, { file, direction: "get", iteration: 1, remote: "/a", dest: null });
 * deepEqual([record.outcome, record.error], ["error", "Gone"]);
 * ```
 */
export async function measureTransfer(
  context: TransferContext,
  step: TransferStep,
): Promise<IterationRecord> {
  const attempt: Attempt = {
    outcome: "ok",
    error: null,
    bytes: 0,
    actual: null,
    stored: null,
    measured: null,
  };
  try {
    await (step.direction === "put" ? put : get)(context, step, attempt);
    judge(step.file, attempt);
  } catch (e) {
    if (!isTransferFailure(e)) throw e;
    if (attempt.measured === null) {
      if (!context.meter.running) context.meter.start();
      attempt.measured = context.meter.stop();
    }
    attempt.outcome = "error";
    attempt.error = context.signal?.aborted ? "Interrupted" : messageOf(e);
    context.hangUp();
  }
  const { bytes, outcome, measured } = attempt;
  const m = measured!;
  return {
    file: step.file.name,
    direction: step.direction,
    iteration: step.iteration,
    bytes,
    mbps: outcome === "ok" && bytes > 0 && m.seconds > 0 ? bytes / m.seconds / 1e6 : null,
    outcome,
    error: attempt.error,
    expectedSha256: step.file.sha256,
    actualSha256: attempt.actual,
    storedSha256: attempt.stored,
    ...m,
  };
}

/**
 * The record of a GET that was not made (its PUT failed): an error with no
 * bytes and no time, and the memory of both sides now.
 *
 * @param file The source file.
 * @param iteration The iteration, from 1.
 * @param error Why it was not made.
 * @param meter Reads the client and the server.
 * @returns The record.
 *
 * @example
 * ```ts
 * import { skippedGet } from "./measured_transfer.ts";
 * import { TransferMeter } from "./meter.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const meter = new TransferMeter({ sampleServer: () => null });
 * const file = { name: "a", path: "a", size: 1, sha256: "0".repeat(64), origin: "user" as const };
 * const record = skippedGet(file, 1, "Not run", meter);
 * deepEqual([record.direction, record.outcome, record.serverCpu], ["get", "error", null]);
 * ```
 */
export function skippedGet(
  file: CheckFile,
  iteration: number,
  error: string,
  meter: TransferMeter,
): IterationRecord {
  const { client, server } = meter.sampleNow();
  return {
    file: file.name,
    direction: "get",
    iteration,
    bytes: 0,
    seconds: 0,
    mbps: null,
    outcome: "error",
    error,
    expectedSha256: file.sha256,
    actualSha256: null,
    storedSha256: null,
    clientCpu: { user: 0, system: 0 },
    serverCpu: server === null ? null : { user: 0, system: 0 },
    clientRss: client.rssBytes,
    clientRssPeak: client.rssBytes,
    serverRss: server?.rssBytes ?? null,
    serverRssPeak: server?.rssBytes ?? null,
  };
}
