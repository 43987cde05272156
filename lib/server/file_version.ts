/**
 * Whether a file is still the version a request names: a resumed GET's
 * `expect`, a range's, a delta PUT's `base`. Each is refused with CHANGED
 * when the file is no longer that version, so nothing mixes two versions.
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { FileVersion } from "../protocol/messages.ts";
import { quotePath } from "../root/paths.ts";

/** What is known of the file as it is now (an opened file's). */
export interface CurrentVersion {
  /** Its size. */
  size: number;
  /** Its modification time (ms), or `null` when the system has none. */
  mtime: number | null;
  /** Its SHA-256, when remembered. */
  sha256?: string | undefined;
}

/**
 * Refuses (CHANGED) unless the file is the version `expect` names: the
 * same size, and the same time and SHA-256 where both sides know them.
 *
 * @param expect The version asked for, or `undefined` for any.
 * @param now The file as it is.
 * @param vpath The file, for the message.
 * @param what The version, for the message: "the version being resumed".
 * @throws {RemoteError} CHANGED.
 *
 * @example
 * ```ts
 * import { checkVersion } from "./file_version.ts";
 * import { throws } from "node:assert/strict";
 *
 * checkVersion({ size: 2, mtime: null }, { size: 2, mtime: 5 }, "/a", "the base version");
 * throws(() => checkVersion({ size: 3, mtime: 5 }, { size: 2, mtime: 5 }, "/a", "the base version"), /has changed/);
 * ```
 */
export function checkVersion(
  expect: FileVersion | undefined,
  now: CurrentVersion,
  vpath: string,
  what: string,
): void {
  if (expect === undefined) return;
  const same = expect.size === now.size &&
    (expect.mtime === null || now.mtime === null || expect.mtime === now.mtime) &&
    (expect.sha256 === undefined || now.sha256 === undefined || expect.sha256 === now.sha256);
  if (!same) throw new RemoteError("CHANGED", `${quotePath(vpath)} has changed: it is not ${what}`);
}
