/**
 * The names of the hidden files a download keeps beside its destination
 * (its temporary file, a resumable download's partial file and state):
 * `.NAME` plus a suffix, with NAME shortened when it is long, so that the
 * hidden name stays within the 255 bytes a file name may have even when
 * NAME itself uses them all.
 *
 * @module
 */

import { sha256Hex } from "../checksum.ts";

/** NAME is kept whole up to this many UTF-8 bytes. */
const KEEP_BYTES = 120;

const encoder = new TextEncoder();

/**
 * The stem of the hidden files beside a destination named `name`: `.name`,
 * or for a name over 120 bytes its first bytes (whole characters), `~` and
 * 16 hex digits of its SHA-256, so that two long names sharing a beginning
 * still get different stems.
 *
 * @param name The destination's file name (no folder).
 * @returns The stem, starting with a dot.
 *
 * @example
 * ```ts
 * import { hiddenStem } from "./hidden_names.ts";
 * import { deepEqual, ok } from "node:assert/strict";
 *
 * deepEqual(hiddenStem("a.iso"), ".a.iso");
 * const long = hiddenStem("é".repeat(127)); // 254 bytes
 * ok(new TextEncoder().encode(long).byteLength <= 1 + 120 + 17);
 * ok(long.startsWith(".éé") && /~[0-9a-f]{16}$/.test(long));
 * ```
 */
export function hiddenStem(name: string): string {
  if (encoder.encode(name).byteLength <= KEEP_BYTES) return `.${name}`;
  let kept = "";
  let bytes = 0;
  for (const ch of name) {
    const n = encoder.encode(ch).byteLength;
    if (bytes + n > KEEP_BYTES) break;
    kept += ch;
    bytes += n;
  }
  const digest = sha256Hex(name).slice(0, 16);
  return `.${kept}~${digest}`;
}
