/**
 * The landing thread of {@linkcode Lander} (`lander.ts`): lands each small
 * verified body it is sent as a new file, atomically (`land_whole.ts`), and
 * answers with its id and, on failure, the one-line error.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { landWhole } from "./land_whole.ts";
import type { LandAnswer, LandMessage } from "./lander.ts";
import { LocalTree } from "./local_tree.ts";

/** Lands one body; the answer names what failed. */
async function land(m: LandMessage, tree: LocalTree | undefined): Promise<LandAnswer> {
  try {
    await landWhole(m.path, m.data, { ...m, tree });
    return { id: m.id };
  } catch (e) {
    return { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
}

self.onmessage = async (e: MessageEvent<LandMessage[]>) => {
  const answers: LandAnswer[] = [];
  // A batch's tree is held for the batch: nothing stays open when the thread is stopped.
  const shared = e.data[0]?.tree;
  const tree = shared === undefined ? undefined : LocalTree.fromShared(shared);
  try {
    for (const m of e.data) answers.push(await land(m, tree));
  } finally {
    tree?.[Symbol.dispose]();
  }
  self.postMessage(answers);
};
