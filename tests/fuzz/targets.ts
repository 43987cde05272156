/**
 * The decoders under fuzzing. For each one: a fast-check arbitrary of random
 * and mutated inputs, and a runner that feeds one input to the real decoder
 * (over an in-memory stream, in the chunks the input says) and checks it
 * against an independent reference decoder written from docs/PROTOCOL.md.
 * Shared by the property test (tests/fuzz/decoder_property_test.ts, a few
 * thousand inputs per run) and `scripts/fuzz` (100,000 and more).
 *
 * The targets live in modules of their own: tests/fuzz/message_targets.ts
 * (requests and replies, with the reference request decoder in
 * reference_request.ts), frame_targets.ts (size-header frames and delimited
 * messages) and body_target.ts (file bodies), on the machinery of
 * fuzz_core.ts. This module re-exports them and lists them in
 * {@linkcode TARGETS}.
 *
 * What every run checks:
 * - the decoder returns a value or throws one of the typed protocol errors
 *   (`ProtocolError`, `UnexpectedEofError`, `IntegrityError`); anything else
 *   (a `TypeError`, a `RangeError`...) is a {@linkcode Violation};
 * - its answer is the reference decoder's: the same messages, the same kind
 *   of error at the same place;
 * - it never asks its stream for more bytes at once than its limit allows
 *   (the reads are recorded: `readExact` allocates the announced size and
 *   reads into it, so the largest read is the largest allocation), and a
 *   size over the limit is refused having read nothing past its header.
 *
 * Never hanging is the caller's part: each run is raced against a timer
 * ({@linkcode runWithTimeout}), and `scripts/fuzz` also watches its worker
 * from outside, which catches a loop that never yields.
 *
 * @module
 */

import type { FuzzTarget } from "./fuzz_core.ts";
import { decodeReplyTarget, decodeRequestTarget } from "./message_targets.ts";
import {
  readDelimitedTarget,
  readSizedNarrowTarget,
  readSizedWideTarget,
} from "./frame_targets.ts";
import { receiveBodyTarget } from "./body_target.ts";

export {
  type FuzzTarget,
  mutated,
  type Outcome,
  type RunReport,
  runWithTimeout,
  showBytes,
  Violation,
} from "./fuzz_core.ts";
export { decodeReplyTarget, decodeRequestTarget, requestArb } from "./message_targets.ts";
export {
  type DelimitedInput,
  readDelimitedTarget,
  readSizedNarrowTarget,
  readSizedWideTarget,
  type SizedInput,
} from "./frame_targets.ts";
export { type BodyInput, receiveBodyTarget } from "./body_target.ts";

/** Every target, in the order reports list them. */
export const TARGETS: readonly FuzzTarget<unknown>[] = [
  decodeRequestTarget,
  decodeReplyTarget,
  readSizedNarrowTarget,
  readSizedWideTarget,
  readDelimitedTarget,
  receiveBodyTarget,
];
